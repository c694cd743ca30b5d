"""The minikube cluster: start it with the release's settings, or reuse a compatible one that is running.

An existing profile that runs with other settings (another Kubernetes version, less memory than asked) is not
silently reused: Kubeflow would install and then fail in ways that are hard to trace back to the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfinstall import runner
from kfinstall.errors import KfError, UsageError

if TYPE_CHECKING:
    from kfinstall.release.pins import Release
    from kfinstall.release.selection import Selection

#: What deleting a cluster loses, said by every hint that suggests deleting one (`kfinstall down`).
LOST_WITH_CLUSTER = "it deletes the cluster and everything in it: notebooks, their volumes, pipeline history"
#: `minikube status` exit codes: 0 running; 7 host, kubelet and apiserver all stopped; 85 no such profile.
_STATUS_MISSING = 85


@dataclass(frozen=True)
class ClusterSpec:
    """What the cluster must be. `memory_mb`/`cpus` None: minikube's own defaults."""

    profile: str
    kubernetes_version: str
    cpus: int | None
    memory_mb: int | None
    disk_size: str | None
    driver: str | None
    gpus: str | None
    extra_config: tuple[str, ...]
    #: `--container-runtime` (None: minikube's default, docker up to v1.38, containerd announced for v1.39.0) and
    #: what needs it, for the user ("--gpus", "pipelines (...)").
    container_runtime: str | None = None
    container_runtime_for: tuple[str, ...] = ()


def needed_runtime(release: Release, selection: Selection, gpus: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The container runtime the plan needs (None: any, minikube's default) and what needs it.

    `--gpus` needs docker: minikube refuses it with another runtime (kubernetes/minikube cmd/minikube/cmd/start.go
    validateGPUs: "The gpus flag can only be used with the docker driver and docker container-runtime"). A
    component's default variant may need one too (the pins' `container_runtime`, e.g. v1.4.0's Pipelines and
    Argo's docker executor); its alternative (the pns executor) does not. Two different needs cannot both be met.
    """
    needs: dict[str, list[str]] = {}
    if gpus:
        needs.setdefault("docker", []).append("--gpus")
    pinned = {component.id: component for component in release.components}
    for component in selection.components:
        need = pinned[component.id].container_runtime if component.id in pinned else None
        if need is not None and component.variant is None:
            needs.setdefault(need.runtime, []).append(f"{component.id} (its default variant)")
    if len(needs) > 1:
        raise UsageError(
            "the plan needs two container runtimes: "
            + "; ".join(f"{runtime} for {', '.join(users)}" for runtime, users in needs.items()),
            "pick another variant of the component (see `kfinstall plan`), or leave out --gpus",
        )
    if not needs:
        return None, ()
    ((runtime, users),) = needs.items()
    return runtime, tuple(users)


def start_args(spec: ClusterSpec) -> list[str]:
    """The `minikube start` arguments for `spec` (what `kfinstall plan` shows and `up` runs)."""
    args = ["start", "-p", spec.profile, f"--kubernetes-version={spec.kubernetes_version}"]
    if spec.driver:
        args.append(f"--driver={spec.driver}")
    if spec.container_runtime:
        args.append(f"--container-runtime={spec.container_runtime}")
    if spec.cpus:
        args.append(f"--cpus={spec.cpus}")
    if spec.memory_mb:
        args.append(f"--memory={spec.memory_mb}mb")
    if spec.disk_size:
        args.append(f"--disk-size={spec.disk_size}")
    if spec.gpus:
        args.append(f"--gpus={spec.gpus}")
    args.extend(f"--extra-config={flag}" for flag in spec.extra_config)
    return args


@dataclass(frozen=True)
class ProfileState:
    """What minikube says about a profile: `status` is running, stopped, paused or missing."""

    status: str
    kubernetes_version: str | None = None
    cpus: int | None = None
    memory_mb: int | None = None
    driver: str | None = None
    #: minikube's `--gpus` value the profile was created with ("" or None: none).
    gpus: str | None = None
    #: `KubernetesConfig.ContainerRuntime` of the profile (kubernetes/minikube pkg/minikube/config/types.go).
    container_runtime: str | None = None


def profile_state(profile: str) -> ProfileState:
    """The profile's state and its saved settings (two minikube calls; `machine_state` alone is one)."""
    state = machine_state(profile)
    return ProfileState("missing") if state == "missing" else with_config(profile, state)


def machine_state(profile: str) -> str:
    """`running`, `paused`, `stopped` or `missing`, from `minikube status` alone."""
    status = runner.run("minikube", "status", "-p", profile, "-o", "json", timeout=60)
    if status.exit_code == _STATUS_MISSING:
        return "missing"
    try:
        host = json.loads(status.stdout or "{}")
    except ValueError:
        host = {}
    if isinstance(host, list):  # multi-node profiles print one entry per node
        host = host[0] if host else {}
    apiserver = str(host.get("APIServer", "")).lower()
    if host.get("APIServer") == "Paused":
        return "paused"
    if status.exit_code == 0 and apiserver == "running":
        return "running"
    return "stopped"


def with_config(profile: str, status: str) -> ProfileState:
    """`state` with the profile's settings: its saved ClusterConfig (MINIKUBE_HOME/.minikube/profiles/NAME/
    config.json, kubernetes/minikube pkg/minikube/config/profile.go `profileFilePath`), as minikube itself reads
    it for `profile list -o json` (cmd/minikube/cmd/config/profile_list.go), which lists stopped profiles too.
    Asking minikube rather than reading the file keeps its MINIKUBE_HOME rules (localpath.MiniPath) minikube's.
    `--light` (minikube v1.18.0 and later): the configs without asking every profile's machine for its status
    (profile_list.go `updateProfilesStatus` sets "Skipped"), which `minikube status` has just said."""
    listing = runner.run("minikube", "profile", "list", "-o", "json", "--light", timeout=60)
    if not listing.ok and "unknown flag" in listing.output:  # minikube before v1.18.0
        listing = runner.run("minikube", "profile", "list", "-o", "json", timeout=60)
    try:
        valid = json.loads(listing.stdout).get("valid") or []
    except (ValueError, AttributeError):
        valid = []
    for entry in valid:
        if entry.get("Name") == profile:
            config = entry.get("Config") or {}
            kubernetes = config.get("KubernetesConfig") or {}
            return ProfileState(
                status,
                kubernetes.get("KubernetesVersion"),
                config.get("CPUs"),
                config.get("Memory"),
                config.get("Driver"),
                config.get("GPUs"),
                kubernetes.get("ContainerRuntime") or None,
            )
    return ProfileState(status)


def kubernetes_version_text(value: str) -> str:
    """`1.34.0`, `v1.34.0` and `V1.34.0` as the one spelling minikube records, `v1.34.0` (unparsable: as given).

    minikube normalises `--kubernetes-version` to `v` + semver before it stores it (kubernetes/minikube
    cmd/minikube/cmd/start.go `getKubernetesVersion`), so the profile says `v1.34.0` whatever the user typed.
    """
    from kfinstall.release.version import Version

    try:
        return str(Version.parse(value))
    except ValueError:
        return value


def incompatibilities(state: ProfileState, spec: ClusterSpec) -> list[str]:
    """Why an existing profile cannot serve `spec` (empty: it can)."""
    problems = []
    running, wanted = (kubernetes_version_text(v or "") for v in (state.kubernetes_version, spec.kubernetes_version))
    if state.kubernetes_version and running != wanted:
        problems.append(f"it runs Kubernetes {running}, not {wanted}")
    if spec.memory_mb and state.memory_mb and state.memory_mb < spec.memory_mb:
        problems.append(f"it has {state.memory_mb} MB of memory, less than the {spec.memory_mb} MB asked for")
    if spec.cpus and state.cpus and state.cpus < spec.cpus:
        problems.append(f"it has {state.cpus} CPUs, fewer than the {spec.cpus} asked for")
    if spec.driver and state.driver and state.driver != spec.driver:
        problems.append(f"it uses the {state.driver} driver, not {spec.driver}")
    if spec.gpus and state.kubernetes_version is not None and not state.gpus:
        problems.append("it was created without --gpus (minikube cannot give an existing cluster GPUs)")
    runtime = _runtime_name(state.container_runtime)
    if spec.container_runtime and runtime and runtime != _runtime_name(spec.container_runtime):
        users = spec.container_runtime_for
        needed = f"{' and '.join(users)} {'needs' if len(users) == 1 else 'need'}" if users else "the install needs"
        problems.append(f"it runs the {runtime} container runtime, but {needed} {spec.container_runtime}")
    return problems


def _runtime_name(runtime: str | None) -> str | None:
    """minikube saves `--container-runtime=cri-o` as `crio` (cmd/minikube/cmd/start.go validateRuntime)."""
    return "cri-o" if runtime == "crio" else runtime


def ensure_running(
    spec: ClusterSpec,
    *,
    before_start: Callable[[], object] | None = None,
    on_start: Callable[[str], None] | None = None,
    upgrade_kubernetes: bool = False,
    state: ProfileState | None = None,
) -> str:
    """Start (or reuse) the minikube profile; returns what happened, for the progress line.

    `state`: the profile as the caller found it moments ago, with no other kfinstall changing it since (None:
    ask minikube).

    `before_start` runs only when minikube has to be started (`up` waits there for its builds, so a broken
    build never costs a minikube start); an exception from it stops before the start. `on_start` is told, as
    `minikube start` begins, what it does (`up` shows it with a ticking timer: a first start takes minutes).
    """
    state = state if state is not None else profile_state(spec.profile)
    upgrading = False
    if state.status != "missing":
        problems = incompatibilities(state, spec)
        if upgrade_kubernetes:  # `minikube start --kubernetes-version=NEWER` upgrades the profile in place
            kept = [problem for problem in problems if not problem.startswith("it runs Kubernetes")]
            upgrading, problems = len(kept) != len(problems), kept
        if problems:
            raise UsageError(
                f"minikube profile {spec.profile!r} exists but " + "; ".join(problems),
                f"use another cluster beside it with -p NAME; or `kfinstall down -p {spec.profile}` first: "
                f"{LOST_WITH_CLUSTER}",
            )
        if state.status == "running" and not upgrading:
            return f"reusing running minikube profile {spec.profile!r}"
    if before_start is not None:
        before_start()
    if on_start is not None:
        first = " (a first start downloads the node image: minutes)" if state.status == "missing" else ""
        verb = "starting" if state.status == "missing" else "upgrading" if upgrading else "restarting"
        on_start(f"{verb} minikube profile {spec.profile!r}, Kubernetes {spec.kubernetes_version}{first}")
    result = runner.run("minikube", *start_args(spec), timeout=1800)
    if not result.ok:
        said = result.stderr if "Exiting due to" in result.stderr else result.output  # its progress lines: stdout
        raise KfError(
            f"minikube start failed (exit code {result.exit_code}):\n{_minikube_message(said)}",
            "the full minikube output is in the log file",
        )
    if upgrading:
        return f"upgraded minikube profile {spec.profile!r} in place to Kubernetes {spec.kubernetes_version}"
    return f"started minikube profile {spec.profile!r}" if state.status == "missing" else "restarted minikube"


def current_context() -> str | None:
    """kubectl's current context (None: none set, or no kubeconfig)."""
    result = runner.run("kubectl", "config", "current-context", timeout=30)
    return result.stdout.strip() or None if result.ok else None


def active_profile() -> str | None:
    """minikube's active profile, what its commands use without -p: `minikube profile` prints it
    (kubernetes/minikube cmd/minikube/cmd/config/profile.go: `ClusterFlagValue()`, the config's `profile` key,
    else `minikube`)."""
    result = runner.run("minikube", "profile", timeout=60)
    return (result.stdout.strip().splitlines() or [None])[-1] if result.ok else None


def make_active(profile: str, context_before: str | None, *, started: bool = True) -> list[str]:
    """After `up` started or reused `profile`: make it minikube's active profile, so that `minikube status` and
    `minikube dashboard` work without -p as after a plain `minikube start` (`minikube start -p` leaves the active
    profile alone; `minikube profile NAME` sets it and also switches kubectl's context, profile.go), and say what
    changed: the active profile, and kubectl's current context (which `minikube start` switches too, start.go
    "kubectl is now configured to use"), each with the way back. Returns those lines (none: nothing changed).
    `started`: False when the profile was reused as it ran (nothing then switched the context)."""
    import os

    said = []
    active = None if os.environ.get("MINIKUBE_PROFILE") else active_profile()  # the user's explicit choice stays
    if active is not None and active != profile and runner.run("minikube", "profile", profile, timeout=60).ok:
        said.append(f"minikube's active profile is now {profile!r} (was {active!r}): `minikube status`, "
                    f"`minikube dashboard` need no -p; `minikube profile {active}` switches back")  # fmt: skip
    switched = bool(said)
    # nothing started and no profile switched: kubectl's context is the one read before (one call fewer)
    now = current_context() if started or switched else context_before
    if now == profile and context_before != profile:
        was = f"was {context_before!r}: `kubectl config use-context {context_before}` switches back"
        said.append(f"kubectl's current context is now {profile!r} ({was if context_before else 'there was none'})")
    return said


def _minikube_message(output: str) -> str:
    """minikube's own explanation: the warnings leading to its `Exiting due to REASON` block and the block itself
    (with its Suggestion and Documentation lines); without one, its ❌/💡 lines, else the last lines it printed."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    exiting = next((index for index, line in enumerate(lines) if "Exiting due to" in line), None)
    if exiting is not None:
        start = exiting
        while start > 0 and lines[start - 1].lstrip().startswith(("!", "❗")):
            start -= 1
        return "\n".join(lines[start:])
    marked = [line for line in lines if line.lstrip().startswith(("❌", "💡", "X ", "*", "Exiting", "🤷", "⛔"))]
    return "\n".join(marked or lines[-5:])


def context_exists(context: str) -> bool:
    result = runner.run("kubectl", "config", "get-contexts", context, "-o", "name", timeout=30)
    return result.ok and result.stdout.strip() == context
