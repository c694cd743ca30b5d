"""Secrets out of the log file: the log keeps every command and its output, but no secret value in clear.

The log is what a user attaches to a bug report, and it holds whatever kfinstall hands to or reads from kubectl
and kustomize: the YAML of every build (kustomize's stdout), the JSON of every apply (kubectl's stdin), the
cluster's answers and watch events. `redact` takes one such text and returns it with every secret value replaced
by `<redacted N bytes>`, keeping names and keys so that the log still says *which* Secret held *what*:

- a Secret's `data` and `stringData` values (also inside Lists, watch events and the
  `kubectl.kubernetes.io/last-applied-configuration` annotation, which repeats the whole object as a string);
- bcrypt hashes anywhere (Dex's `staticPasswords[].hash`, inline in its ConfigMap up to Kubeflow v1.8);
- values of keys that name a secret in configuration text (`password`, `secret` — Dex's `staticClients[].secret`
  —, `clientSecret`, `bindPW`, `token`, kubeconfig's `client-key-data`), PEM private keys, `Bearer` tokens,
  `--token`/`--password` command-line values;
- the values `conceal` was told about (the dashboard password, which kfinstall never logs: a second guard).

Pure text in, text out. Cheap where there is nothing to redact: a document is parsed only when it declares
`kind: Secret`, the rest is a handful of regular expressions over the text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_concealed: set[str] = set()


def conceal(value: str) -> None:
    """Redact `value` wherever it appears in a log line from now on (the dashboard password, say)."""
    if len(value) >= 4:  # shorter would blank out ordinary words of the log; such a value is never logged anyway
        _concealed.add(value)


def redacted(size: int) -> str:
    return f"<redacted {size} bytes>"


# A document boundary, in YAML streams (kustomize's output) and in kfinstall's `---`-joined JSON applies.
_DOCUMENT_SEPARATOR = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)
# `kind: Secret` in YAML, JSON, or JSON quoted inside a JSON string (the last-applied annotation).
_DECLARES_SECRET = re.compile(r"""kind(?:\\?["'])?\s*:\s*(?:\\?["'])?Secret\b""")
# bcrypt's modular crypt format: $2a$/$2b$/$2y$, a two-digit cost, 22 characters of salt and 31 of hash.
_BCRYPT = re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}")
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL)
# RFC 6750's b64token, of a token's length: "Bearer response header" in a comment stays as it is.
_BEARER = re.compile(r"(\b(?:Bearer|bearer|BEARER)[ \t]+)([A-Za-z0-9\-._~+/]{16,}=*)")
_SECRET_KEYS = (
    r"password|passwd|secret|clientSecret|client_secret|bindPW|token|client-key-data|access-token|id-token"
    r"|refresh-token"
)
_KEY_VALUE = (
    rf"""(?P<key>[ \t]*(?:-[ \t]+)?["']?(?:{_SECRET_KEYS})["']?[ \t]*:[ \t]+)"""
    # an inline scalar, plain or quoted: not a mapping, list, block scalar, alias or empty string
    r"""(?P<value>"[^"\n\\]+"|'[^'\n]+'|[^\s\\"'{}\[\]|>&*#<][^\n\\"]*)"""
)
# `key: value` on a line of its own, also a line of YAML inside a JSON string (after an escaped `\n`). Case
# matters (YAML keys are case-sensitive), and no flag that would slow the scan of a 10 MB log.
_SECRET_LINE = re.compile(rf"^{_KEY_VALUE}", re.MULTILINE)
_SECRET_ESCAPED_LINE = re.compile(rf"(?<=\\n){_KEY_VALUE}")
# `"key": "value"` in JSON.
_SECRET_JSON = re.compile(rf'(?P<key>"(?:{_SECRET_KEYS})"[ \t]*:[ \t]*")(?P<value>(?:[^"\\<]|\\.)(?:[^"\\]|\\.)*)"')
_SECRET_FLAG = re.compile(r"(?P<key>--(?:token|password|client-key|client-secret)(?:=|[ \t]+))(?P<value>[^\s<]\S*)")


def redact(text: str) -> str:
    """`text` (a command's input or output, a log message) with every secret value replaced."""
    if not text:
        return text
    if _DECLARES_SECRET.search(text):
        text = _redact_secret_documents(text)
    # Each scan only where its mark is in the text: a 10 MB build output costs a few tenths of a second.
    if "$2" in text:
        text = _BCRYPT.sub(lambda m: redacted(len(m.group(0))), text)
    if "PRIVATE KEY-----" in text:
        text = _PEM_PRIVATE_KEY.sub(lambda m: redacted(len(m.group(0).encode())), text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: m.group(1) + redacted(len(m.group(2))), text)
    for pattern, mark in (
        (_SECRET_LINE, ":"),
        (_SECRET_ESCAPED_LINE, "\\n"),
        (_SECRET_JSON, '"'),
        (_SECRET_FLAG, "--"),
    ):
        if mark in text:
            text = pattern.sub(lambda m: m.group("key") + redacted(len(m.group("value").encode())), text)
    for value in _concealed:
        if value in text:
            text = text.replace(value, redacted(len(value.encode())))
    return text


def _redact_secret_documents(text: str) -> str:
    """Each document of the stream that declares a Secret, parsed, its values redacted and written back."""
    parts = _DOCUMENT_SEPARATOR.split(text)
    if len(parts) == 1:
        return _redact_document(text)
    separators = _DOCUMENT_SEPARATOR.findall(text)
    out = [_redact_document(parts[0])]
    for separator, part in zip(separators, parts[1:], strict=True):
        out += [separator, _redact_document(part)]
    return "".join(out)


def _redact_document(document: str) -> str:
    if not _DECLARES_SECRET.search(document):
        return document
    stripped = document.strip()
    if stripped.startswith(("{", "[")):
        redone = _redact_json(stripped)
        if redone is None:  # JSON lines (a watch stream): each line on its own
            lines = [_redact_json(line.strip()) if line.strip() else line for line in document.split("\n")]
            if all(line is not None for line in lines):
                return "\n".join(line for line in lines if line is not None)
        else:  # indented as the log indents an output (its first line's indent stays in place)
            return _keep_surroundings(document, stripped, _reindent(redone, _indentation(document)).lstrip())
    redone = _redact_yaml(document)
    if redone is not None:
        return redone
    # Neither JSON nor YAML that parses, and it declares a Secret: nothing of it is safe to keep.
    return _keep_surroundings(document, stripped, redacted(len(stripped.encode())) + " (a Secret that did not parse)")


def _keep_surroundings(document: str, stripped: str, replacement: str) -> str:
    start = document.index(stripped)
    return document[:start] + replacement + document[start + len(stripped) :]


def _redact_json(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not _walk(data):
        return text
    if "\n" in text:  # kubectl's `-o json`: four spaces
        return json.dumps(data, indent=4, ensure_ascii=False)
    compact = ", " not in text[:200]
    return json.dumps(data, separators=(",", ":") if compact else None, ensure_ascii=False)


def _redact_yaml(document: str) -> str | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = [doc for doc in yaml.load_all(document, Loader=loader) if doc is not None]
    except yaml.YAMLError:
        return None
    if not any([_walk(doc) for doc in documents]):  # a list: every document is walked
        return document
    indent = _indentation(document)
    body = "---\n".join(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20) for doc in documents)
    leading = document[: len(document) - len(document.lstrip("\n"))]
    trailing = "\n" if document.endswith("\n") else ""
    return leading + _reindent(body.rstrip("\n"), indent) + trailing


def _indentation(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    return ""


def _reindent(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in text.split("\n")) if indent else text


def _walk(node: Any) -> bool:
    """Redact every Secret found in `node` in place (and Secrets inside its strings); True if anything changed."""
    changed = False
    if isinstance(node, dict):
        if node.get("kind") == "Secret":
            for field in ("data", "stringData"):
                values = node.get(field)
                if isinstance(values, dict):
                    for key, value in values.items():
                        node[field][key] = redacted(_size(value, encoded=field == "data"))
                    changed = changed or bool(values)
                elif values is not None:
                    node[field] = redacted(len(json.dumps(values).encode()))
                    changed = True
        for key, value in node.items():
            if isinstance(value, str):
                if _DECLARES_SECRET.search(value):
                    new = _redact_secret_documents(value)
                    if new != value:
                        node[key] = new
                        changed = True
            elif _walk(value):
                changed = True
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                if _DECLARES_SECRET.search(value):
                    new = _redact_secret_documents(value)
                    if new != value:
                        node[index] = new
                        changed = True
            elif _walk(value):
                changed = True
    return changed


def _size(value: object, *, encoded: bool) -> int:
    """The value's size in bytes: decoded for `data` (base64), as written for `stringData`."""
    text = value if isinstance(value, str) else json.dumps(value)
    if encoded:
        try:
            return len(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            pass
    return len(text.encode())
