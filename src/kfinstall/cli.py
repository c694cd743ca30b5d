"""The command line, Typer only: each command's options, handed to its module under `commands/` through the frame.

What a command does is in `commands/<name>.py`; how it starts, fails and ends (log, errors, JSON, exit code) is
`commands/frame.py`; how its output looks is `ui/`. Imports stay inside the command functions: `kfinstall
--help` loads none of them.

The help follows kind, minikube, gh and uv: `-h` as well as `--help`; options grouped in panels (`rich_help_panel`);
a value's metavar names what it is (`RELEASE`, `SIZE`), a flag shows none (Typer would print `<bool>`, `<str>`,
`<list[str]>`); every command ends its help with examples that run; the commands listed in the order a user needs
them (`ORDER`), not in the order of this file; the exit codes in `kfinstall --help` (errors.py holds them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from kfinstall import __version__
from kfinstall.errors import EXIT_FAILURE, EXIT_NOT_INSTALLED, EXIT_USAGE
from kfinstall.manifests.login import DEFAULT_EMAIL

#: The commands in `kfinstall --help` in the order a user meets them: look, install, use, maintain, remove.
ORDER = (
    "check", "plan", "up", "status", "port-forward", "verify", "client", "password", "images", "gpu-test", "down",
    "versions",
)  # fmt: skip

#: The option panels of a command's help, in this order (options without one come first, under "Options").
PANELS = ("Release", "Components", "Cluster", "Login", "Output", "Advanced")

EXIT_CODES = f"""
Exit codes:
  0    done (status, verify: everything ready and working)
  {EXIT_FAILURE}    failed: a check failed, something is not ready, a program failed
  {EXIT_USAGE}    bad input: an unknown option or value; nothing was changed
  {EXIT_NOT_INSTALLED}    nothing installed (no cluster, no Kubeflow on it), or not running
  130  interrupted by Ctrl-C (143 SIGTERM, 129 SIGHUP): run it again

Shell completion: kfinstall --install-completion, then open a new shell.
Each command but versions writes a log; --verbose shows the programs it runs.
"""


def _for_help(params: list) -> list:  # type: ignore[type-arg]
    """The parameters as the help shows them: a flag takes no value, so it shows no metavar (Typer's default is the
    type, `<bool>`; this covers the options Typer adds itself too: --help, --install-completion), an argument shows
    its metavar alone (not `ACTION <str>`); the panels in `PANELS` order, whatever the order of a command's
    parameters (a stable sort: within a panel, as declared). A new command gets this with `**_examples(...)`."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar:  # its metavar says it: no `<str>` beside
            param.display_type_rich = lambda ctx: None
    order = {panel: index for index, panel in enumerate(PANELS)}
    return sorted(params, key=lambda param: order.get(getattr(param, "rich_help_panel", None), -1))


class _Command(TyperCommand):
    def get_params(self, ctx):  # type: ignore[no-untyped-def]
        return _for_help(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx):  # type: ignore[no-untyped-def]
        return _for_help(super().get_params(ctx))

    def list_commands(self, ctx):  # type: ignore[no-untyped-def]
        """`ORDER`, then any command it does not name yet."""
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))


app = typer.Typer(
    name="kfinstall",
    cls=_Group,
    help="From a bare machine to a working Kubeflow on minikube in one command.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _examples(*lines: str) -> dict[str, object]:
    """A command's `cls` and its epilog of examples (the leading newline keeps their indentation: Typer
    dedents the epilog by its lines after the first)."""
    return {"cls": _Command, "epilog": "\nExamples:\n" + "\n".join(f"  {line}" for line in lines)}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kfinstall {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version_callback, is_eager=True, help="Print kfinstall's version and exit."
    ),
) -> None:
    """From a bare machine to a working Kubeflow on minikube in one command."""


# Options shared by `check`, `up` and `plan` -----------------------------------------------------------------

RELEASE, COMPONENTS, CLUSTER, LOGIN, OUTPUT, ADVANCED = PANELS

KubeflowVersionOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--kubeflow-version", "-k", metavar="RELEASE", rich_help_panel=RELEASE,
        help="Kubeflow release to install, e.g. v1.10.2 (default: the newest that fits; see `kfinstall versions`).",
    ),
]  # fmt: skip
ProfileOpt = Annotated[
    str,
    typer.Option(
        "--profile", metavar="PROFILE", rich_help_panel=COMPONENTS, help="Install profile: minimal, standard or full."
    ),
]
InstalledProfileOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--profile",
        metavar="PROFILE",
        rich_help_panel=COMPONENTS,
        help="Install profile: minimal, standard or full (default: what is installed, else standard).",
    ),
]
PinsOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--pins", metavar="FILE", rich_help_panel=ADVANCED,
        help="Use another pins file (a fork or a mirror of kubeflow/manifests).",
    ),
]  # fmt: skip
CpusOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--cpus", metavar="N", rich_help_panel=CLUSTER, help="CPUs for minikube (default: the release's)."),
]
MemoryOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--memory", metavar="SIZE", rich_help_panel=CLUSTER,
        help="Memory for minikube, e.g. 16g or 16384 (MB) (default: the release's).",
    ),
]  # fmt: skip
K8sVersionOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--k8s-version", metavar="VERSION", rich_help_panel=CLUSTER,
        help="Kubernetes version for minikube (default: the release's).",
    ),
]  # fmt: skip
DriverOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--driver", metavar="DRIVER", rich_help_panel=CLUSTER, help="minikube driver (default: docker)."),
]
GpusOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--gpus", metavar="all|nvidia", rich_help_panel=CLUSTER,
        help="Give the cluster the host's GPUs (docker driver).",
    ),
]  # fmt: skip
ContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--context", metavar="CONTEXT", rich_help_panel=CLUSTER,
        help="Install into this existing kubeconfig context instead of minikube.",
    ),
]  # fmt: skip
JsonOpt = Annotated[
    bool, typer.Option("--json", rich_help_panel=OUTPUT, help="Machine-readable output on stdout (schema_version 1).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", rich_help_panel=OUTPUT, help="Print only the result and errors.")
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", rich_help_panel=OUTPUT, help="Also show each external command as it runs."),
]


def _context_opt(help: str) -> object:
    """`--context` of a command that works on an installed cluster: the help says what it does there."""
    return typer.Option("--context", metavar="CONTEXT", rich_help_panel=CLUSTER, help=help)


# versions / check --------------------------------------------------------------------------------------------


@app.command(**_examples("kfinstall versions", "kfinstall versions --json"))
def versions(
    pins: PinsOpt = None, json_output: JsonOpt = False, quiet: QuietOpt = False, verbose: VerboseOpt = False
) -> None:
    """List the pinned Kubeflow releases: Kubernetes range, kustomize, and the components of each profile."""
    from kfinstall.commands import frame
    from kfinstall.commands import versions as command

    frame.run(command.COMMAND, json_output=json_output, quiet=quiet, verbose=verbose, pins=pins)


@app.command(
    **_examples(
        "kfinstall check",
        "kfinstall check -k v1.10.2 --profile minimal --memory 12g",
        "kfinstall check --images --json",
    )
)
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
            rich_help_panel=ADVANCED,
            help="Also ask the registries whether they still serve every image of the plan, for this machine's "
            "platform (fetches and builds the manifests; needs the network).",
        ),
    ] = False,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check the prerequisites of a release on this machine (or cluster); exit 1 if any check fails."""
    from kfinstall.commands import check as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
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


@app.command(
    "gpu-test",
    **_examples("kfinstall gpu-test", "kfinstall gpu-test --image nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04"),
)
def gpu_test(
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("kubeconfig context of the cluster (default: the minikube profile's)."),
    ] = None,
    minikube_profile: Annotated[
        str,
        typer.Option(
            "--minikube-profile", "-p", metavar="NAME", rich_help_panel=CLUSTER, help="minikube profile (cluster) name."
        ),
    ] = "kubeflow",
    image: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--image",
            metavar="IMAGE",
            help="CUDA image to run nvidia-smi in (default: nvidia/cuda base; or a mirror's).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Seconds the pod may take (image pull).")
    ] = 300.0,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run a pod that requests one GPU and runs nvidia-smi; show its output, delete it; exit 0 only if it worked."""
    from kfinstall.commands import frame
    from kfinstall.commands import gpu_test as command

    frame.run(
        command.COMMAND, json_output=json_output, quiet=quiet, verbose=verbose,
        context=context, minikube_profile=minikube_profile, image=image, timeout=timeout,
    )  # fmt: skip


def main() -> None:
    """Console-script entry point: the Typer app inside the frame's `main` (messages, exit codes, signals)."""
    from kfinstall.commands import frame

    frame.main(app)


# up / plan ---------------------------------------------------------------------------------------------------

MinikubeProfileOpt = Annotated[
    str,
    typer.Option(
        "--minikube-profile", "-p", metavar="NAME", rich_help_panel=CLUSTER, help="minikube profile (cluster) name."
    ),
]


WithOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--with", metavar="COMPONENT", rich_help_panel=COMPONENTS, help="Also install this component (repeatable)."
    ),
]
WithoutOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--without", metavar="COMPONENT", rich_help_panel=COMPONENTS, help="Leave this component out (repeatable)."
    ),
]
VariantOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--variant", metavar="COMPONENT=VARIANT", rich_help_panel=COMPONENTS,
        help="Use a component's alternative, e.g. pipelines=pns.",
    ),
]  # fmt: skip


PasswordFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--password-file", metavar="FILE", rich_help_panel=LOGIN,
        help="Set the dashboard password from the first line of this file.",
    ),
]  # fmt: skip
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", rich_help_panel=LOGIN, help="Read the dashboard password from stdin.")
]
EmailOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--email",
        metavar="EMAIL",
        rich_help_panel=LOGIN,
        help=f"The dashboard user's email (default: {DEFAULT_EMAIL}).",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", rich_help_panel=OUTPUT, help="Never prompt.")]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", metavar="SECONDS", rich_help_panel=ADVANCED, help="Seconds each component may take."),
]


@app.command(
    **_examples(
        "kfinstall up",
        "kfinstall up --profile minimal --cpus 4 --memory 12g",
        "kfinstall up -k v1.10.2 --password-file ~/.kubeflow-password --yes",
        "kfinstall up --without katib --gpus all",
        "kfinstall up --dry-run",
    )
)
def up(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: InstalledProfileOpt = None,
    with_ids: WithOpt = None,
    without_ids: WithoutOpt = None,
    variant: VariantOpt = None,
    pins: PinsOpt = None,
    cpus: CpusOpt = None,
    memory: MemoryOpt = None,
    disk_size: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--disk-size", metavar="SIZE", rich_help_panel=CLUSTER, help="minikube disk size, e.g. 50g."),
    ] = None,
    driver: DriverOpt = None,
    k8s_version: K8sVersionOpt = None,
    gpus: GpusOpt = None,
    context: ContextOpt = None,
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    manifests_repo: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--manifests-repo",
            metavar="URL",
            rich_help_panel=RELEASE,
            help="Clone the manifests from this mirror or fork.",
        ),
    ] = None,
    manifests_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--manifests-dir",
            metavar="DIR",
            rich_help_panel=RELEASE,
            help="Use this local manifests checkout (not verified against the pins).",
        ),
    ] = None,
    timeout: TimeoutOpt = 900.0,
    skip_checks: Annotated[
        bool, typer.Option("--skip-checks", rich_help_panel=ADVANCED, help="Do not stop on failed checks.")
    ] = False,
    prefetch_images: Annotated[
        bool,
        typer.Option(
            "--prefetch-images",
            rich_help_panel=ADVANCED,
            help="Pull all images into minikube in parallel while installing.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", rich_help_panel=OUTPUT, help="Print the plan; change nothing.")
    ] = False,
    yes: YesOpt = False,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
    email: EmailOpt = None,
    verbose: VerboseOpt = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            rich_help_panel=OUTPUT,
            help="One JSON event a line on stdout (steps, components, warnings, the error or the end).",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Install Kubeflow: start minikube, fetch and build the manifests, apply them in order, wait until ready."""
    from kfinstall.commands import frame
    from kfinstall.commands import plan as plan_command
    from kfinstall.commands import up as up_command

    values = dict(
        kubeflow_version=kubeflow_version, profile=profile, with_ids=with_ids, without_ids=without_ids,
        variant=variant, pins=pins, cpus=cpus, memory=memory, disk_size=disk_size, driver=driver,
        k8s_version=k8s_version, gpus=gpus, context=context, minikube_profile=minikube_profile,
        manifests_repo=manifests_repo, manifests_dir=manifests_dir, timeout=timeout, skip_checks=skip_checks,
        prefetch_images=prefetch_images, password_file=password_file, password_stdin=password_stdin, email=email,
    )  # fmt: skip
    if dry_run:
        frame.run(plan_command.COMMAND, json_output=json_output, quiet=quiet, verbose=verbose, **values)
    frame.run(
        up_command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        json=json_output,
        prompt=not yes and sys.stdin.isatty(),
        yes=yes,
        **values,
    )


@app.command(
    "password",
    **_examples("kfinstall password", "kfinstall password --password-file ~/.kubeflow-password"),
)
def password_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("Change it on this kubeconfig context instead of the minikube profile."),
    ] = None,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Change the dashboard password of the installed Kubeflow (prompts on a terminal), then restart Dex."""
    from kfinstall.commands import frame
    from kfinstall.commands import password as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        minikube_profile=minikube_profile,
        context=context,
        password_file=password_file,
        password_stdin=password_stdin,
    )


@app.command(
    "images",
    **_examples(
        "kfinstall images list",
        "kfinstall images pull -k v1.10.2 --profile minimal",
        "kfinstall images save kubeflow-images.tar",
        "kfinstall images load kubeflow-images.tar",
    ),
)
def images_command(
    action: Annotated[
        str, typer.Argument(metavar="ACTION", help="list, pull (into minikube), save FILE or load FILE.")
    ],
    file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(metavar="FILE", help="The tarball for save and load."),
    ] = None,
    kubeflow_version: KubeflowVersionOpt = None,
    profile: InstalledProfileOpt = None,
    with_ids: WithOpt = None,
    without_ids: WithoutOpt = None,
    variant: VariantOpt = None,
    pins: PinsOpt = None,
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", metavar="N", rich_help_panel=ADVANCED, help="Images pulled, saved or loaded at a time."
        ),
    ] = 4,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The container images of a release: list them, pull them into minikube, save them to a tarball, load it."""
    from kfinstall.commands import frame
    from kfinstall.commands import images as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        action=action,
        file=file,
        concurrency=concurrency,
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


@app.command(
    "plan",
    **_examples("kfinstall plan", "kfinstall plan -k v1.9.1 --profile full", "kfinstall plan --without katib --json"),
)
def plan_command(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: InstalledProfileOpt = None,
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
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Show what `up` would do (release, minikube command, components in order and why, steps), changing nothing."""
    from kfinstall.commands import frame
    from kfinstall.commands import plan as plan_command

    frame.run(
        plan_command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
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


# status / port-forward / down --------------------------------------------------------------------------------

StatusContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    _context_opt("Look at this kubeconfig context instead of the minikube profile."),
]


@app.command(**_examples("kfinstall status", "kfinstall status --watch", "kfinstall status --json"))
def status(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: StatusContextOpt = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", rich_help_panel=OUTPUT, help="Refresh until all is ready (Ctrl-C stops).")
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", metavar="SECONDS", rich_help_panel=OUTPUT, help="Seconds between refreshes with --watch."
        ),
    ] = 2.0,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Is Kubeflow OK? Cluster, installed release, and every component with why it is not ready.

    Exit code 0: everything ready; 1: something is not ready; 3: nothing installed, or the cluster is not running.
    """
    from kfinstall.commands import frame
    from kfinstall.commands import status as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        json=json_output,
        minikube_profile=minikube_profile,
        context=context,
        watch=watch,
        interval=interval,
    )


@app.command(**_examples("kfinstall down", "kfinstall down --keep-cluster --yes", "kfinstall down -p kubeflow2 --yes"))
def down(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("Remove Kubeflow from this kubeconfig context (implies --keep-cluster)."),
    ] = None,
    keep_cluster: Annotated[
        bool,
        typer.Option(
            "--keep-cluster", rich_help_panel=CLUSTER, help="Remove only what kfinstall installed; keep the cluster."
        ),
    ] = False,
    purge_images: Annotated[
        bool,
        typer.Option(
            "--purge-images",
            rich_help_panel=CLUSTER,
            help="Drop the images kept for this profile instead of keeping them for the next up.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", rich_help_panel=OUTPUT, help="Do not ask for confirmation.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", metavar="SECONDS", rich_help_panel=ADVANCED, help="Seconds each deletion step may take."
        ),
    ] = 300.0,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Delete the minikube cluster, or with --keep-cluster remove only the Kubeflow components kfinstall installed.

    Exit code 0: deleted; 3: there was nothing to delete.
    """
    from kfinstall.commands import down as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        minikube_profile=minikube_profile,
        context=context,
        keep_cluster=keep_cluster,
        purge_images=purge_images,
        yes=yes,
        timeout=timeout,
    )


@app.command(
    "port-forward",
    **_examples("kfinstall port-forward", "kfinstall port-forward --port 8081 --open", "kfinstall port-forward --json"),
)
def port_forward(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("Forward from this kubeconfig context instead of the minikube profile."),
    ] = None,
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Local port to listen on.")] = 8080,
    address: Annotated[
        str,
        typer.Option(
            "--address", metavar="ADDRESS", help="Local address to listen on (not loopback: reachable by others)."
        ),
    ] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the dashboard in the browser.")] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            rich_help_panel=OUTPUT,
            help="Once the forward works, one JSON document on stdout (url, email); it runs on until Ctrl-C.",
        ),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Forward a local port to Kubeflow's gateway and keep it alive until Ctrl-C; prints the URL and login."""
    from kfinstall.commands import frame
    from kfinstall.commands import port_forward as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        json=json_output,
        minikube_profile=minikube_profile,
        context=context,
        port=port,
        address=address,
        open_browser=open_browser,
    )


#: How verify and client log in as the installed user (never a password in argv).
LoginPasswordFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--password-file",
        metavar="FILE",
        rich_help_panel=LOGIN,
        help="Log in with the password on the first line of this file.",
    ),
]
LoginPasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", rich_help_panel=LOGIN, help="Read the password from stdin.")
]
LoginEmailOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--email", metavar="EMAIL", rich_help_panel=LOGIN, help="Log in as this user (default: the installed one)."
    ),
]


@app.command(
    "verify",
    **_examples(
        "kfinstall verify",
        "kfinstall verify --password-file ~/.kubeflow-password --json",
        "kfinstall verify --url http://localhost:8080",
    ),
)
def verify_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("Verify Kubeflow on this kubeconfig context instead of the minikube profile."),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--url",
            metavar="URL",
            help="Reach the gateway here (e.g. http://localhost:8080) instead of a port-forward.",
        ),
    ] = None,
    password_file: LoginPasswordFileOpt = None,
    password_stdin: LoginPasswordStdinOpt = False,
    email: LoginEmailOpt = None,
    pipeline: Annotated[
        bool, typer.Option("--pipeline", help="Also run a tiny CPU pipeline in the user's namespace and wait for it.")
    ] = False,
    gpu: Annotated[
        bool, typer.Option("--gpu", help="Also run a pipeline whose one step asks for an nvidia.com/gpu.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", metavar="SECONDS", help="Seconds each pipeline run may take (--pipeline, --gpu)."),
    ] = 600.0,
    pins: PinsOpt = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Log in as the installed user and check the dashboard, the user's namespace, Pipelines, notebooks and Katib.

    Exit code 0: every check passed (or its component is not installed); 1: a check failed; 2: bad input (also
    --gpu on a cluster without GPUs); 3: nothing installed.
    """
    from kfinstall.commands import frame
    from kfinstall.commands import verify as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        minikube_profile=minikube_profile,
        context=context,
        url=url,
        password_file=password_file,
        password_stdin=password_stdin,
        email=email,
        pins=pins,
        pipeline=pipeline,
        gpu=gpu,
        timeout=timeout,
    )


@app.command(
    "client",
    **_examples(
        "kfinstall client",
        "kfinstall client --env",
        "kfinstall client --password-file ~/.kubeflow-password --json",
    ),
)
def client_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        _context_opt("Use Kubeflow on this kubeconfig context instead of the minikube profile."),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--url", metavar="URL", help="The gateway as your code reaches it (default: http://localhost:8080)."
        ),
    ] = None,
    password_file: LoginPasswordFileOpt = None,
    password_stdin: LoginPasswordStdinOpt = False,
    email: LoginEmailOpt = None,
    token: Annotated[
        bool,
        typer.Option(
            "--token",
            rich_help_panel=LOGIN,
            help="A service-account token instead of the session cookie (m2m overlay).",
        ),
    ] = False,
    env: Annotated[
        bool,
        typer.Option("--env", rich_help_panel=OUTPUT, help="Print the KF_PIPELINES_* variables the kfp SDK reads."),
    ] = False,
    pins: PinsOpt = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Log in and print the Python lines of a kfp.Client for your namespace (the credential in a 0600 file).

    Paste the lines into Python while `kfinstall port-forward` runs. Exit code 0: the lines are printed; 1: the
    login failed; 2: bad input; 3: nothing installed.
    """
    from kfinstall.commands import client as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        json_output=json_output,
        quiet=quiet,
        verbose=verbose,
        minikube_profile=minikube_profile,
        context=context,
        url=url,
        password_file=password_file,
        password_stdin=password_stdin,
        email=email,
        token=token,
        env=env,
        pins=pins,
    )
