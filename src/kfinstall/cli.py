"""The command line: parses options, calls plain functions, renders their results. No logic lives here."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kfinstall import __version__
from kfinstall.errors import KfError

app = typer.Typer(
    name="kfinstall",
    help="From a bare machine to a working Kubeflow on minikube in one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kfinstall {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print kfinstall's version."
    ),
) -> None:
    """From a bare machine to a working Kubeflow on minikube in one command."""


# Options shared by `check`, `up` and `plan` -----------------------------------------------------------------

KubeflowVersionOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option("--kubeflow-version", "-k", help="Kubeflow release to install (default: newest that fits)."),
]
ProfileOpt = Annotated[str, typer.Option("--profile", help="Install profile: minimal, standard or full.")]
PinsOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--pins", help="Use another pins file (a fork or a mirror of kubeflow/manifests)."),
]
CpusOpt = Annotated[Optional[str], typer.Option("--cpus", help="CPUs for minikube (default: the release's).")]  # noqa: UP045
MemoryOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--memory", help="Memory for minikube, e.g. 16g or 16384 (MB) (default: the release's)."),
]
K8sVersionOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--k8s-version", help="Kubernetes version for minikube (default: the release's)."),
]
DriverOpt = Annotated[Optional[str], typer.Option("--driver", help="minikube driver (default: docker).")]  # noqa: UP045
GpusOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--gpus", help="Give the cluster the host's GPUs: all or nvidia (docker driver)."),
]
ContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--context", help="Install into this existing kubeconfig context instead of minikube."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show each external command as it runs.")]


# versions / check --------------------------------------------------------------------------------------------


@app.command()
def versions(pins: PinsOpt = None, json_output: JsonOpt = False) -> None:
    """List the pinned Kubeflow releases: Kubernetes range, kustomize, and the components of each profile."""
    from kfinstall.release.pins import load_pins
    from kfinstall.ui import tables

    loaded = load_pins(pins)
    if json_output:
        _print_json(tables.versions_dict(loaded))
        return
    from rich.console import Console

    tables.print_versions(loaded, Console(highlight=False))


@app.command()
def check(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: ProfileOpt = "standard",
    pins: PinsOpt = None,
    cpus: CpusOpt = None,
    memory: MemoryOpt = None,
    k8s_version: K8sVersionOpt = None,
    driver: DriverOpt = None,
    gpus: GpusOpt = None,
    context: ContextOpt = None,
    images: Annotated[
        bool,
        typer.Option(
            "--images",
            help="Also ask the registries whether they still serve every image of the plan, for this machine's "
            "platform (fetches and builds the manifests; needs the network).",
        ),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Check the prerequisites of a release on this machine (or cluster); exit 1 if any check fails."""
    from kfinstall.checks import prerequisites
    from kfinstall.ui import tables

    request = prerequisites.build_request(
        kubeflow_version=kubeflow_version,
        profile=profile,
        pins_path=pins,
        cpus=cpus,
        memory=memory,
        k8s_version=k8s_version,
        driver=driver,
        gpus=gpus,
        context=context,
        images=images,
    )
    if images and not json_output:
        from rich.console import Console

        Console(stderr=True, highlight=False).print("[dim]building the plan, asking the registries for its images…[/]")
    results = prerequisites.run_checks(request)
    if json_output:
        _print_json(tables.check_dict(results, request.release, request.choice_reason))
    else:
        from rich.console import Console

        tables.print_checks(request.release, request.profile, results, Console(highlight=False), request.choice_reason)
    if prerequisites.failed(results):
        raise typer.Exit(1)


@app.command("gpu-test")
def gpu_test(
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="kubeconfig context of the cluster (default: the minikube profile's)."),
    ] = None,
    minikube_profile: Annotated[
        str, typer.Option("--minikube-profile", "-p", help="minikube profile (cluster) name.")
    ] = "kubeflow",
    image: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--image", help="CUDA image to run nvidia-smi in (default: nvidia/cuda base; or a mirror's)."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds the pod may take (image pull).")] = 300.0,
) -> None:
    """Run a pod that requests one GPU and runs nvidia-smi; show its output, delete it; exit 0 only if it worked."""
    from kfinstall import logfile
    from kfinstall.kube import gpu
    from kfinstall.minikube.units import check_seconds

    check_seconds(timeout)
    logfile.start_log("gpu-test")
    raise typer.Exit(gpu.command(context or minikube_profile, image=image or gpu.DEFAULT_TEST_IMAGE, timeout=timeout))


def _print_json(document: object) -> None:
    import json

    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def render_error(error: KfError) -> None:
    """One clear line for the message, one for the hint; never a traceback.

    Both are escaped: they quote the cluster and kubectl verbatim, and text such as the apiserver's
    `regex used for validation is '[a-z0-9]...'` would otherwise be taken for rich markup and vanish."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(error.message)}")
    if error.hint:
        console.print(f"[yellow]hint:[/] {escape(error.hint)}")


def main() -> None:
    """Console-script entry point: runs the Typer app and turns `KfError`s into a message and an exit code."""
    from kfinstall import runner
    from kfinstall.ui.terminal import use_ascii_fallbacks

    use_ascii_fallbacks()
    try:
        with runner.interrupts():  # SIGINT, SIGTERM, SIGHUP: the children stopped, one message, exit 128 + N
            code = app(standalone_mode=False)  # without standalone mode, click returns a command's typer.Exit code
    except KfError as error:
        with contextlib.suppress(OSError):  # a closed terminal (SIGHUP): the exit code and the log still tell
            render_error(error)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt) as abort:  # click turns a KeyboardInterrupt into Abort
        if runner.interrupted_by() is None and not isinstance(abort.__cause__ or abort, KeyboardInterrupt):
            typer.echo("Aborted.", err=True)  # end of input at a prompt
            sys.exit(130)
        error = runner.interruption("run the same command again to finish what it was doing")
        with contextlib.suppress(OSError):
            render_error(error)
        sys.exit(error.exit_code)
    except Exception as usage:  # click's UsageError family: bad options, unknown command
        # typer >= 0.20 vendors click (typer._click), so match the ClickException shape rather than its import path
        if type(usage).__name__ != "KeyboardInterrupt" and callable(getattr(usage, "show", None)):
            usage.show()  # type: ignore[attr-defined]
            sys.exit(int(getattr(usage, "exit_code", 2)))
        raise
    sys.exit(code if isinstance(code, int) else 0)


# up / plan ---------------------------------------------------------------------------------------------------

MinikubeProfileOpt = Annotated[str, typer.Option("--minikube-profile", "-p", help="minikube profile (cluster) name.")]


WithOpt = Annotated[Optional[list[str]], typer.Option("--with", help="Also install this component.")]  # noqa: UP045
WithoutOpt = Annotated[Optional[list[str]], typer.Option("--without", help="Leave this component out.")]  # noqa: UP045
VariantOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--variant", help="Use a component's alternative, e.g. pipelines=pns."),
]


def _up_options(**values: object) -> object:
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


PasswordFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--password-file", help="Set the dashboard password from the first line of this file."),
]
PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the dashboard password from stdin.")]
EmailOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--email", help="The dashboard user's email (default: user@example.com)."),
]


def _login(password_file: Path | None, password_stdin: bool, email: str | None, *, prompt: bool) -> object:
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


@app.command()
def up(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: ProfileOpt = "standard",
    with_ids: WithOpt = None,
    without_ids: WithoutOpt = None,
    variant: VariantOpt = None,
    pins: PinsOpt = None,
    cpus: CpusOpt = None,
    memory: MemoryOpt = None,
    disk_size: Annotated[Optional[str], typer.Option("--disk-size", help="minikube disk size, e.g. 50g.")] = None,  # noqa: UP045
    driver: DriverOpt = None,
    k8s_version: K8sVersionOpt = None,
    gpus: GpusOpt = None,
    context: ContextOpt = None,
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    manifests_repo: Annotated[
        Optional[str], typer.Option("--manifests-repo", help="Clone the manifests from this mirror or fork.")  # noqa: UP045
    ] = None,
    manifests_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--manifests-dir", help="Use this local manifests checkout (not verified against the pins)."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each component may take.")] = 900.0,
    skip_checks: Annotated[bool, typer.Option("--skip-checks", help="Do not stop on failed checks.")] = False,
    prefetch_images: Annotated[
        bool, typer.Option("--prefetch-images", help="Pull all images into minikube in parallel while installing.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Never prompt.")] = False,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
    email: EmailOpt = None,
    verbose: VerboseOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Install Kubeflow: start minikube, fetch and build the manifests, apply them in order, wait until ready."""
    from kfinstall.commands import plan as plan_module
    from kfinstall.commands import up as up_command
    from kfinstall.minikube.units import check_seconds

    check_seconds(timeout)
    login = _login(password_file, password_stdin, email, prompt=not (yes or dry_run) and sys.stdin.isatty())
    options = _up_options(
        login=login,
        kubeflow_version=kubeflow_version,
        profile=profile,
        with_ids=with_ids,
        without_ids=without_ids,
        variant=variant,
        pins=pins,
        cpus=cpus,
        memory=memory,
        disk_size=disk_size,
        driver=driver,
        k8s_version=k8s_version,
        gpus=gpus,
        context=context,
        minikube_profile=minikube_profile,
        manifests_repo=manifests_repo,
        manifests_dir=manifests_dir,
        timeout=timeout,
        skip_checks=skip_checks,
        prefetch_images=prefetch_images,
    )
    if dry_run:
        plan_module.plan(options, json_output=json_output)  # type: ignore[arg-type]
    else:
        up_command.up(options, json_output=json_output, verbose=verbose)  # type: ignore[arg-type]


@app.command("password")
def password_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="Change it on this kubeconfig context instead of the minikube profile."),
    ] = None,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Change the dashboard password of the installed Kubeflow (prompts on a terminal), then restart Dex."""
    from kfinstall import logfile
    from kfinstall.commands import password as password_command
    from kfinstall.errors import UsageError

    login = _login(password_file, password_stdin, None, prompt=sys.stdin.isatty())
    if login.hash is None:  # type: ignore[attr-defined]
        raise UsageError("no new password given", "use --password-file FILE or --password-stdin, or a terminal")
    logfile.start_log("password")
    email = password_command.change_password(context or minikube_profile, login.hash)  # type: ignore[attr-defined]
    typer.echo(f"password changed for {email}; Dex restarted")


@app.command("images")
def images_command(
    action: Annotated[str, typer.Argument(help="list, pull (into minikube), save FILE or load FILE.")],
    file: Annotated[Optional[Path], typer.Argument(help="The tarball for save and load.")] = None,  # noqa: UP045
    kubeflow_version: KubeflowVersionOpt = None,
    profile: ProfileOpt = "standard",
    with_ids: WithOpt = None,
    without_ids: WithoutOpt = None,
    variant: VariantOpt = None,
    pins: PinsOpt = None,
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    concurrency: Annotated[int, typer.Option("--concurrency", help="Images pulled, saved or loaded at a time.")] = 4,
    json_output: JsonOpt = False,
) -> None:
    """The container images of a release: list them, pull them into minikube, save them to a tarball, load it."""
    from kfinstall.install import images

    options = _up_options(
        kubeflow_version=kubeflow_version,
        profile=profile,
        with_ids=with_ids,
        without_ids=without_ids,
        variant=variant,
        pins=pins,
        cpus=None,
        memory=None,
        minikube_profile=minikube_profile,
    )
    images.run_command(action, options, file=file, concurrency=concurrency, json_output=json_output)  # type: ignore[arg-type]


@app.command("plan")
def plan_command(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: ProfileOpt = "standard",
    with_ids: WithOpt = None,
    without_ids: WithoutOpt = None,
    variant: VariantOpt = None,
    pins: PinsOpt = None,
    cpus: CpusOpt = None,
    memory: MemoryOpt = None,
    driver: DriverOpt = None,
    k8s_version: K8sVersionOpt = None,
    gpus: GpusOpt = None,
    context: ContextOpt = None,
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    json_output: JsonOpt = False,
) -> None:
    """Show what `up` would do (release, minikube command, components in order and why, steps), changing nothing."""
    from kfinstall.commands import plan as plan_module

    options = _up_options(
        kubeflow_version=kubeflow_version,
        profile=profile,
        with_ids=with_ids,
        without_ids=without_ids,
        variant=variant,
        pins=pins,
        cpus=cpus,
        memory=memory,
        driver=driver,
        k8s_version=k8s_version,
        gpus=gpus,
        context=context,
        minikube_profile=minikube_profile,
    )
    plan_module.plan(options, json_output=json_output)  # type: ignore[arg-type]


# status / port-forward / down --------------------------------------------------------------------------------

StatusContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--context", help="Look at this kubeconfig context instead of the minikube profile."),
]


@app.command()
def status(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: StatusContextOpt = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh until all is ready (Ctrl-C stops).")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes with --watch.")] = 2.0,
    json_output: JsonOpt = False,
) -> None:
    """Is Kubeflow OK? Cluster, installed release, and every component with why it is not ready.

    Exit code 0: everything ready; 1: something is not ready; 2: nothing installed or no cluster.
    """
    from rich.console import Console

    from kfinstall.commands import status as status_module
    from kfinstall.ui import status_screen

    if watch:
        from kfinstall.minikube.units import check_seconds

        check_seconds(interval, "--interval", at_least=0.1)
    query = status_module.StatusQuery(context=context, minikube_profile=minikube_profile)
    if json_output:
        report = status_module.collect(query)
        _print_json(report.as_dict())
    else:
        console = Console(highlight=False, soft_wrap=True)
        if watch:
            try:
                report = status_screen.watch(query, console, status_module.collect, interval)
            except KeyboardInterrupt:
                raise typer.Exit(0) from None
        else:
            report = status_module.collect(query)
            status_screen.show(report, console)
    raise typer.Exit(report.exit_code)


@app.command()
def down(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="Remove Kubeflow from this kubeconfig context (implies --keep-cluster)."),
    ] = None,
    keep_cluster: Annotated[
        bool, typer.Option("--keep-cluster", help="Remove only what kfinstall installed; keep the cluster.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each deletion step may take.")] = 300.0,
) -> None:
    """Delete the minikube cluster, or with --keep-cluster remove only the Kubeflow components kfinstall installed."""
    from rich.console import Console

    from kfinstall import logfile
    from kfinstall.commands import down as down_module
    from kfinstall.errors import UsageError
    from kfinstall.kube.kubectl import Kubectl
    from kfinstall.minikube.units import check_seconds

    check_seconds(timeout)  # before anything is deleted: `-1` used to delete everything, then report failure
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    keep = keep_cluster or context is not None
    if keep:
        target = f"context {context or minikube_profile!r}"
        question = (f"Remove every Kubeflow component kfinstall installed on {target} (their custom resources, "
                    "e.g. notebooks and pipeline runs, go with their CRDs)?")  # fmt: skip
    else:
        question = f"Delete the minikube profile {minikube_profile!r} and everything in it?"
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "`kfinstall down` deletes things and there is no terminal to ask for confirmation",
                "add --yes to confirm",
            )
        if not typer.confirm(question, default=False):
            raise typer.Exit(1)
    log_path = logfile.start_log("down")
    try:
        if not keep:
            console.print(down_module.delete_cluster(minikube_profile))
            return
        removed = down_module.remove_components(
            Kubectl(context or minikube_profile), lambda line: console.print(f" [dim]·[/] {line}"), timeout
        )
    except KfError as error:
        error.hint = f"{error.hint}\nlog: {log_path}" if error.hint else f"log: {log_path}"
        raise
    if not removed.objects and not removed.record:
        console.print(f"Nothing of kfinstall's is on {target}.")
    else:
        console.print(
            f"[green]✓[/] removed {len(removed.components)} components ({removed.objects} objects)"
            + (" and the install record" if removed.record else "")
        )


@app.command("port-forward")
def port_forward(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="Forward from this kubeconfig context instead of the minikube profile."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Local port to listen on.")] = 8080,
    address: Annotated[
        str, typer.Option("--address", help="Local address to listen on (not loopback: reachable by others).")
    ] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the dashboard in the browser.")] = False,
) -> None:
    """Forward a local port to Kubeflow's gateway and keep it alive until Ctrl-C; prints the URL and login."""
    from rich.console import Console

    from kfinstall import logfile
    from kfinstall.kube import localport
    from kfinstall.kube import portforward as pf

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    options = pf.ForwardOptions(context or minikube_profile, port, address)
    if not localport.in_range(port):  # a bad input leaves no log file
        pf.check_port(options)
    localport.check_address(address)
    logfile.start_log("port-forward")
    if not localport.is_loopback(address):
        console.print(
            f"[yellow]![/] listening on {address}: anyone who can reach this machine on port {port} can open "
            "Kubeflow's login page"
        )

    def ready() -> None:
        typer.echo(f"Kubeflow is at {options.url}")
        console.print(_login_line(options.context))
        console.print("[dim]Forwarding; Ctrl-C to stop.[/]")
        if open_browser:
            import webbrowser

            webbrowser.open(options.url)

    pf.forward(options, lambda line: console.print(f"[yellow]![/] {line}"), ready)
    console.print("stopped port-forward")


def _login_line(context: str) -> str:
    """The login to use; warns while the default password is in use (from the install record, when readable)."""
    from kfinstall.install.up import DEFAULT_LOGIN
    from kfinstall.kube import record
    from kfinstall.kube.kubectl import Kubectl

    email, password = DEFAULT_LOGIN
    try:
        record = record.read(Kubectl(context))
    except KfError:
        record = None
    if record is not None:
        email = record.email
    if record is not None and not record.default_password:
        return f"  Login: {email} (with the password you set)"
    return f"  Login: {email} / {password}  [yellow](the default password: change it before sharing access)[/]"
