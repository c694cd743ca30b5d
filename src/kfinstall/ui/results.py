"""How the smaller commands' results read: `down`, `gpu-test`, `images`, `port-forward`.

(`versions` and `check` are `tables`, `status` is `status_screen`, `up`'s progress is `progress`.) The commands
return data; the words and symbols the user sees are chosen here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kfinstall.ui import output
from kfinstall.ui.messages import hint_line
from kfinstall.ui.words import count, first_few, size

if TYPE_CHECKING:
    from kfinstall.commands.down import Down
    from kfinstall.commands.port_forward import DashboardLogin
    from kfinstall.kube.gpu import GpuTestResult


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def declined_down(target: str) -> None:
    """The line `down` leaves when its question was answered no (it then exits 1: nothing was done)."""
    output.stderr().print(_escape(f"Nothing deleted: you answered no; {target} is as it was."))


def show_down(result: Down) -> None:
    console = output.stderr()
    if result.cluster is not None:
        console.print(_escape(result.cluster))
        kept = result.kept
        if kept is not None and (kept.done or kept.already):
            saved = f", {len(kept.done)} saved now ({size(kept.bytes)})" if kept.done else ""
            images = count(len(kept.done) + kept.already, "image")
            where = f"in {result.image_cache}{saved}; `kfinstall down --purge-images` drops them"
            console.print(_escape(f"kept {images} for the next `kfinstall up` {where}"))
        if kept is not None and kept.digest_pinned:
            pinned = kept.digest_pinned
            console.print(
                _escape(
                    f"not kept: {count(len(pinned), 'image')} pinned by digest ({first_few(pinned)}): an image archive "
                    "restores tags, not digests, so the next `kfinstall up` downloads "
                    + ("it" if len(pinned) == 1 else "them")
                )
            )
        if result.purged is not None:
            console.print(_escape(f"dropped the images kept for it ({size(result.purged)} freed)"))
        return
    removed = result.removed
    if removed is None or (not removed.objects and not removed.record):
        console.print(_escape(f"Nothing of kfinstall's is on {result.request.target}."))
    else:
        console.print(
            f"[green]✓[/] removed {count(len(removed.components), 'component')} ({count(removed.objects, 'object')})"
            + (" and the install record" if removed.record else "")
        )


def show_gpu_test(result: GpuTestResult) -> None:
    """The pod's log as it printed it, that the pod is gone, and the verdict (with the fix when it failed)."""
    from kfinstall.kube.gpu import GPU_RESOURCE, TEST_NAMESPACE, TEST_POD

    console = output.stdout(soft_wrap=True)
    if result.log.strip():
        console.print(result.log.rstrip("\n"), markup=False)
    console.print(f"[dim]deleted pod {TEST_NAMESPACE}/{TEST_POD}[/]")
    if result.ok:
        console.print(f"[green]✓[/] nvidia-smi ran on a GPU (node {result.node}): pods can request {GPU_RESOURCE}")
        return
    console.print(f"[red]✗[/] {_escape(result.problem)}")
    console.print(hint_line(result.hint))


def show_image_list(images: list[str]) -> None:
    """One image a line, nothing else on stdout: `kfinstall images list > images.txt` is the list."""
    output.echo("\n".join(images))


def show_images_moved(count: int, verb: str, where: str = "") -> None:
    output.stderr().print(_escape(f"{count} images {verb}{where}."))


#: Why another machine reaches the dashboard through `ssh -L` and not `--address 0.0.0.0` (the README's "After
#: `up`" says it at length): Kubeflow's web apps mark their cookies Secure (`JWA_APP_SECURE_COOKIES=true` in
#: kubeflow/manifests applications/jupyter/jupyter-web-app/upstream/base/params.env from v1.9.1), and a browser
#: keeps a Secure cookie from plain HTTP only for localhost, so over http://SERVER-IP creating a notebook fails.
PLAIN_HTTP_BREAKS_JUPYTER = "Jupyter's Secure cookies need localhost"


def ssh_forward(port: int) -> str:
    """The command a laptop runs to reach a forward on a server's loopback at the same local port."""
    return f"ssh -L {port}:localhost:{port} HOST"


def remote_access(port: int) -> list[str]:
    """The two lines of `up`'s final screen for a dashboard on a server reached over SSH (80 columns each)."""
    return [
        f"  Over SSH:  {ssh_forward(port)}, then the same URL on your laptop",
        f"             (not --address 0.0.0.0: {PLAIN_HTTP_BREAKS_JUPYTER})",
    ]


def show_exposed(address: str, port: int) -> None:
    """The warning for a forward that listens beyond this machine, and the way that keeps notebooks working."""
    console = output.stderr()
    console.print(
        f"[yellow]![/] listening on {_escape(address)}: anyone who can reach this machine on port {port} can open "
        "Kubeflow's login page"
    )
    console.print(
        _escape(
            f"  notebooks fail over plain HTTP ({PLAIN_HTTP_BREAKS_JUPYTER}): from another machine use "
            f"`{ssh_forward(port)}` and the default address"
        )
    )


def show_forwarding(url: str, login: DashboardLogin) -> None:
    """Once the forward works: the URL on stdout (a script reads it), the login and how to stop on stderr."""
    output.echo(f"Kubeflow is at {url}")
    console = output.stderr()
    if login.default_password is None:
        console.print(f"  Login: {_escape(login.email)} (with the password you set)")
    else:
        console.print(
            f"  Login: {_escape(login.email)} / {_escape(login.default_password)}  "
            "[yellow](the default password: change it before sharing access)[/]"
        )
    console.print("[dim]Forwarding; Ctrl-C to stop.[/]")


def show_forward_stopped() -> None:
    output.stderr().print("stopped port-forward")
