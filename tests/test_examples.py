"""examples/: the Kubeflow Pipelines example compiles, and only its training step asks for a GPU.

kfp is not a dependency of kfinstall (it is in the `examples` and `test` extras), so the example is compiled here
with the real kfp compiler and the resulting pipeline spec is read the way the KFP backend reads it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.paths import REPO_ROOT

pytest.importorskip("kfp", reason="kfp is installed by the test extra: pip install -e '.[test]'")

EXAMPLE = REPO_ROOT / "examples" / "gpu_pipeline.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_pipeline_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = load_example().compile_to(tmp_path_factory.mktemp("pipeline") / "gpu_pipeline.yaml")
    return yaml.safe_load(path.read_text())


def executor_resources(compiled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    executors = compiled["deploymentSpec"]["executors"]
    return {name.removeprefix("exec-"): spec["container"].get("resources", {}) for name, spec in executors.items()}


def test_the_pipeline_runs_preprocess_then_train_then_evaluate(compiled: dict[str, Any]) -> None:
    tasks = compiled["root"]["dag"]["tasks"]
    assert set(tasks) == {"preprocess", "train", "evaluate"}
    assert tasks["train"]["dependentTasks"] == ["preprocess"]
    assert sorted(tasks["evaluate"]["dependentTasks"]) == ["preprocess", "train"]


def test_only_the_training_step_requests_a_gpu(compiled: dict[str, Any]) -> None:
    accelerators = {name: res.get("accelerator") for name, res in executor_resources(compiled).items()}
    assert accelerators["preprocess"] is None and accelerators["evaluate"] is None
    train = accelerators["train"]
    assert (train["resourceType"], train["resourceCount"]) == ("nvidia.com/gpu", "1")


def test_cpu_steps_use_a_small_image_and_training_a_cuda_one(compiled: dict[str, Any]) -> None:
    executors = compiled["deploymentSpec"]["executors"]
    assert executors["exec-preprocess"]["container"]["image"] == "python:3.11-slim"
    assert "cuda" in executors["exec-train"]["container"]["image"]


class LocalArtifact:
    """What a KFP step sees of an artifact: a local `path` (and `log_metric` for Metrics)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.metrics: dict[str, float] = {}

    def log_metric(self, name: str, value: float) -> None:
        self.metrics[name] = value


def test_the_cpu_steps_prepare_data_and_score_a_model(tmp_path: Path) -> None:
    example = load_example()
    dataset, model, metrics = (LocalArtifact(tmp_path / name) for name in ("data.csv", "model.json", "metrics"))
    example.preprocess.python_func(rows=500, dataset=dataset)
    Path(model.path).write_text('{"w": 3.0, "b": 2.0}')  # the line the data was drawn around
    example.evaluate.python_func(dataset=dataset, model=model, metrics=metrics)
    assert len(Path(dataset.path).read_text().splitlines()) == 500
    assert metrics.metrics["mse"] == pytest.approx(0.01, rel=0.3)  # the noise's variance (sigma 0.1)
