"""Options several commands share, turned into the values the commands take: `up`'s options, the dashboard login.

The CLI hands over raw strings; the rules for them (units, minikube's drivers and disk sizes, the mirror URL,
`--variant COMPONENT=VARIANT`, the password sources) are checked here, before any command starts, so that bad
input ends with exit 2 and nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.manifests.login import Login
    from kfinstall.release.pins import Pins


def up_options(**values: object) -> UpOptions:
    """Turn raw CLI values into UpOptions (units parsed, minikube's values checked, repeatable options collected)."""
    from kfinstall.install.up import UpOptions
    from kfinstall.minikube.units import check_disk_size, check_driver, parse_cpus, parse_memory_mb

    if values.get("driver") is not None:
        check_driver(str(values["driver"]))
    if values.get("disk_size") is not None:
        check_disk_size(str(values["disk_size"]))
    if values.get("manifests_repo") is not None:
        from kfinstall.manifests import giturl

        giturl.check_option(str(values["manifests_repo"]))

    variants = {}
    for item in values.pop("variant") or []:  # type: ignore[union-attr]
        component, sep, variant = str(item).partition("=")
        if not sep:
            from kfinstall.errors import UsageError

            raise UsageError(f"--variant {item!r} is not COMPONENT=VARIANT", "e.g. --variant pipelines=pns")
        variants[component] = variant
    cpus, memory = values.pop("cpus"), values.pop("memory")
    return UpOptions(
        cpus=parse_cpus(cpus) if cpus is not None else None,  # type: ignore[arg-type]
        memory_mb=parse_memory_mb(memory) if memory is not None else None,  # type: ignore[arg-type]
        with_ids=tuple(values.pop("with_ids") or ()),  # type: ignore[arg-type]
        without_ids=tuple(values.pop("without_ids") or ()),  # type: ignore[arg-type]
        variants=variants,
        **values,  # type: ignore[arg-type]
    )


def read_login(password_file: Path | None, password_stdin: bool, email: str | None, *, prompt: bool) -> Login:
    """Read and hash the password at once: only its bcrypt hash goes further than this function."""
    from kfinstall.manifests import login as pw

    plaintext = pw.read_password(password_file, password_stdin, prompt=prompt)
    if plaintext is not None:
        from kfinstall.redact import conceal

        conceal(plaintext)  # never logged; should it ever be, the log says `<redacted N bytes>`
    return pw.Login(
        pw.check_email(email) if email is not None else pw.DEFAULT_EMAIL,
        None if plaintext is None else pw.hash_password(plaintext),
    )


def plan_for(options: UpOptions) -> tuple[InstallPlan, Pins, str | None]:
    """The plan, the pins, and why its release was chosen (None when `-k` named it): the release is chosen for
    this machine's minikube (checks), which the pure plan of install/up.py must not ask."""
    from kfinstall.checks.prerequisites import release_choice
    from kfinstall.install.up import make_plan
    from kfinstall.release.pins import load_pins

    pins = load_pins(options.pins)
    choice = release_choice(pins, options.kubeflow_version, options.context)
    return make_plan(options, choice.release), pins, choice.reason
