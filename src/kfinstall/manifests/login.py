"""The Kubeflow login: read the user's password without exposing it, and put its bcrypt hash into Dex's config.

Every Kubeflow release ships Dex with one static user, `user@example.com`, whose password is `12341234`. Only a
bcrypt hash of the new password leaves this module: it is hashed here, then written into the built objects of
the release before they are applied, so the plaintext is never in a manifest, a log, a process argument or the
install record.

Releases keep that hash in one of two places, and `set_login` recognises both from the objects themselves (no
per-release facts needed): v1.4 has `hash:` inline in the `dex` ConfigMap's `config.yaml`; v1.9 and later have
`hashFromEnv: DEX_USER_PASSWORD` there and the hash in the `dex-passwords` Secret.

The user's Profile (user-namespace) is named and owned after the login too (`own_profiles`): the user's
namespace is the Profile's name, and v1.9.1–v1.11.0 cannot be trusted to name it (below).
"""

from __future__ import annotations

import base64
import copy
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfinstall.errors import UsageError

Obj = dict[str, Any]

#: The login every release's Dex ships, written down only here: kubeflow/manifests common/dex/base/config-map.yaml
#: `staticPasswords` has user@example.com at every pinned tag, with the same bcrypt hash of 12341234 (inline in
#: v1.4.0; common/dex/base/dex-passwords.yaml from v1.9 on).
DEFAULT_EMAIL = "user@example.com"
DEFAULT_PASSWORD = "12341234"
DEFAULT_LOGIN = (DEFAULT_EMAIL, DEFAULT_PASSWORD)
MIN_LENGTH = 8
#: bcrypt reads at most 72 bytes of a password. golang.org/x/crypto/bcrypt (golang/crypto bcrypt/bcrypt.go,
#: `GenerateFromPassword`: ErrPasswordTooLong) refuses longer ones, but its `CompareHashAndPassword`, which Dex
#: calls at login (dexidp/dex server/connectors/password.go, `passwordDB.Login`), reads only the first 72 bytes.
#: The Python bcrypt package raises on them from 5.0 and silently truncates before: either way a longer password
#: is not what Dex would check, so it is refused up front.
MAX_BYTES = 72
#: What Windows Notepad puts at the start of a UTF-8 file; not part of the password.
BOM = "\ufeff"
#: On Dex's pod template: a digest of the login, so that a new login restarts Dex.
LOGIN_ANNOTATION = "kfinstall.dev/login"


@dataclass(frozen=True)
class Login:
    """Who logs in to the dashboard. `hash` None keeps the release's default password."""

    email: str = DEFAULT_EMAIL
    hash: str | None = None

    @property
    def changes_anything(self) -> bool:
        return self.hash is not None or self.email != DEFAULT_EMAIL


def hash_password(plaintext: str) -> str:
    """bcrypt hash in the form Dex accepts."""
    import bcrypt

    return bcrypt.hashpw(plaintext.encode("utf-8"), bcrypt.gensalt(rounds=10)).decode("ascii")


def _strip_line_end(text: str) -> str:
    """A password file or pipe ends in a newline the user did not mean as part of the password (CRLF from
    Notepad too), and may start with a byte-order mark, which is no part of it either."""
    text = text.removeprefix(BOM)
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


#: The rule a new password must meet, said before it is asked for (the prompt) and when it is not met.
RULE = f"at least {MIN_LENGTH} characters"


def problem(plaintext: str, source: str) -> UsageError | None:
    """What is wrong with `plaintext` as a Dex password (None: nothing), naming where it came from."""
    if not plaintext:
        return UsageError(f"the password from {source} is empty", "put the password on the first line")
    if "\n" in plaintext or "\r" in plaintext:
        return UsageError(f"the password from {source} has more than one line", "put only the password in it")
    if len(plaintext) < MIN_LENGTH:
        return UsageError(f"the password from {source} is shorter than {MIN_LENGTH} characters", "choose a longer one")
    size = len(plaintext.encode("utf-8"))
    if size > MAX_BYTES:
        return UsageError(
            f"the password from {source} is {size} bytes long: Dex's bcrypt reads at most {MAX_BYTES}",
            f"choose a password of at most {MAX_BYTES} bytes (UTF-8; a non-ASCII character takes 2 to 4)",
        )
    return None


def _checked(plaintext: str, source: str) -> str:
    error = problem(plaintext, source)
    if error is not None:
        raise error
    return plaintext


#: How often a prompt asks again after a password that breaks the rule or a confirmation that differs.
PROMPT_TRIES = 3


def ask_password(
    ask: Callable[[str], str], tell: Callable[[str], None], *, keep_default: bool, tries: int = PROMPT_TRIES
) -> str | None:
    """A new password asked for on a terminal: the rule stated first; Enter keeps the default only where
    `keep_default` offers it (None); a password breaking the rule, or a confirmation that differs, asks again,
    `tries` times in all, then a UsageError. `ask` reads without echo, `tell` writes a line."""
    offer = f"; Enter keeps the default {DEFAULT_PASSWORD}" if keep_default else ""
    tell(f"The dashboard password: {RULE}, at most {MAX_BYTES} bytes{offer}.")
    last: UsageError | None = None
    for attempt in range(1, tries + 1):
        first = ask("Dashboard password: ")
        if not first and keep_default:
            return None
        last = problem(first, "the prompt")
        if last is None:
            if ask("Again, to confirm: ") == first:
                return first
            last = UsageError("the two passwords differ", "type the same password twice")
        if attempt < tries:
            tell(f"{last.message}: try again ({tries - attempt} {'try' if tries - attempt == 1 else 'tries'} left)")
    assert last is not None
    last.hint = f"{last.hint}; or give it with --password-file FILE or --password-stdin"
    raise last


def read_password(password_file: Path | None, password_stdin: bool, *, stdin: Any = None) -> str | None:
    """The new password from a file or stdin, or None when neither is given (then a terminal may be asked:
    `ask_password`).

    Errors (missing or empty file, both sources at once) are UsageErrors raised before anything is changed.
    """
    stdin = stdin if stdin is not None else sys.stdin
    if password_file is not None and password_stdin:
        raise UsageError("--password-file and --password-stdin both give the password", "use one of them")
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"password file {password_file} does not exist", "check the path") from None
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read password file {password_file}: {error}", "check the file") from None
        return _checked(_strip_line_end(text), str(password_file))
    if password_stdin:
        try:
            text = stdin.read()
        except UnicodeDecodeError as error:
            message = f"the password from standard input is not UTF-8 text: {error}"
            raise UsageError(message, "check its encoding") from None
        return _checked(_strip_line_end(text), "standard input")
    return None


def check_email(email: str) -> str:
    local, at, domain = email.partition("@")
    if not (at and local and "." in domain) or any(c.isspace() for c in email):
        raise UsageError(f"--email {email!r} is not an email address", "e.g. --email you@example.org")
    return email


# Dex's config ------------------------------------------------------------------------------------------------


def _dex_config_key(obj: Obj) -> str | None:
    """The `data` key of a ConfigMap holding a Dex config with static passwords, if `obj` is one."""
    if obj.get("kind") != "ConfigMap":
        return None
    for key, value in (obj.get("data") or {}).items():
        if isinstance(value, str) and "staticPasswords:" in value and "issuer:" in value:
            return key
    return None


def has_dex(objects: Sequence[Obj]) -> bool:
    return any(_dex_config_key(obj) for obj in objects)


def set_login(objects: Sequence[Obj], login: Login, *, old_email: str = DEFAULT_EMAIL) -> list[Obj] | None:
    """`objects` with Dex's static user set to `login` (pure); None when they hold no Dex config.

    The first static password entry is Kubeflow's user; its email, and its hash (inline, or in the Secret named
    by `hashFromEnv`), are replaced. A Profile among them owned by the old email follows the new one
    (`own_profiles`).
    """
    import yaml

    result = [copy.deepcopy(obj) for obj in objects]
    env_hashes: set[str] = set()
    holders: set[str] = set()  # names of the ConfigMaps and Secrets that now hold the login
    found = False
    for obj in result:
        key = _dex_config_key(obj)
        if key is None:
            continue
        holders.add(str((obj.get("metadata") or {}).get("name", "")))
        config = yaml.safe_load(obj["data"][key])
        users = config.get("staticPasswords") or []
        if not users:
            continue
        found = True
        user = users[0]
        old_email = user.get("email", old_email)
        user["email"] = login.email
        if login.hash is not None:
            if user.get("hashFromEnv"):
                env_hashes.add(str(user["hashFromEnv"]))
            else:
                user["hash"] = login.hash
        obj["data"][key] = yaml.safe_dump(config, sort_keys=False)
    if not found:
        return None
    for name in env_hashes:
        secrets = _set_secret_value(result, name, str(login.hash))
        if not secrets:
            raise ValueError(f"Dex reads the password hash from ${name}, but no Secret among the objects holds it")
        holders.update(secrets)
    _roll_dex(result, holders, login)
    return own_profiles(result, login.email, old_email=old_email) or result


# The user's Profile ----------------------------------------------------------------------------------------------

#: A kustomize var reference left in the output (`$(profile-name)`, `$(user)`).
_UNSUBSTITUTED = re.compile(r"\$\([^)]*\)")
_NOT_IN_LABEL = re.compile(r"[^a-z0-9-]")
#: Namespace names are RFC 1123 labels (kubernetes/kubernetes pkg/apis/core/validation ValidateNamespaceName).
LABEL_MAX = 63


def profile_name(email: str) -> str:
    """The Profile, and so the namespace, of the user `email`, by upstream's convention.

    Upstream has no code for it, only one example that every release repeats: `user=user@example.com` gives
    `profile-name=kubeflow-user-example-com` (common/user-namespace/base/params.env of v1.4.0–v1.11.0; 26.03's
    profile-instance.yaml names the Profile so). The rule that reproduces it: `kubeflow-` and the lower-cased email
    with every character a namespace name may not hold (`@`, `.`, `+`, `_`) turned into `-`; cut to the 63
    characters of an RFC 1123 label, never ending in `-`. (kfctl's old EmailToDefaultName, kubeflow/kubeflow
    bootstrap/v3/pkg/apis/apps/group.go, dropped everything after `@`, which disagrees with that example.)
    """
    return ("kubeflow-" + _NOT_IN_LABEL.sub("-", email.lower()))[:LABEL_MAX].rstrip("-")


def _is_users_profile(obj: Obj, old_email: str) -> bool:
    """The Profile user-namespace makes for the login: owned by the release's user, or left with kustomize vars."""
    if obj.get("kind") != "Profile" or not str(obj.get("apiVersion", "")).startswith("kubeflow.org/"):
        return False
    owner = str(((obj.get("spec") or {}).get("owner") or {}).get("name", ""))
    name = str((obj.get("metadata") or {}).get("name", ""))
    return owner == old_email or bool(_UNSUBSTITUTED.fullmatch(owner) or _UNSUBSTITUTED.fullmatch(name))


def own_profiles(objects: Sequence[Obj], email: str, *, old_email: str = DEFAULT_EMAIL) -> list[Obj] | None:
    """`objects` with the login's Profile named `profile_name(email)` and owned by `email` (pure); None when they
    hold no such Profile.

    v1.9.1, v1.10.2 and v1.11.0 set the Profile's name and owner with kustomize `replacements` whose target
    selects the name `$(profile-name)`; kustomize 5.8 (kubectl 1.35+ embeds it) leaves them unreplaced, and the
    API server refuses a Profile named `$(profile-name)` (kubeflow/community-distribution#3315). Naming it here
    makes the Profile valid whatever kustomize built it, and follows `--email`.
    """
    if not any(_is_users_profile(obj, old_email) for obj in objects):
        return None
    result = [copy.deepcopy(obj) for obj in objects]
    for obj in result:
        if _is_users_profile(obj, old_email):
            obj.setdefault("metadata", {})["name"] = profile_name(email)
            obj.setdefault("spec", {}).setdefault("owner", {"kind": "User"})["name"] = email
    return result


def pipeline_access(objects: Sequence[Obj], templates: Sequence[Obj]) -> list[Obj]:
    """Upstream's `access-ml-pipeline` PodDefault (`templates`, read from the tag: the pins' `pipeline_access`) for
    the namespace of each Kubeflow Profile among `objects` (pure; after `own_profiles`, so it follows `--email`).

    Upstream's CI applies it to the user's namespace before running a pipeline from a notebook (kubeflow/
    community-distribution .github/workflows/full_kubeflow_integration_test.yaml: `sed` of the namespace, `kubectl
    apply`); a pod labelled `access-ml-pipeline: "true"` (the notebook form's "Allow access to Kubeflow Pipelines")
    gets a projected service-account token with audience pipelines.kubeflow.org and `KF_PIPELINES_SA_TOKEN_PATH`,
    which `kfp.Client()` reads (kubeflow/pipelines sdk/python/kfp/client/set_volume_credentials.py). The Profile's
    namespace exists only once the profile controller made it: its apply is retried as "namespace not created yet"
    (kube/classify.py), as the profile's own readiness check waits for that namespace.
    """
    namespaces = [
        str(obj["metadata"]["name"])
        for obj in objects
        if obj.get("kind") == "Profile" and str(obj.get("apiVersion", "")).startswith("kubeflow.org/")
    ]
    result = []
    for namespace in namespaces:
        for template in templates:
            if template.get("kind") != "PodDefault":
                continue
            copy_ = copy.deepcopy(template)
            copy_.setdefault("metadata", {})["namespace"] = namespace
            result.append(copy_)
    return result


def _set_secret_value(objects: list[Obj], name: str, value: str) -> set[str]:
    """Set key `name` wherever a Secret has it; the names of those Secrets."""
    done = set()
    for obj in objects:
        if obj.get("kind") != "Secret":
            continue
        if name in (obj.get("stringData") or {}):
            obj["stringData"][name] = value
        elif name in (obj.get("data") or {}):
            obj["data"][name] = base64.b64encode(value.encode()).decode()
        else:
            continue
        done.add(str((obj.get("metadata") or {}).get("name", "")))
    return done


def _roll_dex(objects: list[Obj], holders: set[str], login: Login) -> None:
    """Annotate the pod template of Deployments that read the login, so a changed login rolls Dex's pods: Dex
    reads its config and environment only at start, and a re-run of `up` with a new password would otherwise
    leave the old one in force. The annotation is a digest of the hash, not the hash."""
    import hashlib
    import json

    digest = hashlib.sha256(f"{login.email}\n{login.hash}".encode()).hexdigest()[:16]
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        template = (obj.get("spec") or {}).get("template") or {}
        uses = json.dumps(template.get("spec") or {})
        if any(name and f'"{name}"' in uses for name in holders):
            template.setdefault("metadata", {}).setdefault("annotations", {})[LOGIN_ANNOTATION] = digest


def applyable(obj: Obj) -> Obj:
    """A live ConfigMap/Secret reduced to what kfinstall applies (no status, uid, managedFields...)."""
    metadata = obj.get("metadata") or {}
    kept: Obj = {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {key: metadata[key] for key in ("name", "namespace", "labels") if key in metadata},
    }
    for key in ("data", "stringData", "type", "spec"):
        if key in obj:
            kept[key] = obj[key]
    return kept
