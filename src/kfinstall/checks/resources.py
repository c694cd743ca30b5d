"""Verdicts on what the cluster gets from the machine: CPUs, memory, and the host's inotify limits. Pure."""

from __future__ import annotations

from kfinstall.checks.request import CheckResult
from kfinstall.minikube.units import format_mb
from kfinstall.release import minikube_support
from kfinstall.release.pins import Release

#: The inotify limits the Kubeflow README (v1.9.1 and later) asks for; older READMEs give none, but the pods are
#: just as many, so the same values are used for them.
README_INOTIFY = {"max_user_instances": 2280, "max_user_watches": 1255360}


def check_cpus(asked: int | None, recommended: int, host: int | None, profile: str) -> CheckResult:
    wanted = asked or recommended
    required = f"{recommended} recommended for {profile}"
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
    if wanted < recommended:
        return CheckResult(
            "cpus",
            "warn",
            found,
            required,
            f"fewer CPUs than the {profile} profile is meant for: pods may start slowly",
            f"use --cpus {recommended}, or --profile minimal",
        )
    return CheckResult("cpus", "ok", found, required, "enough")


def check_memory(asked: int | None, recommended: int, host: int | None, profile: str) -> CheckResult:
    wanted = asked or recommended
    required = f"{format_mb(recommended)} recommended for {profile}"
    found = f"{format_mb(wanted)} asked, {format_mb(host) if host is not None else '?'} available"
    if wanted < minikube_support.MIN_MEMORY_MB:
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"minikube refuses less than {minikube_support.MIN_MEMORY_MB} MB",
            f"use --memory {recommended}mb",
        )
    if host is not None and wanted > host:
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"{format_mb(wanted)} asked but only {format_mb(host)} available",
            f"use --memory {host}mb or less"
            + (", and --profile minimal" if asked is None and profile != "minimal" else ""),
        )
    if wanted < recommended:
        return CheckResult(
            "memory",
            "warn",
            found,
            required,
            f"less memory than the {profile} profile is meant for: pods may stay Pending",
            f"use --memory {recommended}mb, or --profile minimal",
        )
    return CheckResult("memory", "ok", found, required, "enough")


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
