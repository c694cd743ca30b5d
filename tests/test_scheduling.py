"""The order `make test` hands files to its two workers (tests/scheduling.py): costliest first."""

from __future__ import annotations

from tests.paths import REPO_ROOT
from tests.scheduling import EACH_TEST_ALONE, costliest_first, estimated_cost


def test_a_real_release_on_the_fake_minikube_is_estimated_above_builds_fakes_a_double_and_plain_code() -> None:
    costs = [
        estimated_cost({"bundle_releases", "fake_tools", "tmp_path"}),
        estimated_cost({"bundle_releases", "tmp_path"}),
        estimated_cost({"fake_tools"}),
        estimated_cost({"make_cluster"}),
        estimated_cost({"tmp_path"}),
    ]

    assert costs == sorted(costs, reverse=True) and len(set(costs)) == len(costs)


def test_files_go_costliest_first_and_files_of_equal_cost_keep_their_collection_order() -> None:
    files = [("tests/test_a.py", 1.0), ("tests/test_b.py", 30.0), ("tests/test_c.py", 1.0), ("tests/test_d.py", 5.0)]

    assert costliest_first(files) == ["tests/test_b.py", "tests/test_d.py", "tests/test_a.py", "tests/test_c.py"]


def test_every_file_scheduled_test_by_test_exists() -> None:
    assert [name for name in sorted(EACH_TEST_ALONE) if not (REPO_ROOT / name).is_file()] == []
