"""Options several commands share, turned into the values the commands take: `up`'s options, the dashboard login.

The CLI hands over raw strings; the rules for them (units, minikube's drivers and disk sizes, the mirror URL,
`--variant COMPONENT=VARIANT`, the password sources) are checked here, before any command starts, so that bad
input ends with exit 2 and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.kube.record import InstallRecord, Reading
    from kfinstall.manifests.login import Login
    from kfinstall.minikube.cluster import ClusterSpec, ProfileState
    from kfinstall.release.pins import Pins


def up_options(**values: object) -> UpOptions:
    """Turn raw CLI values into UpOptions (units parsed, minikube's values checked, repeatable options collected)."""
    from kfinstall.install.up import UpOptions
    from kfinstall.minikube.units import check_disk_size, check_driver, parse_cpus, parse_memory_mb

    if values.get("driver") is not None:
        check_driver(str(values["driver"]))
    if values.get("disk_size") is not None:
        check_disk_size(str(values["disk_size"]))
    if values.get("manifests_repo") is not None:
        from kfinstall.manifests import giturl

        giturl.check_option(str(values["manifests_repo"]))

    variants = {}
    for item in values.pop("variant") or []:  # type: ignore[union-attr]
        component, sep, variant = str(item).partition("=")
        if not sep:
            from kfinstall.errors import UsageError

            raise UsageError(f"--variant {item!r} is not COMPONENT=VARIANT", "e.g. --variant pipelines=pns")
        variants[component] = variant
    cpus, memory = values.pop("cpus"), values.pop("memory")
    return UpOptions(
        cpus=parse_cpus(cpus) if cpus is not None else None,  # type: ignore[arg-type]
        memory_mb=parse_memory_mb(memory) if memory is not None else None,  # type: ignore[arg-type]
        with_ids=tuple(values.pop("with_ids") or ()),  # type: ignore[arg-type]
        without_ids=tuple(values.pop("without_ids") or ()),  # type: ignore[arg-type]
        variants=variants,
        **values,  # type: ignore[arg-type]
    )


def read_login(
    password_file: Path | None, password_stdin: bool, email: str | None, *, prompt: bool, keep_default: bool = True
) -> Login:
    """Read and hash the password at once: only its bcrypt hash goes further than this function. `prompt`: ask
    on the terminal when neither a file nor stdin gives it (`keep_default`: Enter keeps the release's default)."""
    from kfinstall.manifests import login as pw

    plaintext = pw.read_password(password_file, password_stdin)
    if plaintext is None and prompt:
        from kfinstall.ui import prompts

        plaintext = prompts.new_password(keep_default=keep_default)
    if plaintext is not None:
        from kfinstall.redact import conceal

        conceal(plaintext)  # never logged; should it ever be, the log says `<redacted N bytes>`
    return pw.Login(
        pw.check_email(email) if email is not None else pw.DEFAULT_EMAIL,
        None if plaintext is None else pw.hash_password(plaintext),
    )


def plan_for(options: UpOptions, continuing: str | None = None) -> tuple[InstallPlan, Pins, str | None]:
    """The plan, the pins, and why its release was chosen (None when `-k` named it; `continuing` when it is what
    the profile holds): the release is chosen for this machine's minikube (checks), which the pure plan of
    install/up.py must not ask."""
    from kfinstall.checks.prerequisites import release_choice
    from kfinstall.install.up import make_plan
    from kfinstall.release.pins import load_pins

    pins = load_pins(options.pins)
    choice = release_choice(pins, options.kubeflow_version, options.context)
    return make_plan(options, choice.release), pins, choice.reason or continuing


# what an existing minikube profile holds -------------------------------------------------------------------------

#: The local copy of the install record `up` leaves per minikube profile (under the cache directory), so that a
#: stopped cluster, whose record is out of reach, can still be continued as it was installed.
REMEMBERED_DIR = "installs"


@dataclass(frozen=True)
class Existing:
    """An existing minikube profile: its settings (minikube's profile config, readable while it is stopped) and,
    when known, what kfinstall installed there (`record`) and where that came from (`source`)."""

    state: ProfileState
    record: InstallRecord | None = None
    source: str | None = None
    #: The record as read from the running cluster (None: not read there): `up`'s read-record step reuses it.
    reading: Reading | None = None

    def summary(self) -> str:
        """`Kubeflow v1.10.2, profile minimal, Kubernetes v1.31.0, 4 CPUs, 8 GB` as far as known."""
        from kfinstall.minikube.cluster import kubernetes_version_text
        from kfinstall.minikube.units import format_mb

        parts = []
        if self.record is not None:
            parts += [f"Kubeflow {self.record.release}", f"profile {self.record.profile}"]
        state = self.state
        if state.kubernetes_version:
            parts.append(f"Kubernetes {kubernetes_version_text(state.kubernetes_version)}")
        if state.cpus:
            parts.append(f"{state.cpus} CPUs")
        if state.memory_mb:
            parts.append(format_mb(state.memory_mb))
        if state.gpus:
            parts.append(f"GPUs ({state.gpus})")
        return ", ".join(parts)


def cluster_settings(state: ProfileState) -> dict[str, Any]:
    """What tells one cluster of a profile's name from another made later: minikube keeps these as created."""
    from kfinstall.minikube.cluster import kubernetes_version_text

    return {"kubernetes": kubernetes_version_text(state.kubernetes_version or ""), "cpus": state.cpus,
            "memory_mb": state.memory_mb}  # fmt: skip


def settings_of(spec: ClusterSpec, existing: Existing | None) -> dict[str, Any]:
    """The settings of the cluster `up` works on: the existing profile's, else those it creates it with."""
    from kfinstall.minikube.cluster import ProfileState

    if existing is not None:
        return cluster_settings(existing.state)
    return cluster_settings(ProfileState("running", spec.kubernetes_version, spec.cpus, spec.memory_mb))


def remember(minikube_profile: str, record: InstallRecord, settings: dict[str, Any]) -> None:
    """Keep a copy of `record` on this machine, with the `settings` of its cluster (best effort: a cache that
    cannot be written costs only this)."""
    import contextlib
    import json

    from kfinstall.cachedir import cache_root

    path = cache_root() / REMEMBERED_DIR / f"{minikube_profile}.json"
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"cluster": settings, "record": json.loads(record.to_json())}, indent=1))


def forget(minikube_profile: str) -> None:
    """Drop the copy of a profile that no longer exists (a profile made anew later holds something else)."""
    import contextlib

    from kfinstall.cachedir import cache_root

    with contextlib.suppress(OSError):
        (cache_root() / REMEMBERED_DIR / f"{minikube_profile}.json").unlink()


def remembered(minikube_profile: str, state: ProfileState) -> InstallRecord | None:
    """The copy `remember` kept for `minikube_profile`, if it was of a cluster with `state`'s settings (None:
    none, unreadable, or of another cluster made later under the same name)."""
    import json

    from kfinstall.cachedir import cache_root
    from kfinstall.kube.record import InstallRecord, UnreadableRecord

    try:
        kept = json.loads((cache_root() / REMEMBERED_DIR / f"{minikube_profile}.json").read_text())
        if not isinstance(kept, dict) or kept.get("cluster") != cluster_settings(state):
            return None
        return InstallRecord.from_json(json.dumps(kept.get("record")))
    except (OSError, ValueError, UnreadableRecord):
        return None


def existing_install(minikube_profile: str) -> Existing | None:
    """What the minikube profile holds (None: there is no such profile). Running: the install record on the
    cluster; stopped or paused (or not answering): the copy the last `up` of this profile left here (dropped
    when the profile is found missing: one made anew later holds something else)."""
    from kfinstall.errors import KfError, ToolNotFoundError
    from kfinstall.kube import record as install_record
    from kfinstall.kube.kubectl import Kubectl
    from kfinstall.minikube.cluster import profile_state

    try:
        state = profile_state(minikube_profile)
    except ToolNotFoundError:  # no minikube on this machine: no profile to continue (`check` says what is missing)
        return None
    if state.status == "missing":
        forget(minikube_profile)
        return None
    if state.status == "running":
        try:
            reading = install_record.read_lenient(Kubectl(minikube_profile))
        except KfError:
            reading = None
        if reading is not None:
            if reading.record is not None:
                return Existing(state, reading.record, "the install record on the cluster", reading)
            if reading.problem is None:
                return Existing(state, reading=reading)  # the cluster runs and kfinstall installed nothing there
    copy = remembered(minikube_profile, state)
    if copy is None or copy.minikube_profile not in (None, minikube_profile):
        return Existing(state)
    return Existing(state, copy, f"what the last `kfinstall up` of {minikube_profile!r} recorded on this machine")


def continue_install(values: dict[str, Any]) -> tuple[str | None, Existing | None]:
    """`up` and `plan` with no release, profile or GPU options on an existing minikube profile continue what it
    holds: `values` get its release, profile and components (the record) and its Kubernetes, CPUs, memory,
    driver and GPUs (minikube's profile config: kubernetes/minikube pkg/minikube/config/types.go ClusterConfig),
    each only where the user gave none. Returns the one line saying so (None: nothing continued) and the
    existing profile (None: none, or --context)."""
    from kfinstall.release.selection import DEFAULT_PROFILE

    if values.get("context"):
        values["profile"] = values.get("profile") or DEFAULT_PROFILE
        return None, None
    existing = existing_install(str(values["minikube_profile"]))
    if values.get("kubeflow_version") or values.get("profile") or values.get("gpus"):
        given_profile = values.get("profile")
        values["profile"] = given_profile or DEFAULT_PROFILE
        wanted = str(values.get("kubeflow_version") or "").removeprefix("v")
        record = existing.record if existing is not None else None
        upgrading = record is not None and (record.upgrading_from or wanted != record.release.removeprefix("v"))
        if existing is not None and record is not None and wanted and upgrading:
            # another release over an install: an upgrade, which keeps the cluster as it is (commands/upgrade.py)
            state = existing.state
            kept = {"cpus": state.cpus, "memory": f"{state.memory_mb}mb" if state.memory_mb else None,
                    "driver": state.driver}  # fmt: skip
            for key, value in kept.items():
                if values.get(key) is None and value:
                    values[key] = str(value)
            values["profile"] = given_profile or record.profile  # the profile installed, in the new release
        return None, existing
    values["profile"] = DEFAULT_PROFILE
    if existing is None:
        return None, None
    state, record = existing.state, existing.record
    kept = {"cpus": state.cpus, "memory": f"{state.memory_mb}mb" if state.memory_mb else None,
            "driver": state.driver, "gpus": state.gpus or None}  # fmt: skip
    for key, value in kept.items():
        if values.get(key) is None and value:
            values[key] = str(value)
    if record is None:
        return None, existing
    values["kubeflow_version"] = record.release
    values["profile"] = record.profile
    if state.kubernetes_version and values.get("k8s_version") is None:
        values["k8s_version"] = state.kubernetes_version
    if not values.get("with_ids") and not values.get("without_ids"):
        values["with_ids"], values["without_ids"] = _components_delta(values, record)
    where = f"minikube profile {values['minikube_profile']!r} ({state.status})"
    return (
        f"continuing what {where} holds, from {existing.source}: {existing.summary()}; "
        "-k, --profile or --gpus choose otherwise"
    ), existing


def plan_continuing(
    values: dict[str, Any], login: Login | None = None, check: Callable[[InstallPlan, UpOptions], object] | None = None
) -> tuple[UpOptions, InstallPlan, Pins, str | None, Existing | None]:
    """`up`'s and `plan`'s options and plan: first by the user's own values (bad input refused, by `check` too,
    before minikube is asked anything but its version), then, when nothing names the release, profile or GPUs,
    continuing what an existing minikube profile holds (`continue_install`). Also the existing profile."""
    from kfinstall.release.selection import DEFAULT_PROFILE

    extra: dict[str, Any] = {} if login is None else {"login": login}
    options = up_options(**extra, **{**values, "profile": values.get("profile") or DEFAULT_PROFILE})
    install, pins, reason = plan_for(options)
    if check is not None:
        check(install, options)
    given = {**values, "profile": values.get("profile") or DEFAULT_PROFILE}
    continuing, existing = continue_install(values)
    if values != given:  # the profile's settings (and, when it is continued, its install) filled in
        options = up_options(**extra, **values)
        install, pins, reason = plan_for(options, continuing)
    return options, install, pins, reason, existing


def _components_delta(values: dict[str, Any], record: InstallRecord) -> tuple[list[str], list[str]]:
    """The --with/--without that give the record's components from its profile (an install made with them)."""
    from kfinstall.errors import KfError
    from kfinstall.release.pins import load_pins
    from kfinstall.release.selection import select

    try:
        release = load_pins(values.get("pins")).get(record.release)
        planned = select(release, record.profile).ids
    except KfError:
        return [], []  # an unpinned release or profile: the plan says why, as it would for -k
    known = {component.id for component in release.components}
    installed = [c for c in record.order or list(record.components) if c in known]
    return [c for c in installed if c not in planned], [c for c in planned if c not in installed]


def refuse_incompatible(install: InstallPlan, existing: Existing | None) -> None:
    """Before anything runs: an existing profile that cannot hold the plan is explained now (what grows in place,
    what needs a new cluster), not at the start-minikube step after the clone and the builds."""
    from kfinstall.errors import UsageError
    from kfinstall.minikube.cluster import LOST_WITH_CLUSTER, incompatibilities

    spec = install.cluster
    if spec is None or existing is None:
        return
    problems = incompatibilities(existing.state, spec)
    if install.upgrade is not None and install.upgrade.kubernetes is not None:  # minikube upgrades it in place
        problems = [problem for problem in problems if not problem.startswith("it runs Kubernetes")]
    if not problems:
        return
    record = existing.record
    lines = [f"minikube profile {spec.profile!r} holds {existing.summary()}, and " + "; ".join(problems) + "."]
    if record is not None:
        added = [c for c in install.selection.ids if c not in (record.order or record.components)]
        grows = f"adding {', '.join(added)} (profile {install.profile})" if added else "the components"
        lines.append(
            f"What can change in place: {grows} on the same cluster. What cannot: minikube keeps a cluster's "
            "Kubernetes version, CPUs, memory, disk, driver and GPUs as it was created with."
        )
    keep = []
    if all(problem.startswith("it has ") for problem in problems):  # only CPUs or memory: the rest would fit
        if existing.state.cpus:
            keep.append(f"--cpus {existing.state.cpus}")
        if existing.state.memory_mb:
            keep.append(f"--memory {existing.state.memory_mb}mb")
    kept = f"add `{' '.join(keep)}` to keep the cluster as it is (it may be too small); or " if keep else ""
    hint = (
        f"{kept}make another cluster beside it with -p NAME; or `kfinstall down -p {spec.profile}` first: "
        f"{LOST_WITH_CLUSTER}"
    )
    raise UsageError("\n".join(lines), hint)


def start_hint(minikube_profile: str, existing: Existing | None = None) -> str:
    """`kfinstall up [-p P]`, and what it does with what the profile holds: never `minikube start -p P`, which
    would start the cluster without the release's settings (Kubernetes version, apiserver flags, resources)."""
    from kfinstall.install.up import DEFAULT_MINIKUBE_PROFILE

    command = "kfinstall up" + ("" if minikube_profile == DEFAULT_MINIKUBE_PROFILE else f" -p {minikube_profile}")
    if existing is None:
        return f"`{command}` creates it and installs Kubeflow"
    summary = existing.summary()
    return f"`{command}` starts it and continues what it holds" + (f" ({summary})" if summary else "")


def require_cluster(command: str, minikube_profile: str, context: str | None) -> None:
    """Before a command that needs a running cluster does anything: one clear error when there is none (no
    kubectl or minikube error text, no `minikube start` advice). kube/presence.py tells a deleted cluster from a
    restarting one the same way: the kubeconfig context, then the minikube profile. Exit code 3 (`NotInstalled`:
    nothing installed, or the cluster not running), as `status` says it; `--context` given: only the context."""
    from kfinstall.errors import NotInstalled, ToolNotFoundError
    from kfinstall.minikube import cluster

    if context is not None:
        if not cluster.context_exists(context):
            raise NotInstalled(
                f"kubeconfig context {context!r} does not exist: `kfinstall {command}` needs a cluster",
                "`kubectl config get-contexts` lists the contexts of your kubeconfig",
            )
        return
    try:
        state = cluster.profile_state(minikube_profile)
    except ToolNotFoundError:
        if cluster.context_exists(minikube_profile):
            return  # no minikube here, but the profile's context is: a cluster someone else started
        raise
    if state.status == "running":
        return
    if state.status == "missing":
        raise NotInstalled(
            f"there is no minikube profile {minikube_profile!r}: `kfinstall {command}` needs a cluster with Kubeflow",
            start_hint(minikube_profile),
        )
    if state.status == "paused":
        raise NotInstalled(
            f"minikube profile {minikube_profile!r} is paused: `kfinstall {command}` needs it running",
            f"`minikube unpause -p {minikube_profile}` resumes it as it was",
        )
    existing = Existing(state, remembered(minikube_profile, state))
    raise NotInstalled(
        f"minikube profile {minikube_profile!r} is {state.status}: `kfinstall {command}` needs it running",
        start_hint(minikube_profile, existing),
    )
