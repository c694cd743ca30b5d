"""`kfinstall port-forward`: forward a local port to Kubeflow's gateway and keep it alive until Ctrl-C.

`kube.portforward` supervises kubectl (restarts, patience with an API server that restarts); this is the command
around it: the port and address checked before a log is opened, the URL and the login once the forward works,
the browser opened when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfinstall.commands.frame import Command
from kfinstall.errors import KfError

if TYPE_CHECKING:
    from kfinstall.kube.portforward import ForwardOptions
    from kfinstall.ui.messages import Voice


@dataclass(frozen=True)
class ForwardRequest:
    options: ForwardOptions
    open_browser: bool = False
    #: `--json`: the URL and login as one JSON line once the forward works (a script waits for it).
    json: bool = False


@dataclass(frozen=True)
class DashboardLogin:
    """Who logs in: the install record's email; `default_password` while the release's default is in use."""

    email: str
    default_password: str | None


@dataclass(frozen=True)
class Forwarded:
    """The forward ended by Ctrl-C (repeated failures end it with a KfError instead)."""


def prepare(
    *, minikube_profile: str, context: str | None, port: int, address: str, open_browser: bool, json: bool = False
) -> ForwardRequest:
    """Port and address checked: a bad input leaves no log file. A port an earlier `kfinstall port-forward`
    holds is that forward, said as such; then the cluster is looked for (one clear error when there is none)."""
    from kfinstall.commands.options import require_cluster
    from kfinstall.kube import localport
    from kfinstall.kube import portforward as pf

    options = pf.ForwardOptions(context or minikube_profile, port, address, None if context else minikube_profile)
    if not localport.in_range(port):
        pf.check_port(options)
    localport.check_address(address)
    if not localport.is_free(address, port):
        earlier = localport.kfinstall_forward(port)
        if earlier is not None:
            suggestion = localport.next_free(address, port)
            another = f"`kfinstall port-forward --port {suggestion}`" if suggestion else "--port"
            raise KfError(
                f"Kubeflow is already forwarded at {options.url} (kfinstall port-forward, pid {earlier.pid})",
                f"open it; stop that forward with Ctrl-C in its terminal or `kill {earlier.pid}`; another: {another}",
            )
    require_cluster("port-forward", minikube_profile, context)
    return ForwardRequest(options, open_browser, json)


def dashboard_login(context: str) -> DashboardLogin:
    """The login to use, from the install record when it can be read (else the release's default)."""
    from kfinstall.kube import record
    from kfinstall.kube.kubectl import Kubectl
    from kfinstall.manifests.login import DEFAULT_LOGIN

    email, password = DEFAULT_LOGIN
    try:
        installed = record.read(Kubectl(context))
    except KfError:
        installed = None
    if installed is None:
        return DashboardLogin(email, password)
    return DashboardLogin(installed.email, password if installed.default_password else None)


def port_forward(request: ForwardRequest, say: Voice) -> Forwarded:
    from kfinstall.kube import localport
    from kfinstall.kube import portforward as pf
    from kfinstall.ui import results

    options = request.options
    if not localport.is_loopback(options.address):
        results.show_exposed(options.address, options.port)

    def ready() -> None:
        login = dashboard_login(options.context)
        if request.json:
            from kfinstall.ui import output

            output.json_line({"phase": "forwarding", "url": options.url, "email": login.email,
                              "default_password": login.default_password is not None})  # fmt: skip
        else:
            results.show_forwarding(options.url, login)
        if request.open_browser:
            import webbrowser

            webbrowser.open(options.url)

    pf.forward(options, say.warn, ready)
    return Forwarded()


def show(result: Forwarded) -> None:
    from kfinstall.ui import results

    results.show_forward_stopped()


COMMAND = Command(log="port-forward", prepare=prepare, run=port_forward, show=show, json_lines=True)
