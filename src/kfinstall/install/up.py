"""What `up` and `plan` are told (`UpOptions`) and what they decide from it before anything changes (`InstallPlan`).

`make_plan` is pure (the release is chosen before it, by `commands.options.plan_for`): components, cluster
flags, kubeconfig context. The steps that carry a plan out are in `steps.py`; `kfinstall plan` prints the plan
and those steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.errors import UsageError
from kfinstall.manifests.login import DEFAULT_EMAIL, Login
from kfinstall.minikube import cluster
from kfinstall.release import selection as components

if TYPE_CHECKING:
    from kfinstall.install.upgrade import Upgrade
    from kfinstall.release.pins import Release

DEFAULT_MINIKUBE_PROFILE = "kubeflow"
DASHBOARD_URL = "http://localhost:8080"


@dataclass(frozen=True)
class UpOptions:
    """Everything `up` and `plan` can be told; None means the release's default."""

    kubeflow_version: str | None = None
    profile: str = components.DEFAULT_PROFILE
    with_ids: tuple[str, ...] = ()
    without_ids: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)
    pins: Path | None = None
    cpus: int | None = None
    memory_mb: int | None = None
    disk_size: str | None = None
    driver: str | None = None
    k8s_version: str | None = None
    gpus: str | None = None
    context: str | None = None
    minikube_profile: str = DEFAULT_MINIKUBE_PROFILE
    manifests_repo: str | None = None
    manifests_dir: Path | None = None
    timeout: float = 900.0
    concurrency: int = 4
    skip_checks: bool = False
    prefetch_images: bool = False
    login: Login = field(default_factory=Login)


@dataclass(frozen=True)
class InstallPlan:
    """What `up` will do, decided before anything changes."""

    release: Release
    profile: str
    selection: components.Selection
    cluster: cluster.ClusterSpec | None
    context: str
    repo_url: str
    #: Set when `up` changes an install: another release, or fewer components (install/upgrade.py).
    upgrade: Upgrade | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "upgrade": None if self.upgrade is None else self.upgrade.as_dict(),
            "release": self.release.tag,
            "commit": self.release.commit,
            "repo": self.repo_url,
            "profile": self.profile,
            "context": self.context,
            "minikube": None if self.cluster is None else ["minikube", *cluster.start_args(self.cluster)],
            "components": [
                {
                    "id": component.id,
                    "name": component.name,
                    "paths": list(component.paths),
                    "depends_on": list(component.depends_on),
                    "namespaces": list(component.namespaces),
                    "reason": component.reason,
                    **({"variant": component.variant} if component.variant else {}),
                }
                for component in self.selection.components
            ],
            "notes": list(self.selection.notes),
            "image_substitutions": [
                s.model_dump(include={"image", "replacement", "components", "source", "reason"})
                for s in self.release.substitutions_for(self.selection.ids)
            ],
            "images_at_risk": [a.model_dump() for a in self.release.images_at_risk_for(self.selection.ids)],
        }


def make_plan(options: UpOptions, release: Release) -> InstallPlan:
    """Decide everything: components, cluster flags, kubeconfig context. Pure apart from reading nothing."""
    from kfinstall.minikube.options import check_gpus_choice, refuse_minikube_options_with_context
    from kfinstall.release.version import Version

    minikube_options = {"--cpus": options.cpus, "--memory": options.memory_mb, "--disk-size": options.disk_size,
                        "--driver": options.driver, "--gpus": options.gpus}  # fmt: skip
    refuse_minikube_options_with_context(options.context, minikube_options)
    check_gpus_choice(options.gpus)
    kubernetes = release.kubernetes.default
    if options.k8s_version is not None:
        try:
            wanted = Version.parse(options.k8s_version)
        except ValueError:
            raise UsageError(
                f"--k8s-version {options.k8s_version!r} is not a version", "give a version like v1.19.3"
            ) from None
        if not release.kubernetes.contains(wanted) and not options.skip_checks:
            raise UsageError(
                f"Kubeflow {release.tag} does not support Kubernetes {wanted} (it supports {release.kubernetes})",
                f"use --k8s-version {release.kubernetes.default}, or leave it out (--skip-checks goes ahead anyway)",
            )
        kubernetes = str(wanted)  # `1.34.0` and `v1.34.0` are one version: minikube records it as `v1.34.0`
    selection = components.select(release, options.profile, options.with_ids, options.without_ids, options.variants)
    spec = None
    if options.context is None:
        resources = release.resources_for(options.profile)
        runtime, runtime_for = cluster.needed_runtime(release, selection, options.gpus)
        spec = cluster.ClusterSpec(
            profile=options.minikube_profile,
            kubernetes_version=kubernetes,
            cpus=options.cpus or resources.cpus,
            memory_mb=options.memory_mb or resources.memory_mb,
            disk_size=options.disk_size or resources.disk_size,
            driver=options.driver or "docker",
            gpus=options.gpus,
            extra_config=tuple(release.apiserver_flags),
            container_runtime=runtime,
            container_runtime_for=runtime_for,
        )
    return InstallPlan(
        release=release,
        profile=options.profile,
        selection=selection,
        cluster=spec,
        context=options.context or options.minikube_profile,
        repo_url=options.manifests_repo or release.repo,
    )


@dataclass(frozen=True)
class UpResult:
    release: str
    context: str
    installed: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float
    default_password: bool = True
    email: str = DEFAULT_EMAIL
    #: The login's own namespace: the name of the Profile owned by it, when the install holds one.
    namespace: str | None = None
