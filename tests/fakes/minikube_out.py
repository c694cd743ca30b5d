"""minikube's console output: emoji or 7-bit prefixes, which stream, and the "Exiting due to" block.

Real minikube (pkg/minikube/out, pkg/minikube/style) prints an emoji prefix only when it believes a person is
watching (MINIKUBE_IN_STYLE, or TERM with "color" and a terminal); kfinstall captures its output through pipes,
so it normally sees the 7-bit prefixes `* `, `! `, `X `. Steps go to stdout, warnings and errors to stderr.
"""

from __future__ import annotations

import os
import sys

#: style name -> (emoji prefix, 7-bit prefix or None for the default rule), from pkg/minikube/style/style.go.
STYLES: dict[str, tuple[str, str | None]] = {
    "Happy": ("😄  ", None),
    "Sparkle": ("✨  ", None),
    "ThumbsUp": ("👍  ", None),
    "ThumbsDown": ("👎  ", None),
    "Pulling": ("🚜  ", None),
    "StartingVM": ("🔥  ", None),
    "Running": ("🏃  ", None),
    "Restarting": ("🔄  ", None),
    "Docker": ("🐳  ", None),
    "SubStep": ("    ▪ ", "  - "),
    "Option": ("    ▪ ", "  - "),
    "CNI": ("🔗  ", None),
    "HealthCheck": ("🔎  ", None),
    "AddonEnable": ("🌟  ", None),
    "Ready": ("🏄  ", None),
    "Kubectl": ("💗  ", None),
    "Stopping": ("✋  ", None),
    "Stopped": ("🛑  ", None),
    "DeletingHost": ("🔥  ", None),
    "Deleted": ("💀  ", None),
    "Meh": ("🙄  ", "! "),
    "Shrug": ("🤷  ", None),
    "Workaround": ("👉  ", "  "),
    "Tip": ("💡  ", None),
    "Success": ("✅  ", None),
    "Documentation": ("📘  ", None),
    "Pause": ("⏸️  ", None),
    "Unpause": ("⏯️  ", None),
    "New": ("🆕  ", None),
    "Warning": ("❗  ", "! "),
    "Failure": ("❌  ", "X "),
    "Fatal": ("💣  ", "X "),
    "UnmetRequirement": ("⛔  ", "X "),
    "SeeNoEvil": ("🙈  ", "X "),
    "Conflict": ("💢  ", "! "),
    "DryRun": ("🌵  ", None),
    "Empty": ("", ""),
}


def in_style() -> bool:
    """pkg/minikube/out.wantsColor: MINIKUBE_IN_STYLE wins; else TERM must say color and stderr be a terminal."""
    override = os.environ.get("MINIKUBE_IN_STYLE", "").strip().lower()
    if override in ("1", "t", "true"):
        return True
    if override in ("0", "f", "false"):
        return False
    term = os.environ.get("TERM", "")
    color = os.environ.get("COLORTERM", "")
    if "color" not in term and "truecolor" not in color and "24bit" not in color:
        return False
    return sys.stderr.isatty()


def prefix(style: str) -> str:
    emoji, low = STYLES[style]
    if in_style():
        return emoji
    if low is not None:
        return low
    return "  " if emoji.startswith("  ") else "* "


def step(style: str, text: str) -> None:
    """out.Step / out.Styled: a progress line on stdout."""
    sys.stdout.write(prefix(style) + text + "\n")
    sys.stdout.flush()


def err(style: str, text: str) -> None:
    """out.ErrT: a line on stderr."""
    sys.stderr.write(prefix(style) + text + "\n")
    sys.stderr.flush()


def warning(text: str) -> None:
    err("Warning", text)


def ln() -> None:
    sys.stdout.write("\n")
    sys.stdout.flush()


class Exit(Exception):
    """exit.Message: minikube prints the reason block and exits with the reason's code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def fail(
    reason: str,
    code: int,
    message: str,
    style: str = "Failure",
    advice: str | None = None,
    url: str | None = None,
) -> Exit:
    """Print `Exiting due to REASON: message` (+ advice, doc URL) as out.displayText does; raise the result."""
    ln()
    err(style, f"Exiting due to {reason}: {message}")
    if advice:
        lines = [line.strip() for line in advice.strip().splitlines()]
        text = lines[0] if len(lines) == 1 else "\n" + "\n".join("    " + line for line in lines)
        err("Tip", f"Suggestion: {text}")
    if url:
        err("Documentation", f"Documentation: {url}")
    ln()
    return Exit(code)


def usage_error(message: str, command: str) -> Exit:
    """Cobra's own flag/command errors (before minikube's code runs): exit 14, ExProgramUsage."""
    sys.stderr.write(f"Error: {message}\nSee 'minikube {command} --help' for usage.\n")
    return Exit(14)
