"""The one output door: every console kfinstall prints through is built here, and every JSON document printed here.

The policy in one place: results go to stdout (so `kfinstall status --json | jq` and `kfinstall images list >
list.txt` carry only them), progress, warnings and errors to stderr; Rich's syntax highlighting is always off (it
would colour numbers and paths at random); Rich itself honours NO_COLOR and drops colour on a pipe; a stream that
cannot encode kfinstall's few symbols gets ASCII stand-ins (`terminal.use_ascii_fallbacks`, installed by the
command frame before anything prints). A console is built per use: Rich reads `sys.stdout`/`sys.stderr` when it
writes, so nothing here outlives a redirected stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: The version of every `--json` document and JSON line kfinstall prints, its first key. It changes only when a
#: field is removed or changes meaning (a script may then refuse what it does not know); new fields keep it.
SCHEMA_VERSION = 1


def versioned(document: object) -> object:
    """`document` with `schema_version` first (a document that is not an object is wrapped: `{"items": [...]}`)."""
    if isinstance(document, dict):
        return {"schema_version": SCHEMA_VERSION, **{k: v for k, v in document.items() if k != "schema_version"}}
    return {"schema_version": SCHEMA_VERSION, "items": document}


def stdout(*, soft_wrap: bool = False) -> Console:
    """A console for a command's result. `soft_wrap`: long lines stay whole (a pipe would otherwise fold them at
    80 columns), for lines a script or a user copies (commands, URLs, messages quoted from the cluster)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=soft_wrap)


def stderr(*, soft_wrap: bool = True) -> Console:
    """A console for progress, warnings and errors, which must never mix into a command's result on stdout."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=soft_wrap)


def echo(text: str, *, err: bool = False) -> None:
    """A plain line, never read as markup: a list a script reads, or a URL."""
    import typer

    typer.echo(text, err=err)


def print_json(document: object) -> None:
    """A `--json` document on stdout: versioned, indented, and non-ASCII text (names, quoted messages) left as it
    is."""
    import json

    echo(json.dumps(versioned(document), indent=2, ensure_ascii=False))


def json_line(document: object, stream: TextIO | None = None) -> None:
    """One event of a JSON-lines stream (`up --json`): compact, ASCII-escaped, flushed at once so that a script
    reading the pipe sees each event when it happens."""
    import json
    import sys

    target = stream or sys.stdout
    target.write(json.dumps(versioned(document)) + "\n")
    target.flush()
