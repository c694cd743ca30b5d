"""--memory and --cpus are read the way minikube reads them (binary units, a bare number is MB); which minikube
options go together with --context and which --gpus values exist."""

from __future__ import annotations

import pytest

from kfinstall.errors import UsageError
from kfinstall.minikube.options import (
    GPU_CHOICES,
    check_gpus_choice,
    parse_k8s_version,
    refuse_minikube_options_with_context,
)
from kfinstall.minikube.units import (
    check_disk_size,
    check_driver,
    check_seconds,
    format_mb,
    parse_cpus,
    parse_memory_mb,
)
from kfinstall.release import minikube_support


@pytest.mark.parametrize(
    ("text", "megabytes"),
    [("7g", 7168), ("7GB", 7168), ("7GiB", 7168), ("8192mb", 8192), ("8192", 8192), (8192, 8192), ("1.5g", 1536)],
)
def test_memory_sizes_like_minikube(text: str, megabytes: int) -> None:
    assert parse_memory_mb(text) == megabytes


@pytest.mark.parametrize("text", ["lots", "-1", "0", "", "7 gigs", "1.2.3g"])
def test_memory_nonsense_is_a_usage_error_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_memory_mb(text)
    assert caught.value.exit_code == 2
    assert caught.value.hint is not None and "8g" in caught.value.hint


def test_cpus_must_be_a_positive_whole_number() -> None:
    assert parse_cpus("4") == 4
    for text in ("0", "-2", "two", "1.5"):
        with pytest.raises(UsageError):
            parse_cpus(text)


def test_format_mb_uses_binary_gigabytes() -> None:
    assert (format_mb(8192), format_mb(12800), format_mb(900)) == ("8 GB", "12.5 GB", "900 MB")


@pytest.mark.parametrize("text", ["50g", "50GB", "51200mb", "51200", "2000", "20000mb"])
def test_disk_sizes_minikube_accepts_pass_unchanged(text: str) -> None:
    assert check_disk_size(text) == text


@pytest.mark.parametrize("text", ["lots", "-1", "0", "1999", "1g", "1.2.3g"])
def test_disk_sizes_minikube_refuses_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_disk_size(text)
    assert caught.value.exit_code == 2 and "--disk-size" in caught.value.message


@pytest.mark.parametrize("name", ["docker", "podman", "kvm2", "kvm", "qemu2", "none", "native", "ssh", "generic"])
def test_minikube_s_driver_names_and_aliases_are_accepted(name: str) -> None:
    assert check_driver(name) == name


@pytest.mark.parametrize("name", ["nonsense", "Docker", "mock", "kvm3", ""])
def test_other_driver_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="is not a minikube driver"):
        check_driver(name)


@pytest.mark.parametrize("value", [0, -5, 0.5, float("nan"), float("inf"), float("-inf")])
def test_a_timeout_must_be_a_finite_number_of_seconds_of_at_least_one(value: float) -> None:
    with pytest.raises(UsageError, match="is not a number of seconds of at least 1"):
        check_seconds(value)
    assert check_seconds(1) == 1 and check_seconds(900.0) == 900.0


# ---- the minikube options a command may be given (minikube/options.py) ----------------------------------------


def test_gpus_takes_exactly_the_values_some_minikube_release_accepts() -> None:
    assert GPU_CHOICES == tuple(value for value, _ in minikube_support.GPU_VALUES) == ("all", "nvidia", "amd")
    assert check_gpus_choice("amd") == "amd" and check_gpus_choice(None) is None
    with pytest.raises(UsageError, match=r"--gpus 'amd64' is not one of all, nvidia, amd") as refused:
        check_gpus_choice("amd64")
    assert refused.value.hint == "use --gpus all"


def test_context_with_a_minikube_option_is_refused_naming_what_was_given() -> None:
    given = {"--cpus": 4, "--memory": None, "--disk-size": "50g", "--driver": None, "--gpus": None}
    with pytest.raises(UsageError) as refused:
        refuse_minikube_options_with_context("prod", given)
    assert refused.value.message == (
        "--context uses an existing cluster, so the minikube options (--cpus, --memory, --disk-size, --driver, "
        "--gpus) do not apply: --cpus, --disk-size given"
    )
    assert refused.value.hint == "drop the minikube options, or drop --context to let kfinstall start minikube"


def test_minikube_options_without_context_and_context_alone_are_both_fine() -> None:
    assert refuse_minikube_options_with_context(None, {"--cpus": 4}) is None
    assert refuse_minikube_options_with_context("prod", {"--cpus": None, "--gpus": None}) is None


@pytest.mark.parametrize(("text", "version"), [("v1.34.0", "v1.34.0"), ("1.34.0", "v1.34.0"), ("V1.19.3", "v1.19.3")])
def test_k8s_version_is_read_as_the_full_version_minikube_starts(text: str, version: str) -> None:
    assert str(parse_k8s_version(text)) == version


def test_k8s_version_without_its_patch_or_not_a_version_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--k8s-version v1\.34 needs the patch number") as short:
        parse_k8s_version("v1.34")
    assert short.value.hint == "for example v1.34.0"
    with pytest.raises(UsageError, match=r"--k8s-version 'latest' is not a version"):
        parse_k8s_version("latest")
