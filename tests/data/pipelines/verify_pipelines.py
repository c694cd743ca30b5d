"""The source of the pipelines `kfinstall verify --pipeline` and `--gpu` submit, compiled by the kfp SDK (2.x) into
the KFP v2 IR YAML that kfinstall ships (src/kfinstall/gateway/pipelines/). kfinstall itself never imports kfp.

tests/test_verify_pipeline.py compiles this and compares it with the shipped files, so nobody edits them by hand:
after a change here (or a new kfp SDK), regenerate them with

    .venv/bin/python tests/data/pipelines/verify_pipelines.py

One task each, a container component as upstream's own smallest test pipelines are (kubeflow/pipelines
test_data/sdk_compiled_pipelines/valid/hello_world.py; the GPU one as gpu-scheduling/nvidia_gpu_scheduling_check.py,
without its toleration: minikube's GPU node has no taint). Caching is off so that every verify runs a pod, not a
cached result. The GPU step runs `nvidia-smi` in the image `kfinstall gpu-test` uses (src/kfinstall/kube/gpu.py:
the NVIDIA container runtime mounts the host's nvidia-smi into it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kfp import compiler, dsl

SHIPPED = Path(__file__).resolve().parents[3] / "src" / "kfinstall" / "gateway" / "pipelines"
CPU_IMAGE = "python:3.12-slim"
GPU_IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04"


@dsl.container_component
def say_hello():
    return dsl.ContainerSpec(image=CPU_IMAGE, command=["echo"], args=["hello from kfinstall verify"])


@dsl.container_component
def show_gpu():
    return dsl.ContainerSpec(image=GPU_IMAGE, command=["nvidia-smi"], args=[])


@dsl.pipeline(name="kfinstall-verify", description="kfinstall verify --pipeline: one CPU step that echoes.")
def cpu_pipeline():
    say_hello().set_caching_options(False).set_cpu_limit("500m").set_memory_limit("256M")


@dsl.pipeline(name="kfinstall-verify-gpu", description="kfinstall verify --gpu: one step that asks for a GPU.")
def gpu_pipeline():
    show_gpu().set_caching_options(False).set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)


PIPELINES = {"cpu.yaml": cpu_pipeline, "gpu.yaml": gpu_pipeline}


def compile_to(directory: Path) -> None:
    for name, pipeline in PIPELINES.items():
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(directory / name))


if __name__ == "__main__":
    compile_to(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED)
