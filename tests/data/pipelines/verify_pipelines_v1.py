"""The source of the pipelines `kfinstall verify --pipeline` and `--gpu` submit to Kubeflow v1.4.0's Pipelines (KFP
1.7, v1beta1 API), compiled by the kfp 1.8 SDK into the Argo Workflows that kfinstall ships
(src/kfinstall/gateway/pipelines/cpu-v1.yaml, gpu-v1.yaml). kfinstall itself never imports kfp.

kfp 1.x cannot be installed beside the kfp 2.x of the test environment, so it is run in a venv of its own:

    python3 -m venv /tmp/kfp1 && /tmp/kfp1/bin/pip install kfp==1.8.22
    /tmp/kfp1/bin/python tests/data/pipelines/verify_pipelines_v1.py

tests/test_verify_pipeline.py holds the shipped workflows to what this says (the images, commands, limits and
caching of the KFP v2 pipelines of verify_pipelines.py). The steps are those of the v2 pipelines: one echo on a CPU
image; `nvidia-smi` asking for one `nvidia.com/gpu`. Caching is off (`max_cache_staleness = "P0D"`, KFP 1.x's
cache server honours it: kubeflow/pipelines backend/src/cache/server/mutation.go).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kfp import compiler, dsl

SHIPPED = Path(__file__).resolve().parents[3] / "src" / "kfinstall" / "gateway" / "pipelines"
CPU_IMAGE = "python:3.12-slim"
GPU_IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04"


def _uncached(op: dsl.ContainerOp) -> dsl.ContainerOp:
    op.execution_options.caching_strategy.max_cache_staleness = "P0D"
    return op


@dsl.pipeline(name="kfinstall-verify", description="kfinstall verify --pipeline: one CPU step that echoes.")
def cpu_pipeline():
    op = dsl.ContainerOp(name="say-hello", image=CPU_IMAGE, command=["echo"], arguments=["hello from kfinstall verify"])
    _uncached(op).set_cpu_limit("500m").set_memory_limit("256M")


@dsl.pipeline(name="kfinstall-verify-gpu", description="kfinstall verify --gpu: one step that asks for a GPU.")
def gpu_pipeline():
    op = dsl.ContainerOp(name="show-gpu", image=GPU_IMAGE, command=["nvidia-smi"], arguments=[])
    _uncached(op).set_gpu_limit(1)


PIPELINES = {"cpu-v1.yaml": cpu_pipeline, "gpu-v1.yaml": gpu_pipeline}

if __name__ == "__main__":
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED
    for name, pipeline in PIPELINES.items():
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(directory / name))
