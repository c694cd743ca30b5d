"""`release.selection.select`: which components a plan installs, in which order, and why (pure: no cluster, no files
but the pins). The shipped pins are the releases users install; the synthetic pins are the test release's."""

from __future__ import annotations

import re

import pytest

from kfinstall.errors import UsageError
from kfinstall.release.pins import Release, load_pins
from kfinstall.release.selection import PROFILES, PlannedComponent, Selection, select
from tests.paths import REPO_ROOT
from tests.releases import SYNTHETIC_PINS

SHIPPED = {release.tag: release for release in load_pins().releases}
SYNTHETIC = load_pins(SYNTHETIC_PINS).get("v0.1.0")


def readme_profile_counts() -> dict[str, tuple[int, int, int]]:
    """README's "Supported Kubeflow releases" table: release → components of minimal, standard, full."""
    rows = re.findall(r"^\| (v?[\d.]+) \|.*\| (\d+) \| (\d+) \| (\d+) \|$", (REPO_ROOT / "README.md").read_text(), re.M)
    return {tag: (int(a), int(b), int(c)) for tag, a, b, c in rows}


def assert_dependencies_first(selection: Selection) -> None:
    position = {component_id: index for index, component_id in enumerate(selection.ids)}
    for component in selection.components:
        for dependency in component.depends_on:
            assert position[dependency] < position[component.id], f"{component.id} comes before {dependency}"


def component(selection: Selection, component_id: str) -> PlannedComponent:
    return next(c for c in selection.components if c.id == component_id)


# ------------------------------------------------------------------------------------------------ --with


def test_with_adds_the_component_and_the_dependencies_it_needs():
    selection = select(SHIPPED["v1.11.0"], "minimal", with_ids=["kserve"])

    assert {"kserve", "knative"} <= set(selection.ids)  # knative is in no profile but full: kserve needs it
    assert len(selection.ids) == 13 + 2


def test_with_says_why_each_added_component_is_there():
    selection = select(SHIPPED["v1.11.0"], "minimal", with_ids=["kserve"])

    assert component(selection, "kserve").reason == "asked for with --with"
    assert component(selection, "knative").reason == "needed by kserve"
    assert selection.notes == ("added knative: needed by kserve",)


def test_with_puts_an_added_dependency_before_its_dependent():
    selection = select(SHIPPED["v1.11.0"], "minimal", with_ids=["kserve"])

    assert selection.ids.index("knative") < selection.ids.index("kserve")
    assert_dependencies_first(selection)


def test_with_of_a_component_already_in_the_profile_changes_nothing():
    assert select(SYNTHETIC, "standard", with_ids=["pipelines"]) == select(SYNTHETIC, "standard")


def test_with_of_an_unknown_component_is_refused_listing_the_valid_ones():
    with pytest.raises(UsageError) as refused:
        select(SYNTHETIC, with_ids=["katibb"])

    assert refused.value.message == "unknown component katibb"
    assert "katib" in (refused.value.hint or "").split(": ", 1)[1].split(", ")


# ------------------------------------------------------------------------------------------------ --without


def test_without_of_a_component_another_selected_one_needs_is_refused_naming_both():
    with pytest.raises(UsageError) as refused:
        select(SYNTHETIC, "minimal", without_ids=["dex"])  # oidc-authservice depends on dex

    assert refused.value.message == "oidc-authservice depends on dex, which --without dex removes"
    assert refused.value.hint == "also remove oidc-authservice (--without oidc-authservice), or keep dex"
    assert refused.value.exit_code == 2


def test_without_of_a_dependency_of_a_with_component_is_refused():
    with pytest.raises(UsageError, match="kserve depends on knative, which --without knative removes"):
        select(SHIPPED["v1.11.0"], "minimal", with_ids=["kserve"], without_ids=["knative"])


def test_without_of_a_component_nothing_needs_drops_only_it():
    full = select(SYNTHETIC, "standard")
    without = select(SYNTHETIC, "standard", without_ids=["training-operator"])

    assert without.ids == [i for i in full.ids if i != "training-operator"]


def test_without_of_a_component_together_with_its_dependents_is_allowed():
    selection = select(SYNTHETIC, "minimal", without_ids=["dex", "oidc-authservice"])

    assert "dex" not in selection.ids
    assert "oidc-authservice" not in selection.ids
    assert len(selection.ids) == len(select(SYNTHETIC, "minimal").ids) - 2


def test_without_of_an_unknown_component_is_refused():
    with pytest.raises(UsageError, match="unknown component katibb"):
        select(SYNTHETIC, without_ids=["katibb"])


# ------------------------------------------------------------------------------------------------ variants


def test_a_variant_replaces_the_components_paths():
    release = SHIPPED["v1.4.0"]
    pipelines = next(c for c in release.components if c.id == "pipelines")

    planned = component(select(release, "standard", variants={"pipelines": "pns"}), "pipelines")

    assert planned.paths == tuple(pipelines.alternatives["pns"])
    assert planned.paths != tuple(pipelines.paths)
    assert planned.variant == "pns"


def test_a_variant_changes_no_other_component():
    release = SHIPPED["v1.4.0"]
    plain, pns = select(release, "standard"), select(release, "standard", variants={"pipelines": "pns"})

    assert pns.ids == plain.ids
    assert [c for c in pns.components if c.id != "pipelines"] == [c for c in plain.components if c.id != "pipelines"]


def test_the_default_variant_keeps_the_pinned_paths():
    release = SHIPPED["v1.4.0"]
    pipelines = next(c for c in release.components if c.id == "pipelines")

    planned = component(select(release, "standard", variants={"pipelines": "default"}), "pipelines")

    assert planned.paths == tuple(pipelines.paths)
    assert planned.variant is None


def test_an_unknown_variant_is_refused_listing_the_components_variants():
    with pytest.raises(UsageError) as refused:
        select(SHIPPED["v1.4.0"], "standard", variants={"pipelines": "emissary"})

    assert refused.value.message == "unknown variant of pipelines: emissary"
    assert (refused.value.hint or "").endswith(": default, pns")  # "default" and the pinned alternatives


def test_a_variant_of_an_unknown_component_is_refused():
    with pytest.raises(UsageError, match="unknown component pipelinez"):
        select(SHIPPED["v1.4.0"], variants={"pipelinez": "pns"})


# ------------------------------------------------------------------------------------------------ profiles


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_each_profile_has_the_number_of_components_the_readme_documents(tag: str):
    documented = readme_profile_counts()

    counts = tuple(len(select(SHIPPED[tag], profile).ids) for profile in PROFILES)

    assert counts == documented[tag]


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_minimal_is_the_tutorials_set_with_profiles_and_the_user_namespace(tag: str):
    ids = set(select(SHIPPED[tag], "minimal").ids)
    auth_proxy = "oidc-authservice" if tag == "v1.4.0" else "oauth2-proxy"  # v1.9.1 moved to oauth2-proxy

    assert ids == {
        "cert-manager",
        "istio",
        "dex",
        auth_proxy,
        "kubeflow-namespace",
        "kubeflow-roles",
        "kubeflow-istio-resources",
        "katib",
        "central-dashboard",
        "admission-webhook",
        "notebooks",
        "profiles-kfam",
        "user-namespace",
    }


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_standard_adds_pipelines_volumes_tensorboard_and_training(tag: str):
    release = SHIPPED[tag]
    training = "trainer" if tag in ("v1.11.0", "26.03") else "training-operator"

    added = set(select(release, "standard").ids) - set(select(release, "minimal").ids)

    assert added == {"pipelines", "volumes-web-app", "tensorboard", training}


@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_full_is_every_component_of_the_release(tag: str):
    release: Release = SHIPPED[tag]

    assert sorted(select(release, "full").ids) == sorted(c.id for c in release.components)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("tag", sorted(SHIPPED))
def test_every_profile_installs_dependencies_first(tag: str, profile: str):
    assert_dependencies_first(select(SHIPPED[tag], profile))


def test_components_free_to_go_keep_the_release_order():
    ids = select(SYNTHETIC, "full").ids

    # the file lists central-dashboard before profiles-kfam, which it depends on: it alone moves, to just after it
    release_order = [c.id for c in SYNTHETIC.components]
    release_order.remove("central-dashboard")
    release_order.insert(release_order.index("profiles-kfam") + 1, "central-dashboard")
    assert ids == release_order


def test_minimal_of_26_03_is_in_the_order_the_readme_plan_shows():
    ids = select(SHIPPED["26.03"], "minimal").ids

    assert ids[:3] == ["kubeflow-namespace", "cert-manager", "istio"]  # README: `kfinstall plan --profile minimal`
    assert ids[-1] == "user-namespace"


def test_the_default_profile_is_standard():
    assert select(SYNTHETIC) == select(SYNTHETIC, "standard")


def test_an_unknown_profile_is_refused_listing_the_profiles():
    with pytest.raises(UsageError) as refused:
        select(SYNTHETIC, "tiny")

    assert refused.value.message == "unknown profile tiny"
    assert refused.value.hint == "valid profiles: minimal, standard, full"
