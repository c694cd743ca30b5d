"""ui/words: the counts a user reads agree in number and say what they count."""

from __future__ import annotations

from kfinstall.ui.words import count, duration, plural, workloads


def test_one_is_singular_and_every_other_number_plural() -> None:
    assert [count(n, "object") for n in (0, 1, 2)] == ["0 objects", "1 object", "2 objects"]


def test_a_verb_agrees_with_its_count() -> None:
    assert f"1 of 13 components {plural(1, 'is')} not ready" == "1 of 13 components is not ready"
    assert f"2 of 13 components {plural(2, 'is')} not ready" == "2 of 13 components are not ready"


def test_words_ending_in_a_hiss_take_es_and_a_given_plural_wins() -> None:
    assert count(2, "pass") == "2 passes" and count(3, "prerequisite check") == "3 prerequisite checks"
    assert count(2, "child", "children") == "2 children"


def test_workloads_are_counted_against_their_total_and_none_is_a_dash() -> None:
    assert (workloads(3, 3), workloads(0, 1), workloads(0, 0)) == ("3/3 workloads", "0/1 workload", "-")


def test_durations_read_as_seconds_then_minutes_then_hours() -> None:
    assert [duration(s) for s in (0.4, 6, 72, 3599, 3720)] == ["0s", "6s", "1m12s", "59m59s", "1h02m"]
