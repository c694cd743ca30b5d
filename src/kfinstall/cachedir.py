"""Where kfinstall keeps its cache (manifests checkouts, builds, locks): one function, so that the modules that
use the directory (manifests/checkout.py, manifests/build.py, locks.py) need not import one another for it."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$KFINSTALL_CACHE_DIR`, else the platform's user cache directory (`~/.cache/kfinstall` on Linux)."""
    override = os.environ.get("KFINSTALL_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kfinstall", appauthor=False))
