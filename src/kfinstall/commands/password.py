"""`kfinstall password`: change the dashboard password of an installed Kubeflow, then restart Dex to load it.

The live objects holding Dex's login (the labelled ConfigMap and, on v1.9+, the Secret) go through the same
pure transformation `up` uses before applying; they are re-applied with the field manager of the component that
owns them, so a later `up` of the same release sees no foreign fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kfinstall.commands.frame import Command
from kfinstall.errors import KfError, NotInstalled, UsageError
from kfinstall.kube import record as install_record
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests import login
from kfinstall.manifests.objects import COMPONENT_LABEL

if TYPE_CHECKING:
    from kfinstall.ui.messages import Voice

ROLLOUT_TIMEOUT = 300


def change_password(context: str, password_hash: str) -> str:
    """Set the password whose bcrypt hash is `password_hash`; the email stays the install's. Returns the email."""
    from kfinstall import locks

    with locks.hold(locks.cluster(context, minikube=False)):  # not while an `up` applies Dex's config
        return _change_password(Kubectl(context), context, password_hash)


def _change_password(kubectl: Kubectl, context: str, password_hash: str) -> str:
    record = install_record.read(kubectl)
    if record is None:
        raise NotInstalled(f"kfinstall installed nothing on context {context!r}", "run `kfinstall up` first")
    live = kubectl.items("configmaps,secrets", "--all-namespaces", "-l", COMPONENT_LABEL)
    updated = login.set_login(live, login.Login(record.email, password_hash), old_email=record.email)
    if updated is None:
        raise KfError(f"no Dex configuration installed by kfinstall on context {context!r}", "is dex installed?")
    namespaces = set()
    for before, after in zip(live, updated, strict=True):
        if before == after:
            continue
        component = after["metadata"].get("labels", {}).get(COMPONENT_LABEL, "unknown")
        result = kubectl.apply(json.dumps(login.applyable(after)), field_manager=f"kfinstall-{component}")
        if not result.ok:
            raise KfError(f"cannot update {after['kind']} {after['metadata']['name']}: {result.output}", None)
        namespaces.add(after["metadata"].get("namespace", "auth"))
    for namespace in sorted(namespaces):
        restart = kubectl.run("rollout", "restart", "deployment/dex", "-n", namespace)
        if not restart.ok:
            raise KfError(f"the password is set but Dex did not restart: {restart.output}", "restart deployment/dex")
        done = kubectl.run(
            "rollout", "status", "deployment/dex", "-n", namespace, f"--timeout={ROLLOUT_TIMEOUT}s",
            timeout=ROLLOUT_TIMEOUT + 30,
        )  # fmt: skip
        if not done.ok:
            raise KfError(f"Dex did not come back after the restart: {done.output}", "see `kfinstall status`")
    record.default_password = False
    install_record.RecordWriter(kubectl, record).save()
    return record.email


# the command ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordRequest:
    context: str
    #: bcrypt hash of the new password: the plaintext never goes further than `prepare`.
    password_hash: str
    #: The minikube profile the context belongs to (None with `--context`).
    minikube_profile: str | None = None


@dataclass(frozen=True)
class PasswordChanged:
    email: str


def prepare(
    *, minikube_profile: str, context: str | None, password_file: Path | None, password_stdin: bool
) -> PasswordRequest:
    """The new password read from its file or stdin (bad input: exit 2), or asked for on a terminal only once the
    cluster is known to be there (Enter keeps nothing: a new one is the point); hashed at once."""
    from kfinstall.commands.options import read_login, require_cluster
    from kfinstall.ui import prompts

    given = password_file is not None or password_stdin  # bad input there is said first, as always
    if not given and not prompts.can_ask():
        raise UsageError(
            "no new password given", "use --password-file FILE or --password-stdin, or run it in a terminal"
        )
    if not given:
        require_cluster("password", minikube_profile, context)
    new = read_login(password_file, password_stdin, None, prompt=not given, keep_default=False)
    if given:
        require_cluster("password", minikube_profile, context)
    assert new.hash is not None  # a source gave one, or the prompt did (it raises after 3 tries, never None here)
    return PasswordRequest(context or minikube_profile, new.hash, None if context else minikube_profile)


def password(request: PasswordRequest, say: Voice) -> PasswordChanged:
    return PasswordChanged(change_password(request.context, request.password_hash))


def show(result: PasswordChanged) -> None:
    from kfinstall.ui import output

    output.echo(f"password changed for {result.email}; Dex restarted")


def as_json(result: PasswordChanged) -> dict[str, object]:
    return {"email": result.email, "changed": True, "dex_restarted": True}


COMMAND = Command(log="password", prepare=prepare, run=password, show=show, json=as_json)
