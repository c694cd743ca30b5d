"""Prerequisite checks: is this machine (or cluster) able to run the chosen Kubeflow release?

Two halves. `checks.gather` asks the tools (through `runner`, nothing else) and the host, and keeps their raw
answers in `Facts`. `evaluate` turns facts into verdicts and is pure, so every verdict is unit-tested on real
tool outputs; the verdicts live by subject in `checks.tools`, `checks.resources`, `checks.cluster`,
`checks.gpus` and `checks.images`. `run_checks` is the two together; `kfinstall check` renders its result and
`kfinstall up` calls it before touching anything. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kfinstall import runner
from kfinstall.checks import toolversions
from kfinstall.checks.cluster import check_cluster, check_release_kubernetes
from kfinstall.checks.fit import Demand, demand_for
from kfinstall.checks.gather import ClusterFacts, Facts, gather, gather_images, local_minikube_version
from kfinstall.checks.gpus import check_gpus
from kfinstall.checks.images import check_images
from kfinstall.checks.request import DEFAULT_DRIVER, CheckRequest, CheckResult, failed
from kfinstall.checks.resources import check_cpus, check_inotify, check_memory
from kfinstall.checks.tools import (
    check_docker,
    check_git,
    check_kubectl,
    check_kustomize,
    check_kustomize_defects,
    check_minikube,
)
from kfinstall.minikube.options import GPU_CHOICES, check_gpus_choice, refuse_minikube_options_with_context
from kfinstall.release import choice
from kfinstall.release.choice import ReleaseChoice
from kfinstall.release.pins import Pins

#: Imported from here by files of other layers until they import their own modules: `CheckRequest`, `failed` and
#: `release_choice` (install/up.py), `CheckResult` (ui/tables.py).
__all__ = [
    "GPU_CHOICES",
    "CheckRequest",
    "CheckResult",
    "ReleaseChoice",
    "build_request",
    "evaluate",
    "failed",
    "release_choice",
    "run_checks",
]


def release_choice(pins: Pins, kubeflow_version: str | None, context: str | None) -> ReleaseChoice:
    """The release a command works on and why (release/choice.py), for the minikube of this machine: asked only
    when `-k` and `--context` leave the choice to it. `check`, `up` and `plan` all choose so."""
    return choice.choose(pins, kubeflow_version, context, local_minikube_version)


def run_checks(request: CheckRequest) -> list[CheckResult]:
    """Every check for `request`, on this machine: `evaluate(request, gather(request))`, then the image rows
    (`request.images`), whose builds and registry requests run while the tools answer."""
    if not request.images:
        return evaluate(request, gather(request))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="images") as pool:
        image_facts = pool.submit(gather_images, request)
        results = evaluate(request, gather(request))
        return results + check_images(image_facts.result())


def evaluate(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    """The verdicts for `request` given `facts`, in the order a user should fix them.

    On minikube everything is about the machine and the Kubernetes version minikube will start. With
    `--context` the cluster exists: its own version replaces the requested one, and the host's CPUs, memory,
    inotify limits, docker and minikube do not matter.
    """
    results = _evaluate_cluster(request, facts) if request.context else _evaluate_minikube(request, facts)
    return [_explain_override(result, facts.broken_overrides) for result in results]


def _explain_override(result: CheckResult, broken: dict[str, str]) -> CheckResult:
    """A tool "not installed" because its KFINSTALL_<TOOL> override is wrong says so: that is what to fix."""
    if result.name in broken and result.found.startswith("not installed"):
        variable = runner.env_var_for(result.name)
        return replace(
            result,
            found=f"{variable}={broken[result.name]} is not an executable file",
            hint=f"point {variable} at the {result.name} executable, or unset it to use the one on PATH",
        )
    return result


def _evaluate_minikube(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    kubernetes = request.kubernetes
    docker_info = toolversions.parse_docker_info(facts.docker.stdout, facts.docker.stderr) if facts.docker else None
    results = [check_release_kubernetes(request.release, kubernetes, explicit=request.k8s_version is not None)]
    results.append(check_kustomize(request.release, facts.kustomize, facts.kubectl))
    results.extend(check_kustomize_defects(request, facts.kustomize, facts.kubectl))
    results.append(check_kubectl(facts.kubectl, kubernetes))
    results.append(check_minikube(request, facts.minikube, kubernetes))
    if request.effective_driver == DEFAULT_DRIVER:
        results.append(check_docker(facts.docker, docker_info))
    results.append(check_git(facts.git))
    host_cpus, host_memory = facts.host_cpus, facts.host_memory_mb
    if docker_info and docker_info.reachable:  # the docker driver gets what the daemon has, not the host
        host_cpus, host_memory = docker_info.cpus or host_cpus, docker_info.memory_mb or host_memory
    resources = request.release.resources_for(request.profile)
    demand = _demand(request, facts)
    results.append(check_cpus(request.cpus, resources.cpus, host_cpus, request.profile, demand))
    results.append(check_memory(request.memory_mb, resources.memory_mb, host_memory, request.profile, demand))
    if facts.inotify is not None:
        results.append(check_inotify(request.release, facts.inotify))
    if request.gpus:
        results.extend(check_gpus(request, facts.nvidia_smi, docker_info, facts.minikube))
    return results


def _demand(request: CheckRequest, facts: Facts) -> Demand | None:
    """The profile's measured requests as a Demand (None: the manifests were not measured)."""
    if facts.measured is None:
        return None
    from kfinstall.release.selection import select

    measured = facts.measured
    selection = select(request.release, request.profile)
    return demand_for(request.release, selection, request.profile, measured.by_component, measured.source,
                      measured.not_measured)  # fmt: skip


def _evaluate_cluster(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    cluster = facts.cluster or ClusterFacts()
    cluster_results = check_cluster(request, cluster)
    server = toolversions.parse_kubectl_server_version(cluster.version.stdout).version if cluster.version else None
    results = [check_kustomize(request.release, facts.kustomize, facts.kubectl)]
    results.extend(check_kustomize_defects(request, facts.kustomize, facts.kubectl))
    if server is not None:
        results.append(check_kubectl(facts.kubectl, server))
    elif facts.kubectl is None:
        results.append(check_kubectl(None, request.kubernetes))
    results.append(check_git(facts.git))
    fits = _cluster_fit(request, facts, cluster)
    return results + cluster_results + ([fits] if fits is not None and len(cluster_results) > 1 else [])


def _cluster_fit(request: CheckRequest, facts: Facts, cluster: ClusterFacts) -> CheckResult | None:
    """The measured requests against the cluster's free room (None: not measured, or the nodes unreadable)."""
    import json

    from kfinstall.checks.fit import cluster_capacity
    from kfinstall.checks.resources import check_cluster_fit
    from kfinstall.release.selection import select

    demand = _demand(request, facts)
    if demand is None or cluster.nodes is None or cluster.pods is None or not (cluster.nodes.ok and cluster.pods.ok):
        return None
    try:
        nodes, pods = json.loads(cluster.nodes.stdout)["items"], json.loads(cluster.pods.stdout)["items"]
    except (ValueError, KeyError, TypeError):
        return None
    selection = select(request.release, request.profile)
    replaced = {namespace for component in selection.components for namespace in component.namespaces}
    return check_cluster_fit(demand, cluster_capacity(nodes, pods, replaced))


def build_request(
    *,
    kubeflow_version: str | None = None,
    profile: str = "standard",
    pins_path: Path | None = None,
    cpus: str | int | None = None,
    memory: str | int | None = None,
    k8s_version: str | None = None,
    driver: str | None = None,
    gpus: str | None = None,
    context: str | None = None,
    images: bool = False,
) -> CheckRequest:
    """A CheckRequest from raw option values: pins loaded, release chosen, units parsed, nonsense refused."""
    from kfinstall.minikube.units import check_driver, parse_cpus, parse_memory_mb
    from kfinstall.release.pins import check_profile, load_pins

    check_profile(profile)
    check_gpus_choice(gpus)
    given = {"--cpus": cpus, "--memory": memory, "--driver": driver, "--gpus": gpus}
    refuse_minikube_options_with_context(context, given)
    cpus_value = parse_cpus(cpus) if cpus is not None else None
    memory_mb = parse_memory_mb(memory) if memory is not None else None
    if driver is not None:
        check_driver(driver)
    pins = load_pins(pins_path)
    if k8s_version is not None:  # a malformed --k8s-version is a usage error before any tool runs
        CheckRequest(release=pins.newest, k8s_version=k8s_version).kubernetes  # noqa: B018
    chosen = release_choice(pins, kubeflow_version, context)
    return CheckRequest(
        release=chosen.release,
        choice_reason=chosen.reason,
        profile=profile,
        cpus=cpus_value,
        memory_mb=memory_mb,
        k8s_version=k8s_version,
        driver=driver,
        gpus=gpus,
        context=context,
        pins=pins,
        images=images,
    )
