"""Does a plan fit, and which smaller plan does (checks/fit.py), and the CPU/memory verdicts built on it: pure."""

from __future__ import annotations

from kfinstall.checks import fit
from kfinstall.checks.fit import Demand
from kfinstall.checks.resources import check_cpus, check_memory
from kfinstall.manifests.requests import Requests

GI = 2**30
MI = 2**20


def demand(profile: str = "standard") -> Demand:
    """core (minimal: 2 GiB) + pipelines (3 GiB) + katib (1 GiB, needs pipelines' nothing) + ui (0.5 GiB, needs
    pipelines)."""
    by_component = {
        "core": Requests(cpu=1.0, memory=2 * GI),
        "pipelines": Requests(cpu=1.0, memory=3 * GI),
        "katib": Requests(cpu=0.5, memory=1 * GI),
        "ui": Requests(cpu=0.1, memory=GI // 2),
    }
    smaller = {"minimal": ("core",)} if profile == "standard" else {}
    return Demand(profile, by_component, {"ui": ("pipelines",), "katib": ("core",)}, smaller, frozenset({"core"}))


def test_a_new_minikube_holds_its_size_less_what_kube_system_requests() -> None:
    capacity = fit.minikube_capacity(4, 8192)
    assert (capacity.cpu, capacity.memory) == (3.25, 8192 * MI - 170 * MI)


def test_the_host_keeps_minikubes_one_gigabyte_for_the_system() -> None:
    assert fit.usable_host_memory_mb(6144) == 5120


def test_the_memory_needed_is_the_requests_with_kube_system_rounded_up_to_512_mb() -> None:
    assert fit.memory_mb_needed(Requests(memory=6 * GI)) == 6656  # 6144 + 170 -> 6656


def test_the_largest_smaller_profile_that_fits_is_suggested() -> None:
    assert demand().alternative(fit.minikube_capacity(4, 3072)) == "--profile minimal"


def test_the_fewest_optional_components_are_left_out_when_they_make_it_fit() -> None:
    # 6.5 GiB in all; 5.5 GiB of room: leaving out ui (0.5 GiB) is not enough, katib (1 GiB) is
    room = fit.Capacity(8, 5.5 * GI, "room")
    assert demand("full").alternative(room) == "--without katib"


def test_the_least_lost_of_equally_few_is_left_out() -> None:
    assert demand("full").alternative(fit.Capacity(8, 6 * GI, "room")) == "--without ui"


def test_a_component_is_left_out_only_with_what_depends_on_it() -> None:
    room = fit.Capacity(8, 3 * GI, "room")  # core and katib fit: pipelines goes, and ui (which needs it) with it
    assert demand("full").fewest_without(room) == ["pipelines", "ui"]


def test_the_minimal_profiles_components_are_never_suggested_to_leave_out() -> None:
    assert demand("full").alternative(fit.Capacity(8, GI, "room")) is None


def test_memory_a_minimal_plan_lacks_never_suggests_the_minimal_profile_again() -> None:
    minimal = Demand("minimal", {"core": Requests(cpu=1, memory=5 * GI)}, {}, {}, frozenset({"core"}))
    check = check_memory(4096, 8192, 32000, "minimal", minimal)
    assert check.status == "fail"
    # the pinned 8 GB (what the pods use), not only the 5.5 GB their requests need
    assert check.hint == "use --memory 8192mb (at most 30976mb: this machine less 1024 MB for the system)"
    assert "--profile minimal" not in (check.hint or "")


def test_without_measured_requests_minimal_is_not_suggested_to_a_minimal_plan() -> None:
    check = check_memory(4096, 8192, 32000, "minimal")
    assert check.status == "warn"
    assert "--profile minimal" not in (check.hint or "")


def test_a_small_host_never_gets_all_of_its_memory_suggested() -> None:
    check = check_memory(None, 8192, 6144, "minimal")
    assert check.status == "fail"
    assert "6144mb" not in (check.hint or "")
    assert check.hint is not None and check.hint.startswith("use --memory 5120mb")


def test_a_small_host_gets_the_smaller_plan_that_fits_in_what_it_can_give() -> None:
    check = check_memory(None, 12288, 6144, "standard", demand())
    assert check.hint == "use --memory 5120mb (this machine less 1024 MB for the system) with --profile minimal"


def test_measured_requests_that_fit_the_pinned_size_are_enough() -> None:
    check = check_memory(12288, 12288, 32000, "standard", demand())
    assert check.status == "ok"
    assert check.required == "12 GB pinned for standard; 6.7 GiB requested with kube-system, measured"


def test_requests_that_fit_less_than_the_pinned_size_warn_with_the_pinned_size() -> None:
    # many of Kubeflow's containers request nothing: the requests fit 8 GB, what the pods use may not
    check = check_memory(8192, 12288, 32000, "standard", demand())
    assert check.status == "warn"
    assert check.message.startswith("the pods' requests fit, but less memory than the standard profile is pinned")
    assert check.hint == "use --memory 12288mb (at most 30976mb: this machine less 1024 MB for the system)"


def test_a_host_that_holds_the_requests_but_not_the_pinned_size_gets_all_it_can_give() -> None:
    check = check_memory(None, 12288, 10240, "standard", demand())
    assert check.hint == (
        "use --memory 9216mb (this machine less 1024 MB for the system): the pods' requests fit, not the 12 GB pinned"
    )


def test_cpus_the_pods_request_beyond_the_cluster_fail_with_the_count_that_fits() -> None:
    check = check_cpus(2, 4, 16, "standard", demand())
    assert (check.status, check.hint) == ("fail", "use --cpus 4")


def pod(namespace: str, cpu: str, memory: str, phase: str = "Running", node: str = "n1") -> dict:
    container = {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    return {"metadata": {"namespace": namespace}, "spec": {"nodeName": node, "containers": [container]},
            "status": {"phase": phase}}  # fmt: skip


def test_an_existing_cluster_has_its_allocatable_less_what_running_pods_request() -> None:
    nodes = [{"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}]
    pods = [pod("kube-system", "750m", "170Mi"), pod("done", "1", "1Gi", phase="Succeeded"),
            pod("kubeflow", "1", "1Gi")]  # fmt: skip
    capacity = fit.cluster_capacity(nodes, pods, replaced={"kubeflow"})  # the install replaces kubeflow's pods
    assert (capacity.cpu, capacity.memory) == (3.25, 8 * GI - 170 * MI)
    assert capacity.what == "the cluster's node n1: allocatable less the 750m CPU, 170 MiB its pods request"


def test_an_unschedulable_node_gives_no_room() -> None:
    nodes = [{"metadata": {"name": "n1"}, "spec": {"unschedulable": True}, "status": {"allocatable": {"cpu": "4"}}}]
    assert fit.cluster_capacity(nodes, []).cpu == 0
