"""Where kfinstall keeps its cache (manifests checkouts, builds, locks, login sessions): here, so that the modules
that use the directory (manifests/checkout.py, manifests/build.py, locks.py, commands/client.py and down.py) need
not import one another for it."""

from __future__ import annotations

import os
import re
from pathlib import Path


def cache_root() -> Path:
    """`$KFINSTALL_CACHE_DIR`, else the platform's user cache directory (`~/.cache/kfinstall` on Linux)."""
    override = os.environ.get("KFINSTALL_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kfinstall", appauthor=False))


def session_dir(context: str) -> Path:
    """`sessions/CONTEXT` under the cache: `kfinstall client`'s cookie and token for a cluster, which `down`
    removes with it (a context name may hold `/` or `:`: EKS ARNs)."""
    return cache_root() / "sessions" / re.sub(r"[^A-Za-z0-9._-]", "_", context)


def state_root() -> Path:
    """`$KFINSTALL_STATE_DIR`, else the platform's user state directory (`~/.local/state/kfinstall` on Linux): what
    must outlive a cache clean-up, such as the resources an upgrade saved (`backups/CONTEXT/...`)."""
    override = os.environ.get("KFINSTALL_STATE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("kfinstall", appauthor=False))


def backup_dir(context: str, label: str) -> Path:
    """`backups/CONTEXT/LABEL` under the state directory (the context made safe as in `session_dir`)."""
    return state_root() / "backups" / re.sub(r"[^A-Za-z0-9._-]", "_", context) / label
