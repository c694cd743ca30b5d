"""Entry point of the fake executables: `python tests/fakes/run.py TOOL ARGS...` (the bin/ wrappers call it).

Run as a script, so it puts the repository root on sys.path itself: the fakes then work from any cwd and
without PYTHONPATH, which would otherwise leak into every process the fakes start.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

MODULES = {"minikube": "minikube", "docker": "docker", "nvidia-smi": "nvidia_smi", "kustomize": "kustomize"}


def main() -> None:
    root = Path(__file__).resolve().parent.parent.parent
    # sys.path[0] is this script's directory, where `docker.py` would shadow any real `docker` package.
    sys.path[0] = str(root)
    tool = sys.argv[1]
    module = importlib.import_module(f"tests.fakes.{MODULES[tool]}")
    raise SystemExit(module.main(sys.argv[2:]))


if __name__ == "__main__":
    main()
