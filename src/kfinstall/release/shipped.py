"""Where the data files shipped with kfinstall are: the pins and the measured requests.

The wheel carries them under `kfinstall/data/` (pyproject.toml `force-include`); an editable install or a
checkout reads them at the repository root, where they are written and reviewed.
"""

from __future__ import annotations

from pathlib import Path


def shipped_file(name: str) -> Path:
    """The data file `name` inside the installed wheel, else the repository root's (editable install, checkout)."""
    package = Path(__file__).resolve().parents[1]  # src/kfinstall (this module is kfinstall/release/shipped.py)
    packaged = package / "data" / name
    return packaged if packaged.is_file() else package.parents[1] / name
