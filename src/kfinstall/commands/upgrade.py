"""Whether `up` (and `plan`) change an install: another release over the one installed, or fewer components.

Decided before anything runs, from what the minikube profile holds (the install record, `commands/options.Existing`):
- a newer release is an upgrade, and so is the same release with components left out (`up --without katib`):
  the plan gets an `install/upgrade.Upgrade`, and `install/steps` adds the upgrade's steps (back up the user's
  resources, upgrade Kubernetes in place, the release's notes, replace, prune);
- an older release is refused (exit 2): upstream's notes describe upgrades only, and the newer release's CRDs
  and database schema stay behind;
- an older Kubernetes than the cluster runs is refused too: minikube refuses it (K8S_DOWNGRADE_UNSUPPORTED,
  kubernetes/minikube cmd/minikube/cmd/start.go `validateKubernetesVersion`), so kfinstall says so first.
On a `--context` cluster (not minikube) the install record is read from that cluster and the upgrade is the same
plan, steps and prune, without a Kubernetes upgrade: kfinstall does not manage that cluster, so a release that
needs another Kubernetes than it serves (the pins' `kubernetes` range, against its `/version`) is refused with
the way out, upgrading the cluster itself first.
An upgrade deletes things, so `up` asks before it starts (`--yes` for scripts; no terminal and no `--yes`: refused).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kfinstall.errors import Declined, UsageError

if TYPE_CHECKING:
    from kfinstall.commands.options import Existing
    from kfinstall.install.up import InstallPlan
    from kfinstall.kube.record import InstallRecord
    from kfinstall.release.pins import Pins
    from kfinstall.release.version import Version


def detect(install: InstallPlan, existing: Existing | None, pins: Pins) -> InstallPlan:
    """`install` with its `upgrade` set when it changes what `existing` holds (the module docstring)."""
    from kfinstall.install.upgrade import Upgrade
    from kfinstall.minikube.cluster import kubernetes_version_text
    from kfinstall.release.pins import release_order
    from kfinstall.release.version import Version

    on_context = install.cluster is None
    served: Version | None = None
    if on_context:
        record, served = context_install(install.context)
    else:
        record = existing.record if existing is not None else None
    if record is None or (not on_context and existing is None):
        return install
    target = install.release.tag
    installed = record.upgrading_from or record.release
    components = tuple(record.upgrading_components or record.order or record.components)
    where = (f"the cluster of kubeconfig context {install.context!r}" if install.cluster is None
             else f"minikube profile {install.cluster.profile!r}")  # fmt: skip
    if installed != target and release_order(installed) > release_order(target):
        raise UsageError(
            f"{where} holds Kubeflow {installed}; {target} is older, and kfinstall does not "
            "downgrade (upstream's upgrade notes go forward only: the newer release's CRDs and database stay)",
            f"keep {installed} (`kfinstall up`), or install {target} on another cluster beside it"
            + (" with -p NAME" if not on_context else ""),
        )
    removed = tuple(c for c in components if c not in install.selection.ids)
    if installed == target and not removed and record.upgrading_from is None:
        return install  # the same install, maybe with components added: `up` as always
    kubernetes = None
    if on_context and served is not None and not install.release.kubernetes.contains(served):
        have, wanted = served, install.release.kubernetes
        newer = wanted.min is not None and have < Version.parse(wanted.min)
        raise UsageError(
            f"Kubeflow {target} needs Kubernetes {wanted}; {where} serves {have}, and kfinstall upgrades the "
            "Kubernetes of minikube clusters only",
            (f"upgrade the cluster itself to Kubernetes {wanted.min} or newer (its provider's or kubeadm's "
             "upgrade), then run this command again" if newer else
             f"Kubeflow {target} does not run on Kubernetes {have}: install it on a cluster that serves "
             f"{wanted}") + f"; Kubeflow {installed} stays as it is",
        )  # fmt: skip
    running = existing.state.kubernetes_version if existing is not None and not on_context else None
    if running and kubernetes_version_text(running) != kubernetes_version_text(install.cluster.kubernetes_version):
        have, want = Version.parse(running), Version.parse(install.cluster.kubernetes_version)
        if want < have:
            raise UsageError(
                f"{where} runs Kubernetes {have}, newer than the {want} of Kubeflow {target}; "
                "minikube cannot downgrade a cluster (K8S_DOWNGRADE_UNSUPPORTED)",
                f"add --k8s-version {have} if Kubeflow {target} supports it ({install.release.kubernetes}), "
                "or install on another cluster beside it with -p NAME",
            )
        kubernetes = (str(have), str(want))
    if existing is not None and not on_context and existing.state.status != "running":
        raise UsageError(
            f"{where} is {existing.state.status}: an upgrade starts from a running cluster "
            "(it saves your resources first)",
            "`kfinstall up` (without -k) starts it as it is; then run this command again",
        )
    old = next((r for r in pins.releases if r.tag == installed), None)  # its database is the one to dump
    databases = tuple((c.id, c.database) for c in (old.components if old else ()) if c.database and c.id in components)
    upgrade = Upgrade(
        databases=databases,
        installed=installed,
        target=target,
        components=components,
        removed=removed,
        added=tuple(c for c in install.selection.ids if c not in components),
        kubernetes=kubernetes,
        notes=install.release.upgrade_notes(installed) if installed != target else None,
    )
    return replace(install, upgrade=upgrade)


def context_install(context: str) -> tuple[InstallRecord | None, Version | None]:
    """The install record on the cluster of `context` and the Kubernetes version it serves (None: unknown)."""
    from kfinstall.checks.toolversions import parse_kubectl_server_version
    from kfinstall.errors import KfError
    from kfinstall.kube import record as install_record
    from kfinstall.kube.kubectl import Kubectl
    from kfinstall.minikube.cluster import context_exists

    if not context_exists(context):
        return None, None  # `up` refuses it next (install/steps.check_inputs), with its hint
    kubectl = Kubectl(context)
    try:
        record = install_record.read_lenient(kubectl).record
    except KfError:
        return None, None  # no cluster to read: `up` says so in its own step
    answer = kubectl.run("version", "-o", "json", timeout=60)
    return record, parse_kubectl_server_version(answer.stdout).version if answer.ok else None


def question(install: InstallPlan) -> str:
    """What the upgrade deletes or changes, in one question."""
    upgrade = install.upgrade
    assert upgrade is not None
    what = (
        f"Upgrade Kubeflow {upgrade.installed} to {upgrade.target}"
        if upgrade.is_release_change
        else f"Change the components of Kubeflow {upgrade.target}"
    )
    where = (f"minikube profile {install.cluster.profile!r}" if install.cluster is not None
             else f"the cluster of kubeconfig context {install.context!r}")  # fmt: skip
    parts = [f"{what} on {where}?"]
    if upgrade.kubernetes:
        parts.append(f"Kubernetes goes from {upgrade.kubernetes[0]} to {upgrade.kubernetes[1]} in place "
                     "(minikube cannot go back).")  # fmt: skip
    if upgrade.removed:
        parts.append(f"Removed: {', '.join(upgrade.removed)} (with their custom resources).")
    parts.append(
        "Objects kfinstall applied that the new build no longer has are deleted, objects whose immutable fields "
        "change are replaced (`kfinstall plan` lists the steps); your resources are saved first"
        + (" and the Pipelines database is dumped." if upgrade.databases else ".")
    )
    return " ".join(parts)


def confirm(install: InstallPlan, *, yes: bool, prompt: bool) -> None:
    """Ask before an upgrade (nothing to ask without one); `--yes` goes ahead; no terminal: refused (exit 2)."""
    if install.upgrade is None or yes:
        return
    from kfinstall.ui import prompts

    if not prompt or not prompts.can_ask():
        raise UsageError(
            "this `kfinstall up` upgrades the install (it deletes objects) and there is no terminal to ask on",
            "see what it does with `kfinstall plan` and the same options; add --yes to go ahead",
        )
    if not prompts.confirm(question(install)):
        from kfinstall.ui import output

        output.stderr().print(f"kept Kubeflow {install.upgrade.installed} as it is: nothing changed")
        raise Declined()
