"""`kfinstall check`: the prerequisites of a release on this machine (or cluster); exit 1 if one fails.

Only asks (tools' versions, the host, the cluster, with `--images` the registries): it changes nothing and
opens no log, so it works where the log directory cannot be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command

if TYPE_CHECKING:
    from kfinstall.checks.prerequisites import CheckRequest, CheckResult
    from kfinstall.ui.messages import Voice


@dataclass(frozen=True)
class Checked:
    request: CheckRequest
    results: list[CheckResult]

    @property
    def exit_code(self) -> int:
        from kfinstall.checks import prerequisites

        return 1 if prerequisites.failed(self.results) else 0


def prepare(**options: Any) -> CheckRequest:
    """The release chosen and the machine settings parsed (`prerequisites.build_request`); bad input: exit 2."""
    from kfinstall.checks import prerequisites

    return prerequisites.build_request(**options)


def check(request: CheckRequest, say: Voice) -> Checked:
    from kfinstall.checks import prerequisites

    if request.images:
        say.note("building the plan, asking the registries for its images…")
    return Checked(request, prerequisites.run_checks(request))


def show(result: Checked) -> None:
    from kfinstall.ui import output, tables

    request = result.request
    tables.print_checks(request.release, request.profile, result.results, output.stdout(), request.choice_reason)


def as_json(result: Checked) -> dict[str, Any]:
    from kfinstall.ui import tables

    return tables.check_dict(result.results, result.request.release, result.request.choice_reason)


COMMAND = Command(log="check", prepare=prepare, run=check, show=show, json=as_json)
