"""`UpContext`: what the steps of `up` share: the plan and options, the display, and what earlier steps made.

Modelled on kind's `ActionContext` (kubernetes-sigs/kind pkg/cluster/internal/create/actions/action.go): every
step gets the same context; a step that makes something later steps need (the checkout, the builds, the install
record's writer) leaves it here. What must be undone when `up` ends, however it ends (the cluster lock, the
background builds), is pushed on `exits`; the loop in `steps.py` closes it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kfinstall.install.events import Reporter
from kfinstall.kube.kubectl import Kubectl

if TYPE_CHECKING:
    from pathlib import Path

    from kfinstall.install.builds import ComponentBuilds
    from kfinstall.install.imagecache import Loading
    from kfinstall.install.images import Prefetch
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.install.upgrade import UpgradePlan
    from kfinstall.kube.record import InstallRecord, Reading, RecordWriter
    from kfinstall.manifests.checkout import Checkout
    from kfinstall.minikube.cluster import ProfileState
    from kfinstall.release.pins import Pins


@dataclass
class UpContext:
    plan: InstallPlan
    options: UpOptions
    #: Where progress goes: the live display, plain lines or JSON lines.
    report: Reporter
    pins: Pins
    #: Why the release was chosen (None when `-k` named it).
    reason: str | None = None
    json_output: bool = False
    #: Told the component ids once the install starts (the live display shows a row for each).
    on_components: Callable[[list[str]], None] | None = None
    #: The manifests: `--manifests-dir` as checked before the log opened, else set by the fetch step.
    checkout: Checkout | None = None
    builds: ComponentBuilds | None = None
    #: `--quiet`: the steps print nothing of their own but errors (the reporter is silent too).
    quiet: bool = False
    #: The install record found in the cluster (None: none, or unreadable), and the one this run writes.
    previous: InstallRecord | None = None
    writer: RecordWriter | None = None
    prefetch: Prefetch | None = None
    #: The cached images being loaded into a new node (`load-cached-images`), waited for per component.
    loading: Loading | None = None
    #: Whether `start-minikube` made a new node (it then has none of the release's images).
    new_node: bool = False
    #: The minikube profile as `up` found it before the steps (two minikube calls `start-minikube` need not make
    #: again); dropped when the cluster's lock had to be waited for (another kfinstall may have changed it).
    profile_state: ProfileState | None = None
    #: The install record as `up` read it from the running cluster before the steps (one `kubectl get` that
    #: `read-record` need not make again); dropped with `profile_state`, and when `start-minikube` did not reuse
    #: the running cluster as it was.
    record_reading: Reading | None = None
    #: What an upgrade does beyond applying (install/upgrade_steps.py), once the builds and the cluster are known.
    upgrade_plan: UpgradePlan | None = None
    #: Where `backup-user-data` saved the user's resources (the database dumps go beside them).
    backup_dir: Path | None = None
    installed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    started: float = field(default_factory=time.monotonic)
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.plan.context)
