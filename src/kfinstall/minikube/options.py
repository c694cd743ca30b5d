"""Which minikube options a command may be given: the rules `check`, `plan` and `up` share, written once.

The minikube options (`--cpus`, `--memory`, `--disk-size`, `--driver`, `--gpus`) shape the cluster kfinstall
starts; with `--context` there is none to start, so giving both is a mistake to refuse before anything runs, with
the same words whichever command was given them. `--k8s-version` is the full version minikube is asked to start.
`--gpus` takes the values some minikube release accepts (release/minikube_support.py `GPU_VALUES`); whether the
local minikube accepts the value is a check's verdict.

Pure: no process, no import of the commands, so `checks/` and `install/` both import it without a cycle.
"""

from __future__ import annotations

from kfinstall.errors import UsageError
from kfinstall.release.minikube_support import GPU_VALUES
from kfinstall.release.version import Version

#: Every `--gpus` value a minikube release accepts (all, nvidia since v1.32.0; amd since v1.35.0).
GPU_CHOICES: tuple[str, ...] = tuple(value for value, _ in GPU_VALUES)


def check_gpus_choice(gpus: str | None) -> str | None:
    """`gpus` unchanged when it is None or a value minikube knows; else a UsageError."""
    if gpus is not None and gpus not in GPU_CHOICES:
        raise UsageError(f"--gpus {gpus!r} is not one of {', '.join(GPU_CHOICES)}", "use --gpus all")
    return gpus


def parse_k8s_version(text: str) -> Version:
    """`--k8s-version` (or a pin's default) as the full version minikube is asked to start: `v1.34.0` or `1.34.0`;
    a UsageError for anything else, and for a version without its patch number."""
    try:
        version = Version.parse(text)
    except ValueError:
        raise UsageError(f"--k8s-version {text!r} is not a version", "give a version like v1.19.3") from None
    if version.patch is None:
        raise UsageError(f"--k8s-version {text} needs the patch number", f"for example {version}.0")
    return version


def refuse_minikube_options_with_context(context: str | None, given: dict[str, object]) -> None:
    """A UsageError when `--context` comes with minikube options; `given` maps each minikube option the command
    has (`--cpus`, ...) to its value, None when not given."""
    named = [option for option, value in given.items() if value is not None]
    if context and named:
        raise UsageError(
            f"--context uses an existing cluster, so the minikube options ({', '.join(given)}) do not apply: "
            f"{', '.join(named)} given",
            "drop the minikube options, or drop --context to let kfinstall start minikube",
        )
