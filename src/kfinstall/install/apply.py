"""Server-side apply of a component's objects, retried while the failure is a race that heals by itself.

The official install re-applies everything every 10-20 seconds until nothing fails. Here a failed apply is
classified (`kube/classify.py`): a race (CRD not established, webhook not serving, namespace not created, API
server restarting) is retried with a short backoff until the component's deadline (at once when the refusing
webhook just got a ready endpoint); anything else, or a kind no CRD of the install will ever serve
(`kube/kinds.py`), stops the install at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from kfinstall.errors import KfError
from kfinstall.install.cancel import Cancel
from kfinstall.install.events import Event, Reporter
from kfinstall.install.waits import Waits
from kfinstall.install.work import ComponentWork, Obj
from kfinstall.kube.classify import classify_apply_failure
from kfinstall.kube.kinds import never_served
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.objects import as_apply_input
from kfinstall.ui.words import count

#: Seconds one `kubectl apply` may take before it is killed and retried.
APPLY_CALL_TIMEOUT = 120.0
#: The service a refusing webhook is called at, as the API server names it: (name, namespace).
_WEBHOOK_URL = re.compile(r"https://([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc\b")


class Applier:
    """Applies objects with one field manager per component, retrying races until the component's deadline.

    `provided` gives the (apiVersion, kind) the install's own CRDs serve (asked only on a failure: it waits for
    every build); `still_there` raises once the cluster was deleted.
    """

    def __init__(
        self,
        kubectl: Kubectl,
        report: Reporter,
        cancel: Cancel,
        still_there: Callable[[], None],
        waits: Waits,
        provided: Callable[[], set[tuple[str, str]]],
        *,
        timeout: float,
    ) -> None:
        self.kubectl = kubectl
        self.report = report
        self.cancel = cancel
        self.still_there = still_there
        self.waits = waits
        self.provided = provided
        self.timeout = timeout

    def apply(self, work: ComponentWork, objects: list[Obj], deadline: float) -> None:
        self.report(Event("applying", count(len(objects), "object"), work.id))
        payload = as_apply_input(objects)
        delay = 0.2
        while True:
            self.cancel.check()
            # A hung call (an apiserver that accepted the connection and went away) must not eat the whole
            # deadline: it is killed after APPLY_CALL_TIMEOUT and retried like any other timeout.
            remaining = min(APPLY_CALL_TIMEOUT, max(5.0, deadline - time.monotonic()))
            result = self.kubectl.apply(payload, field_manager=f"kfinstall-{work.id}", timeout=remaining)
            if result.ok:
                return
            failure = classify_apply_failure(result.output, result.exit_code)
            if not failure.retryable or failure.reason == "API server unavailable":
                self.still_there()  # `context "x" does not exist` or `connection refused`: deleted, or restarting?
            if not failure.retryable:
                raise KfError(
                    f"{work.id}: the cluster rejected it: {failure.first_error}",
                    "this will not heal by retrying; the full kubectl output is in the log file",
                )
            missing = never_served(failure.errors, self.provided())
            if missing:
                raise KfError(
                    f"{work.id}: this cluster does not serve {', '.join(missing)}, and no component of this install "
                    "provides it",
                    "the cluster's Kubernetes version is probably outside the release's range (see `kfinstall check`)",
                )
            if time.monotonic() + delay > deadline:
                raise KfError(
                    f"{work.id}: still failing after {self.timeout:g}s ({failure.reason}): {failure.first_error}",
                    "check the cluster with `kfinstall status`; raise --timeout if it is just slow",
                )
            self.report(Event("retrying", failure.reason, work.id))
            services = set(_WEBHOOK_URL.findall(result.output))  # the webhooks that refused, if any
            if services and self.waits.endpoints(services, deadline):
                delay = 0.2  # the webhook just got a pod: try again now, not after a grown backoff
                continue
            self.cancel.sleep(delay)
            delay = min(delay * 2, 2.0)
