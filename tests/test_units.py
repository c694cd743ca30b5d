"""--memory and --cpus are read the way minikube reads them (binary units, a bare number is MB)."""

from __future__ import annotations

import pytest

from kfinstall.errors import UsageError
from kfinstall.units import format_mb, parse_cpus, parse_memory_mb


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
