"""Before an upgrade: the user's resources saved as YAML that `kubectl apply -f DIR` takes back.

What an upgrade must never lose is what the user made: Profiles (their namespaces), Notebooks, PodDefaults, the
PersistentVolumeClaims behind them, Katib experiments, pipeline objects — every custom resource and every claim
that kfinstall did not apply itself (kfinstall's own objects come back from the build; its Profile of the login is
the user's too, so Profiles are always saved). Objects another object owns are left out (their owner's controller
makes them again). Each kind is one `v1 List` file, Profiles first (their controller makes the namespaces the rest
live in), stripped of what the API server sets (uid, resourceVersion, status, managedFields, ...) so that
`kubectl apply` creates them anew. The claims' data stays on their volumes; the file keeps the claim, not its bytes.

A component's MySQL database (Pipelines': runs, experiments, pipelines, its cache and ML Metadata; the pins'
`database`, per release) is dumped beside them by `mysqldump` in its server's container (`kubectl exec`, as
upstream's own notes reach that pod: third-party/mysql/base/mysql-deployment.yaml), with `--single-transaction`
(one consistent InnoDB snapshot without locking the tables the running servers write) and `--databases` (the file
creates and selects each database, so `mysql < FILE` restores it into an empty server). It logs in with the
Secret the component's servers use. The password is on no command line, where any local user's `ps` would read it
from kubectl's arguments and the container's from mysqldump's: it goes as an option file on stdin
(`kubectl exec -i`, `mysqldump --defaults-extra-file=/dev/stdin`, which must be the first option: MySQL's
"Command-Line Options that Affect Option-File Handling"), kept out of the log (and concealed, redact.py). The
dump itself goes straight into its file, never to the log (runner.py `stdout_to`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kfinstall.errors import KfError
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.objects import COMPONENT_LABEL

if TYPE_CHECKING:
    from kfinstall.release.pins import Database

Obj = dict[str, Any]

#: What the API server sets or a controller binds, dropped so that `kubectl apply` creates the object anew.
_SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                    "deletionTimestamp", "deletionGracePeriodSeconds")  # fmt: skip
_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "pv.kubernetes.io/",
                       "volume.kubernetes.io/", "volume.beta.kubernetes.io/")  # fmt: skip


@dataclass(frozen=True)
class Saved:
    directory: Path
    #: Kind -> how many objects were saved.
    counts: dict[str, int]

    def summary(self) -> str:
        if not self.counts:
            return f"no resource of yours to save; {self.directory} says so"
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        return f"saved {kinds} to {self.directory} (`kubectl apply -f {self.directory}` recreates them)"


def user_types(kubectl: Kubectl) -> list[str]:
    """Every custom resource type (`plural.group` of each CRD) and PersistentVolumeClaims."""
    template = '{range .items[*]}{.spec.names.plural}.{.spec.group}{"\\n"}{end}'
    result = kubectl.run("get", "customresourcedefinitions.apiextensions.k8s.io", "-o", f"jsonpath={template}",
                         timeout=120)  # fmt: skip
    if not result.ok:
        raise KfError(f"cannot list the custom resource types: {result.output}", "is the cluster running?")
    return ["persistentvolumeclaims", *sorted(set(result.stdout.split()))]


def is_users(obj: Obj) -> bool:
    """Made by the user (not applied by kfinstall, not owned by another object), or a Profile."""
    metadata = obj.get("metadata") or {}
    if metadata.get("ownerReferences"):
        return False
    if obj.get("kind") == "Profile":
        return True
    return COMPONENT_LABEL not in (metadata.get("labels") or {})


def cleaned(obj: Obj) -> Obj:
    """`obj` as `kubectl apply` takes it to create it anew (module docstring)."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if not k.startswith(_SERVER_ANNOTATIONS)}  # fmt: skip
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    copy = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    copy["metadata"] = metadata
    if obj.get("kind") == "PersistentVolumeClaim":  # a new claim binds anew; the old volume's name would pin it
        copy["spec"] = {k: v for k, v in (obj.get("spec") or {}).items() if k != "volumeName"}
    return copy


def save(kubectl: Kubectl, directory: Path) -> Saved:
    """Save the user's resources under `directory` (created), one file per kind; returns what was saved."""
    types = user_types(kubectl)
    result = kubectl.run("get", ",".join(types), "-A", "-o", "json", timeout=300)
    try:
        items = list(json.loads(result.stdout).get("items") or []) if result.ok else None
    except ValueError:
        items = None
    if items is None:
        raise KfError(f"cannot read your resources to save them: {result.output}", "is the cluster running?")
    by_kind: dict[tuple[str, str], list[Obj]] = {}
    for obj in items:
        if is_users(obj):
            group = str(obj.get("apiVersion", "")).rpartition("/")[0]
            by_kind.setdefault((group, str(obj.get("kind", ""))), []).append(cleaned(obj))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        order = sorted(by_kind, key=lambda gk: (gk[1] != "Profile", gk[1] != "PersistentVolumeClaim", gk))
        for index, (group, kind) in enumerate(order, 1):
            name = f"{index:02d}-{kind.lower()}{'.' + group if group else ''}.yaml"
            document = {"apiVersion": "v1", "kind": "List", "items": by_kind[(group, kind)]}
            (directory / name).write_text(yaml.safe_dump(document, sort_keys=False))
        (directory / "README.txt").write_text(
            f"Saved by kfinstall at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} before an upgrade.\n"
            "Recreate with `kubectl apply -f .` (Profiles first: run it again once their namespaces exist).\n"
            "Volumes keep their data (the files say what the claims were, not what they held).\n"
            "A *.sql file is a database dump (mysqldump --databases): restore it with\n"
            "  kubectl exec -i -n NAMESPACE deploy/mysql -c mysql -- mysql -u root < FILE.sql\n"
        )
    except OSError as error:
        raise KfError(f"cannot save your resources under {directory}: {error}", "free some disk space") from None
    return Saved(directory, {kind: len(by_kind[(group, kind)]) for group, kind in order})


@dataclass(frozen=True)
class Dumped:
    path: Path
    size: int
    pod: str

    def summary(self, what: str) -> str:
        return f"dumped {what} from pod {self.pod} to {self.path} ({self.size} bytes; `mysql < FILE` restores it)"


def option_file(user: str, password: str) -> str:
    """A MySQL option file giving mysqldump `user` and `password`. Each value in double quotes with `\\`, `"` and line
    breaks escaped: MySQL reads a `#` outside quotes as a comment, strips the outer quotes and undoes exactly these
    escapes (mysql/mysql-server mysys/my_default.cc `remove_end_comment`, `search_default_file_with_ext`), so any
    password comes through as it is."""

    def value(text: str) -> str:
        escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
        return '"' + "".join(escapes.get(char, char) for char in text) + '"'

    return f"[client]\nuser={value(user)}\n" + (f"password={value(password)}\n" if password else "")


def dump_database(kubectl: Kubectl, database: Database, path: Path, what: str) -> Dumped:
    """`mysqldump` of `database` in its running server's container, into `path` (module docstring). A server that
    does not run, a Secret that is not there or a dump that fails is a KfError naming the cause, raised before
    the upgrade has changed anything (the step comes right after the resources are saved)."""
    from kfinstall import redact

    hint = (f"nothing was changed: make the {database.deployment} pod in {database.namespace} run (`kfinstall status`; "
            "`kubectl describe pod` says why it does not), then run the same command again")  # fmt: skip
    secret = kubectl.get_json("secret", database.secret, "-n", database.namespace)  # redact.py masks its data
    data = secret.get("data") or {}
    try:
        user = base64.b64decode(data.get("username") or "").decode()
        password = base64.b64decode(data.get("password") or "").decode()
    except ValueError:
        raise KfError(f"cannot dump {what}: Secret {database.namespace}/{database.secret} does not hold a username "
                      "and password kfinstall can read", hint) from None  # fmt: skip
    if password:
        redact.conceal(password)  # wherever else it shows (a pod's env the user set it in, say)
    # names and phases only: a pod's spec may carry the password in its env, and the log keeps what kubectl prints
    template = '{range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}'
    listed = kubectl.run("get", "pods", "-n", database.namespace, "-l", database.selector, "-o", f"jsonpath={template}")
    if not listed.ok:
        raise KfError(f"cannot dump {what}: {listed.output}", "is the cluster running?")
    live = [line.split() for line in listed.stdout.splitlines() if len(line.split()) == 2]  # none being deleted
    if not live:
        raise KfError(f"cannot dump {what}: no pod of deployment {database.namespace}/{database.deployment} "
                      f"({database.selector})", hint)  # fmt: skip
    running = [name for name, phase in live if phase == "Running"]
    pod = (running or [live[0][0]])[0]  # a pod that is not running: kubectl exec says why
    args = ["exec", "-i", "-n", database.namespace, pod, "-c", database.container, "--", "mysqldump",
            "--defaults-extra-file=/dev/stdin", "--single-transaction", "--databases", *database.databases]  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        result = kubectl.run(*args, input=option_file(user or "root", password), log_input=False, timeout=1800,
                             stdout_to=path)  # fmt: skip
    except OSError as error:
        raise KfError(f"cannot write the dump of {what} to {path}: {error}", "free some disk space") from None
    if not result.ok:
        with contextlib.suppress(OSError):
            path.unlink()  # half a dump is no backup
        why = result.stderr.strip().replace(password, "<password>") if password else result.stderr.strip()
        raise KfError(f"cannot dump {what} (pod {database.namespace}/{pod}): {why or f'exit {result.exit_code}'}",
                      hint)  # fmt: skip
    return Dumped(path, path.stat().st_size, f"{database.namespace}/{pod}")
