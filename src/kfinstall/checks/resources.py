"""Verdicts on what the cluster gets from the machine: CPUs, memory, and the host's inotify limits. Pure."""

from __future__ import annotations

from kfinstall.checks import fit
from kfinstall.checks.fit import Demand
from kfinstall.checks.request import CheckResult
from kfinstall.manifests.requests import Requests
from kfinstall.minikube.units import format_mb
from kfinstall.release import minikube_support
from kfinstall.release.pins import Release

#: The inotify limits the Kubeflow README (v1.9.1 and later) asks for; older READMEs give none, but the pods are
#: just as many, so the same values are used for them.
README_INOTIFY = {"max_user_instances": 2280, "max_user_watches": 1255360}


def _smaller_profile(profile: str) -> str | None:
    """The next smaller profile than `profile` (None for minimal: never suggest what the user already chose)."""
    from kfinstall.release.pins import PROFILES

    index = PROFILES.index(profile) if profile in PROFILES else 0
    return PROFILES[index - 1] if index > 0 else None


def _or_smaller(profile: str) -> str:
    smaller = _smaller_profile(profile)
    return f", or --profile {smaller}" if smaller else ", or leave components out with --without"


def _requested(amount: str, demand: Demand) -> str:
    """`; 5.4 GiB requested with kube-system, measured from the manifests at v1.10.2 (...)`: the figure and where
    it comes from, and the components it leaves out."""
    unmeasured = f"; {', '.join(demand.not_measured)} not measured" if demand.not_measured else ""
    return f"; {amount} requested with kube-system, {demand.source or 'measured'}{unmeasured}"


def check_cpus(
    asked: int | None, recommended: int, host: int | None, profile: str, demand: Demand | None = None
) -> CheckResult:
    """The CPUs minikube gets against minikube's minimum and the host, and against the plan's measured requests
    (`demand`; without it, the pins' per-profile figure)."""
    wanted = asked or recommended
    required = f"{recommended} pinned for {profile}" + (
        _requested(fit.cpu_text(demand.total.cpu + fit.SYSTEM.cpu), demand) if demand is not None else ""
    )
    found = f"{wanted} asked, {host if host is not None else '?'} available"
    if wanted < minikube_support.MIN_CPUS:
        return CheckResult("cpus", "fail", found, required, "minikube needs at least 2 CPUs", "use --cpus 2 or more")
    if host is not None and wanted > host:
        return CheckResult(
            "cpus",
            "fail",
            found,
            required,
            f"{wanted} CPUs asked but only {host} available",
            f"use --cpus {host}",
        )
    if demand is not None and not fit.minikube_capacity(wanted, 1 << 30).holds(Requests(cpu=demand.total.cpu)):
        needed = fit.cpus_needed(demand.total)
        if host is None or needed <= host:
            hint = f"use --cpus {needed}"
        else:
            alternative = demand.alternative(fit.minikube_capacity(host, 1 << 30))
            hint = f"use --cpus {host} with {alternative}" if alternative else "use a machine with more CPUs"
        return CheckResult(
            "cpus",
            "fail",
            found,
            required,
            f"the pods of {profile} request {fit.cpu_text(demand.total.cpu)} CPU: with {wanted} CPUs some stay "
            "Pending (Insufficient cpu)",
            hint,
        )
    if wanted < recommended:
        return CheckResult(
            "cpus",
            "warn",
            found,
            required,
            f"fewer CPUs than the {profile} profile is pinned at: pods may start slowly",
            f"use --cpus {min(recommended, host) if host else recommended}" + _or_smaller(profile),
        )
    return CheckResult("cpus", "ok", found, required, "enough")


def check_memory(
    asked: int | None, recommended: int, host: int | None, profile: str, demand: Demand | None = None
) -> CheckResult:
    """The memory minikube gets against minikube's minimum, the host less what the OS needs
    (`fit.HOST_MARGIN_MB`), the plan's measured requests (`demand`: the scheduler's view) and the pins' size for
    the profile (what its pods use: many of Kubeflow's containers request nothing, so requests alone undercount)."""
    wanted = asked or recommended
    usable = fit.usable_host_memory_mb(host) if host is not None else None
    required = f"{format_mb(recommended)} pinned for {profile}" + (
        _requested(fit.memory_text(demand.total.memory + fit.SYSTEM.memory), demand) if demand is not None else ""
    )
    found = f"{format_mb(wanted)} asked, {format_mb(host) if host is not None else '?'} available"
    if wanted < minikube_support.MIN_MEMORY_MB:
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"minikube refuses less than {minikube_support.MIN_MEMORY_MB} MB",
            f"use --memory {max(recommended, minikube_support.MIN_MEMORY_MB)}mb",
        )
    needed = fit.memory_mb_needed(demand.total) if demand is not None else None
    target = max(recommended, needed or 0)
    if host is not None and usable is not None and wanted > usable:
        status = "fail" if wanted > host else "warn"
        message = (
            f"{format_mb(wanted)} asked but only {format_mb(host)} available"
            if wanted > host
            else f"{format_mb(wanted)} leaves the system less than {fit.HOST_MARGIN_MB} MB (minikube warns the same)"
        )
        hint = _within_host(usable, target, needed, profile, demand)
        return CheckResult("memory", status, found, required, message, hint)
    if demand is not None and not fit.minikube_capacity(2, wanted).holds(Requests(memory=demand.total.memory)):
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"the pods of {profile} request {fit.memory_text(demand.total.memory)}: with {format_mb(wanted)} some "
            "stay Pending (Insufficient memory)",
            _within_host(usable, target, needed, profile, demand),
        )
    if wanted < recommended:
        fits = "the pods' requests fit, but " if demand is not None else ""
        return CheckResult(
            "memory",
            "warn",
            found,
            required,
            f"{fits}less memory than the {profile} profile is pinned at for what its pods use: pods may stay "
            "Pending or be evicted",
            _within_host(usable, target, needed, profile, demand),
        )
    return CheckResult("memory", "ok", found, required, "enough")


def _within_host(usable: int | None, target: int, needed: int | None, profile: str, demand: Demand | None) -> str:
    """The fix that stays within what the host can give (never all of its memory): the pinned size (at least what
    the pods request), else the most the host can give when the requests fit it, else that with a smaller plan."""
    margin = f"this machine less {fit.HOST_MARGIN_MB} MB for the system"
    if usable is None or target <= usable:
        return f"use --memory {target}mb" + ("" if usable is None else f" (at most {usable}mb: {margin})")
    if needed is not None and needed <= usable:
        return f"use --memory {usable}mb ({margin}): the pods' requests fit, not the {format_mb(target)} pinned"
    if demand is not None:
        alternative = demand.alternative(fit.minikube_capacity(64, usable))
        if alternative:
            return f"use --memory {usable}mb ({margin}) with {alternative}"
        return f"nothing of {profile} fits in {format_mb(usable)} ({margin}): use a machine with more memory"
    return f"use --memory {usable}mb ({margin})" + _or_smaller(profile)


def check_cluster_fit(demand: Demand, capacity: fit.Capacity) -> CheckResult:
    """An existing cluster (`--context`) against the plan's measured requests."""
    found = f"{fit.requests_text(capacity.requests)} free"
    required = f"{fit.requests_text(demand.total)} requested, {demand.source or 'measured'}" + (
        f"; {', '.join(demand.not_measured)} not measured" if demand.not_measured else ""
    )
    if capacity.holds(demand.total):
        return CheckResult("cluster resources", "ok", found, required, f"{capacity.what}: enough")
    short = " and ".join(capacity.short(demand.total))
    alternative = demand.alternative(capacity)
    return CheckResult(
        "cluster resources",
        "fail",
        found,
        required,
        f"{capacity.what}: not enough {short}, some pods would stay Pending",
        f"{alternative} fits" if alternative else "free some of the cluster, or add a node",
    )


def check_inotify(release: Release, values: dict[str, int]) -> CheckResult:
    wanted = release.inotify or README_INOTIFY
    low = {name: values.get(name, 0) for name, minimum in wanted.items() if values.get(name, 0) < minimum}
    found = ", ".join(f"{name}={values.get(name, '?')}" for name in wanted)
    required = ", ".join(f"{name} ≥ {minimum}" for name, minimum in wanted.items())
    if not low:
        return CheckResult("inotify limits", "ok", found, required, "enough for Kubeflow's pods")
    commands = "; ".join(f"sudo sysctl fs.inotify.{name}={wanted[name]}" for name in low)
    return CheckResult(
        "inotify limits",
        "warn",
        found,
        required,
        "too low: pods fail with 'too many open files' once many are running",
        commands + " (add them to /etc/sysctl.conf to keep them)",
    )
