"""Pure pieces of the double: quantities, scheduling arithmetic, selectors, apply merging."""

from __future__ import annotations

import pytest

from tests.double import merge
from tests.double.controllers.common import go_duration, parse_quantity, pod_requests
from tests.double.scenario import Scenario
from tests.double.selectors import SelectorError, field_selector, label_selector


@pytest.mark.parametrize(
    ("text", "value"), [("100m", 0.1), ("2", 2.0), ("64Mi", 64 * 2**20), ("1Gi", 2**30), ("1G", 1e9), ("1.5", 1.5)]
)
def test_quantities_parse_like_kubernetes(text, value):
    assert parse_quantity(text) == pytest.approx(value)


def test_pod_requests_count_limits_alone_and_the_largest_init_container():
    spec = {
        "containers": [{"resources": {"requests": {"cpu": "100m"}}}, {"resources": {"limits": {"memory": "1Gi"}}}],
        "initContainers": [{"resources": {"requests": {"cpu": "500m", "memory": "10Mi"}}}],
    }

    assert pod_requests(spec) == {"cpu": 0.5, "memory": 2**30}


def test_set_based_label_selectors():
    match = label_selector("app in (a,b),tier!=db,!legacy,env")

    assert match({"app": "a", "tier": "web", "env": "x"})
    assert not match({"app": "c", "env": "x"})
    assert not match({"app": "a", "env": "x", "legacy": "1"})
    assert not match({"app": "b"})


def test_unsupported_field_labels_are_refused_like_the_apiserver_does():
    with pytest.raises(SelectorError, match=r"field label not supported: spec\.replicas"):
        field_selector("spec.replicas=1", "Deployment")


def test_apply_removes_only_fields_the_manager_stopped_applying():
    current = {"data": {"a": "1", "b": "2", "c": "set-by-someone-else"}}
    previous = {"data": {"a": "1", "b": "2"}}

    result = merge.server_side_apply(current, {"data": {"a": "9"}}, previous, others=[])

    assert result == {"data": {"a": "9", "c": "set-by-someone-else"}}


def test_json_merge_patch_deletes_with_null():
    assert merge.json_merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}


def test_the_crash_back_off_restarts_at_once_after_the_first_crash_then_doubles_up_to_its_cap():
    scenario = Scenario(crash_backoff=10, crash_backoff_max=300)

    assert [scenario.backoff(n) for n in (1, 2, 3, 4, 6, 7, 1000)] == [0, 10, 20, 40, 160, 300, 300]


def test_back_off_durations_print_like_the_kubelets_go_durations():
    assert [go_duration(s) for s in (0.3, 10, 2.4000000000000004, 80, 300, 3725)] == [
        "300ms",
        "10s",
        "2.4s",
        "1m20s",
        "5m0s",
        "1h2m5s",
    ]


def test_needs_take_the_first_matching_workload_pattern_and_drop_patterns_matching_itself():
    scenario = Scenario(needs={"kubeflow/ml-pipeline": ["kubeflow/mysql", "kubeflow/*"], "kubeflow/*": ["x/y"]})

    assert scenario.needs_for("kubeflow", "ml-pipeline") == ["kubeflow/mysql"]
    assert scenario.needs_for("kubeflow", "katib-ui") == ["x/y"]
    assert scenario.needs_for("auth", "dex") == []
