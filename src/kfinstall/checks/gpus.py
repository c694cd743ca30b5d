"""Verdicts on `--gpus`: the NVIDIA driver, the driver minikube uses, docker's nvidia runtime, and whether the
local minikube knows the value. Pure."""

from __future__ import annotations

from kfinstall import runner
from kfinstall.checks import toolversions
from kfinstall.checks.request import DEFAULT_DRIVER, CheckRequest, CheckResult, raw_output
from kfinstall.release import minikube_support
from kfinstall.runner import Result


def check_gpus(
    request: CheckRequest,
    nvidia_smi: Result | None,
    docker_info: toolversions.DockerInfo | None,
    minikube: Result | None,
) -> list[CheckResult]:
    results = []
    gpus = toolversions.parse_nvidia_smi_list(nvidia_smi.stdout) if nvidia_smi is not None else []
    if nvidia_smi is None:
        results.append(
            CheckResult(
                "gpu driver",
                "fail",
                "nvidia-smi not installed",
                "nvidia-smi lists a GPU",
                "no NVIDIA driver found",
                runner.INSTALL_HINTS["nvidia-smi"],
            )
        )
    elif not gpus:
        results.append(
            CheckResult(
                "gpu driver",
                "fail",
                raw_output(nvidia_smi),
                "nvidia-smi lists a GPU",
                "nvidia-smi lists no GPU",
                "install or repair the NVIDIA driver until `nvidia-smi -L` lists your GPU",
            )
        )
    else:
        results.append(
            CheckResult("gpu driver", "ok", "; ".join(gpus), "nvidia-smi lists a GPU", f"{len(gpus)} GPU(s)")
        )
    if request.effective_driver != DEFAULT_DRIVER:
        results.append(
            CheckResult(
                "gpu driver support",
                "fail",
                f"--driver {request.effective_driver}",
                "--driver docker",
                "minikube passes GPUs through only with the docker driver",
                "use --driver docker",
            )
        )
    elif docker_info is not None and docker_info.reachable:
        if "nvidia" in docker_info.runtimes:
            results.append(
                CheckResult("docker nvidia runtime", "ok", ", ".join(docker_info.runtimes), "nvidia", "present")
            )
        else:
            results.append(
                CheckResult(
                    "docker nvidia runtime",
                    "fail",
                    ", ".join(docker_info.runtimes) or "none",
                    "nvidia",
                    "docker has no nvidia runtime, so containers cannot see the GPU",
                    "install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker`"
                    " and `sudo systemctl restart docker`",
                )
            )
    version = toolversions.parse_minikube_version(minikube.stdout).version if minikube is not None else None
    if version is not None:
        values = minikube_support.gpu_flag_values(version)
        if request.gpus not in values:
            why = (
                f"minikube {version} has no --gpus flag (added in {minikube_support.GPUS_SINCE})"
                if not values
                else f"minikube {version} accepts --gpus {', '.join(values)}, not {request.gpus}"
            )
            results.append(
                CheckResult(
                    "minikube --gpus",
                    "fail",
                    str(version),
                    f"≥ {minikube_support.GPUS_SINCE}",
                    why,
                    f"install minikube {minikube_support.GPUS_SINCE} or newer"
                    if not values
                    else f"use --gpus {values[0]}",
                )
            )
        else:
            results.append(
                CheckResult("minikube --gpus", "ok", str(version), f"≥ {minikube_support.GPUS_SINCE}", "supported")
            )
    return results
