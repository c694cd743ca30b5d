"""The command line, Typer only: each command's options, handed to its module under `commands/` through the frame.

What a command does is in `commands/<name>.py`; how it starts, fails and ends (log, errors, JSON, exit code) is
`commands/frame.py`; how its output looks is `ui/`. Imports stay inside the command functions: `kfinstall
--help` loads none of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kfinstall import __version__
from kfinstall.manifests.login import DEFAULT_EMAIL

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
InstalledProfileOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--profile", help="Install profile: minimal, standard or full (default: what is installed, else standard)."
    ),
]
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
    from kfinstall.commands import frame
    from kfinstall.commands import versions as command

    frame.run(command.COMMAND, pins=pins, json_output=json_output)


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
    from kfinstall.commands import check as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        json_output=json_output,
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
    from kfinstall.commands import frame
    from kfinstall.commands import gpu_test as command

    frame.run(command.COMMAND, context=context, minikube_profile=minikube_profile, image=image, timeout=timeout)


def main() -> None:
    """Console-script entry point: the Typer app inside the frame's `main` (messages, exit codes, signals)."""
    from kfinstall.commands import frame

    frame.main(app)


# up / plan ---------------------------------------------------------------------------------------------------

MinikubeProfileOpt = Annotated[str, typer.Option("--minikube-profile", "-p", help="minikube profile (cluster) name.")]


WithOpt = Annotated[Optional[list[str]], typer.Option("--with", help="Also install this component.")]  # noqa: UP045
WithoutOpt = Annotated[Optional[list[str]], typer.Option("--without", help="Leave this component out.")]  # noqa: UP045
VariantOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--variant", help="Use a component's alternative, e.g. pipelines=pns."),
]


PasswordFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--password-file", help="Set the dashboard password from the first line of this file."),
]
PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the dashboard password from stdin.")]
EmailOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--email", help=f"The dashboard user's email (default: {DEFAULT_EMAIL})."),
]


@app.command()
def up(
    kubeflow_version: KubeflowVersionOpt = None,
    profile: InstalledProfileOpt = None,
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
        frame.run(plan_command.COMMAND, json_output=json_output, **values)
    frame.run(
        up_command.COMMAND,
        json_output=json_output,
        json=json_output,
        verbose=verbose,
        prompt=not yes and sys.stdin.isatty(),
        **values,
    )


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
    from kfinstall.commands import frame
    from kfinstall.commands import password as command

    frame.run(
        command.COMMAND,
        minikube_profile=minikube_profile,
        context=context,
        password_file=password_file,
        password_stdin=password_stdin,
    )


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
    from kfinstall.commands import frame
    from kfinstall.commands import images as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
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


@app.command("plan")
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
) -> None:
    """Show what `up` would do (release, minikube command, components in order and why, steps), changing nothing."""
    from kfinstall.commands import frame
    from kfinstall.commands import plan as plan_command

    frame.run(
        plan_command.COMMAND,
        json_output=json_output,
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
    from kfinstall.commands import frame
    from kfinstall.commands import status as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
        json=json_output,
        minikube_profile=minikube_profile,
        context=context,
        watch=watch,
        interval=interval,
    )


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
    from kfinstall.commands import down as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        minikube_profile=minikube_profile,
        context=context,
        keep_cluster=keep_cluster,
        yes=yes,
        timeout=timeout,
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
    from kfinstall.commands import frame
    from kfinstall.commands import port_forward as command

    frame.run(
        command.COMMAND,
        minikube_profile=minikube_profile,
        context=context,
        port=port,
        address=address,
        open_browser=open_browser,
    )


@app.command("verify")
def verify_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="Verify Kubeflow on this kubeconfig context instead of the minikube profile."),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--url", help="Reach the gateway here (e.g. http://localhost:8080) instead of a port-forward."),
    ] = None,
    password_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--password-file", help="Log in with the password on the first line of this file."),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    email: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--email", help="Log in as this user (default: the installed one)."),
    ] = None,
    pipeline: Annotated[
        bool, typer.Option("--pipeline", help="Also run a tiny CPU pipeline in the user's namespace and wait for it.")
    ] = False,
    gpu: Annotated[
        bool, typer.Option("--gpu", help="Also run a pipeline whose one step asks for an nvidia.com/gpu.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds each pipeline run may take (--pipeline, --gpu).")
    ] = 600.0,
    pins: PinsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Log in as the installed user and check the dashboard, the user's namespace, Pipelines, notebooks and Katib.

    Exit code 0: every check passed (or its component is not installed); 1: a check failed; 2: bad input (also
    --gpu on a cluster without GPUs).
    """
    from kfinstall.commands import frame
    from kfinstall.commands import verify as command

    frame.run(
        command.COMMAND,
        json_output=json_output,
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


@app.command("client")
def client_command(
    minikube_profile: MinikubeProfileOpt = "kubeflow",
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", help="Use Kubeflow on this kubeconfig context instead of the minikube profile."),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--url", help="The gateway as your code reaches it (default: http://localhost:8080)."),
    ] = None,
    password_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--password-file", help="Log in with the password on the first line of this file."),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    email: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--email", help="Log in as this user (default: the installed one)."),
    ] = None,
    token: Annotated[
        bool, typer.Option("--token", help="A service-account token instead of the session cookie (m2m overlay).")
    ] = False,
    env: Annotated[bool, typer.Option("--env", help="Print the KF_PIPELINES_* variables the kfp SDK reads.")] = False,
    pins: PinsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Log in and print the Python lines of a kfp.Client for your namespace (the credential in a 0600 file).

    Example: kfinstall client, then paste its lines into Python with `kfinstall port-forward` running.
    """
    from kfinstall.commands import client as command
    from kfinstall.commands import frame

    frame.run(
        command.COMMAND,
        json_output=json_output,
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
