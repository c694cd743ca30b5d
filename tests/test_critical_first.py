"""Which components go first: those on the longest chain of dependents, since that chain bounds the install."""

from __future__ import annotations

from kfinstall.release.pins import load_pins, shipped_pins_path
from kfinstall.release.selection import chain_lengths, select


def test_a_component_nothing_depends_on_has_a_chain_of_one() -> None:
    release = load_pins(shipped_pins_path()).get("v1.10.2")
    lengths = chain_lengths(select(release, "standard").components)
    assert lengths["training-operator"] == 1
    assert lengths["user-namespace"] == 1


def test_the_chain_counts_the_longest_line_of_dependents() -> None:
    release = load_pins(shipped_pins_path()).get("v1.10.2")
    lengths = chain_lengths(select(release, "standard").components)
    assert lengths["istio"] == 4  # istio -> dex -> oauth2-proxy -> pipelines (or central-dashboard)
    assert lengths["dex"] == 3
    assert lengths["cert-manager"] == 3  # cert-manager -> admission-webhook -> notebooks


def test_critical_first_puts_istio_before_cert_manager_and_keeps_plan_order_for_ties() -> None:
    release = load_pins(shipped_pins_path()).get("v1.10.2")
    selection = select(release, "standard")
    ordered = [component.id for component in selection.critical_first()]
    assert ordered.index("istio") < ordered.index("cert-manager")
    assert sorted(ordered) == sorted(selection.ids)
    lengths = chain_lengths(selection.components)
    ties = [c for c in selection.ids if lengths[c] == 1]
    assert [c for c in ordered if lengths[c] == 1] == ties
