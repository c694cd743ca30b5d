"""A Kubeflow Pipelines (KFP SDK v2) pipeline that holds the GPU only while it trains.

    preprocess (CPU) -> train (1 x nvidia.com/gpu) -> evaluate (CPU)

Kubernetes gives a pod a GPU only when the pod asks for one, and keeps it until the pod ends. Asking for it on the
training step alone leaves the GPU free for other work while data is prepared and the model is scored.

Compile it to the YAML you upload in the Kubeflow dashboard (Pipelines > Upload pipeline):

    pip install 'kfp>=2.7,<3'
    python examples/gpu_pipeline.py            # writes gpu_pipeline.yaml next to this file

See examples/README.md for the whole walk-through after `kfinstall up --gpus all`.
"""

# No `from __future__ import annotations`: kfp reads the components' parameter types at runtime.
import sys
from pathlib import Path

from kfp import compiler, dsl

CPU_IMAGE = "python:3.11-slim"
#: Any image with a CUDA build of PyTorch; the NVIDIA runtime adds the driver libraries when the pod gets a GPU.
GPU_IMAGE = "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime"


@dsl.component(base_image=CPU_IMAGE)
def preprocess(rows: int, dataset: dsl.Output[dsl.Dataset]) -> None:
    """Make a small regression data set (y = 3x + 2 + noise): stands in for reading and cleaning real data."""
    import random

    rng = random.Random(0)
    with open(dataset.path, "w") as out:
        for _ in range(rows):
            x = rng.uniform(-1, 1)
            out.write(f"{x},{3 * x + 2 + rng.gauss(0, 0.1)}\n")


@dsl.component(base_image=GPU_IMAGE)
def train(dataset: dsl.Input[dsl.Dataset], epochs: int, model: dsl.Output[dsl.Model]) -> str:
    """Fit y = wx + b on the GPU; fails loudly if the pod did not get one (no silent CPU fallback)."""
    import json

    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("no GPU visible in the training pod: is the NVIDIA device plugin running?")
    device = torch.device("cuda")
    with open(dataset.path) as data:
        pairs = [tuple(map(float, line.split(","))) for line in data]
    x = torch.tensor([[p[0]] for p in pairs], device=device)
    y = torch.tensor([[p[1]] for p in pairs], device=device)
    layer = torch.nn.Linear(1, 1).to(device)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(layer(x), y)
        loss.backward()
        optimizer.step()
    with open(model.path, "w") as out:
        json.dump({"w": layer.weight.item(), "b": layer.bias.item()}, out)
    return torch.cuda.get_device_name(0)


@dsl.component(base_image=CPU_IMAGE)
def evaluate(dataset: dsl.Input[dsl.Dataset], model: dsl.Input[dsl.Model], metrics: dsl.Output[dsl.Metrics]) -> None:
    """Score the model on the CPU: reading two numbers back needs no GPU."""
    import json

    with open(model.path) as saved:
        params = json.load(saved)
    with open(dataset.path) as data:
        pairs = [tuple(map(float, line.split(","))) for line in data]
    mse = sum((params["w"] * x + params["b"] - y) ** 2 for x, y in pairs) / len(pairs)
    metrics.log_metric("mse", mse)
    metrics.log_metric("w", params["w"])
    metrics.log_metric("b", params["b"])


@dsl.pipeline(name="gpu-only-where-needed", description="Preprocess and evaluate on CPU; train on one GPU.")
def gpu_pipeline(rows: int = 2000, epochs: int = 200) -> None:
    data = preprocess(rows=rows).set_cpu_limit("1").set_memory_limit("1G")
    trained = train(dataset=data.outputs["dataset"], epochs=epochs)
    trained.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)  # the only step that holds the GPU
    trained.set_cpu_limit("2").set_memory_limit("4G")
    evaluate(dataset=data.outputs["dataset"], model=trained.outputs["model"]).set_cpu_limit("1").set_memory_limit("1G")


def compile_to(path: Path) -> Path:
    compiler.Compiler().compile(gpu_pipeline, str(path))
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("gpu_pipeline.yaml")
    print(compile_to(target))
