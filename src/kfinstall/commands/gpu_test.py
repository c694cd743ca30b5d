"""`kfinstall gpu-test`: run a pod that requests one GPU and runs nvidia-smi; exit 0 only if it worked.

The pod and its verdict are `kube.gpu`'s; this is the command around them. Its whole output (progress, the
pod's log, the verdict) goes to stdout: it is the result a user pastes into a bug report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfinstall.commands.frame import Command

if TYPE_CHECKING:
    from kfinstall.kube.gpu import GpuTestResult
    from kfinstall.ui.messages import Voice


@dataclass(frozen=True)
class GpuTestRequest:
    context: str
    image: str
    timeout: float


@dataclass(frozen=True)
class GpuTest:
    result: GpuTestResult

    @property
    def exit_code(self) -> int:
        return 0 if self.result.ok else 1


def prepare(*, context: str | None, minikube_profile: str, image: str | None, timeout: float) -> GpuTestRequest:
    from kfinstall.kube import gpu
    from kfinstall.minikube.units import check_seconds

    check_seconds(timeout)
    from kfinstall.commands.options import require_cluster

    require_cluster("gpu-test", minikube_profile, context)
    return GpuTestRequest(context or minikube_profile, image or gpu.DEFAULT_TEST_IMAGE, timeout)


def gpu_test(request: GpuTestRequest, say: Voice) -> GpuTest:
    from kfinstall.kube import gpu
    from kfinstall.kube.kubectl import Kubectl

    kubectl = Kubectl(request.context)
    return GpuTest(gpu.run_gpu_test(kubectl, image=request.image, timeout=request.timeout, say=say.note))


def show(result: GpuTest) -> None:
    from kfinstall.ui import results

    results.show_gpu_test(result.result)


def as_json(result: GpuTest) -> dict[str, object]:
    from dataclasses import asdict

    return {**asdict(result.result), "ok": result.result.ok, "exit_code": result.exit_code}


COMMAND = Command(log="gpu-test", prepare=prepare, run=gpu_test, show=show, json=as_json, progress="stdout")
