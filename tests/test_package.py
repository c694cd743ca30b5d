"""The package a user installs: the sdist and wheel a release builds, their metadata, and the wheel on its own.

Builds with `python -m build` (as .github/workflows/release.yml does), checks the metadata with `twine check
--strict` (what PyPI renders), then installs the wheel into a fresh virtualenv and runs kfinstall from outside the
repository: the pins file must come from the wheel, not from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def wheel_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the built wheel and its dependencies, installed as README's offline path does:
    a wheelhouse made where an index is reachable, then `pip install --no-index --find-links wheelhouse`."""
    root = tmp_path_factory.mktemp("venv")
    (wheel,) = dist.glob("*.whl")
    house = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(root / "wheelhouse"), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert house.returncode == 0, house.stderr[-2000:]
    venv = root / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    offline = ["--no-index", "--find-links", str(root / "wheelhouse"), "kfinstall"]
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *offline], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return venv


def _outside_the_repo(venv: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update({k: v for k, v in os.environ.items() if k in ("TMPDIR",)})
    return subprocess.run(
        [str(venv / "bin" / "kfinstall"), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_sdist_and_wheel_metadata_pass_twine_check(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True
    )

    assert len(files) == 2 and result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_carries_the_pins_file_and_the_license(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert "kfinstall/data/manifests_pins.yaml" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_the_installed_wheel_carries_the_compiled_verify_pipelines(wheel_venv: Path, tmp_path: Path) -> None:
    """`verify --pipeline`/`--gpu` read them as package data (kfinstall/gateway/pipelines/*.yaml): the KFP v2
    pipelines and the Argo Workflows for KFP 1.x."""
    code = (
        "from kfinstall.gateway import pipelines as p; "
        "print(p.spec(p.CPU)['pipelineInfo']['name'], p.spec(p.GPU)['pipelineInfo']['name'], "
        "p.workflow(p.CPU)['kind'], p.workflow(p.GPU)['kind'])"
    )
    env = {"PATH": f"{wheel_venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run([str(wheel_venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "kfinstall-verify kfinstall-verify-gpu Workflow Workflow\n"), (
        result.stderr
    )


def test_the_version_has_one_source(wheel_venv: Path, tmp_path: Path) -> None:
    from kfinstall import __version__

    metadata = subprocess.run(
        [str(wheel_venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('kfinstall'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    printed = _outside_the_repo(wheel_venv, tmp_path, "--version")

    assert metadata.stdout.strip() == __version__
    assert printed.stdout.strip() == f"kfinstall {__version__}"


def test_the_installed_wheel_lists_the_pinned_releases_outside_the_repository(wheel_venv: Path, tmp_path: Path) -> None:
    result = _outside_the_repo(wheel_venv, tmp_path, "versions")

    assert result.returncode == 0, result.stderr
    assert "v1.4.0" in result.stdout and "v1.11.0" in result.stdout


def test_the_installed_wheel_plans_an_install_outside_the_repository(wheel_venv: Path, tmp_path: Path) -> None:
    result = _outside_the_repo(wheel_venv, tmp_path, "plan", "-k", "v1.10.2", "--profile", "minimal")

    assert result.returncode == 0, result.stderr
    assert "Kubeflow v1.10.2, profile minimal" in result.stdout
    assert "minikube start -p kubeflow --kubernetes-version=v1.32.0" in result.stdout


def test_the_installed_wheel_judges_a_plan_by_the_requests_it_ships(wheel_venv: Path, tmp_path: Path) -> None:
    result = _outside_the_repo(wheel_venv, tmp_path, "plan", "-k", "v1.10.2", "--profile", "minimal")

    assert result.returncode == 0, result.stderr
    assert "measured from the manifests at v1.10.2 (shipped with kfinstall)" in result.stdout
