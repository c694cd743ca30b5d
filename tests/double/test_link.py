"""The shared download link (knobs `image_link_bandwidth`, `image_sizes`, `image_layers`, `max_concurrent_downloads`,
`image_stream_bandwidth`, `image_extract_rate`): pulls cost bytes over one link that every download on the node
shares. The store is pure bookkeeping over simulated time, so most checks drive it directly; one runs a cluster."""

from __future__ import annotations

import pytest

from tests.double.images import ImageStore, SharedLink
from tests.double.test_api import apply
from tests.double.test_pulls import NS, assert_pulled_one_after_the_other, deploy

MB = 1_000_000.0


def store(**knobs: float | int | dict) -> ImageStore:
    link = SharedLink(
        bandwidth=float(knobs.pop("bandwidth", 10 * MB)),
        sizes=knobs.pop("sizes", {"*": 10 * MB}),  # type: ignore[arg-type]
        layers=knobs.pop("layers", {"*": 3}),  # type: ignore[arg-type]
        slots=int(knobs.pop("slots", 3)),  # type: ignore[arg-type]
        stream_cap=float(knobs.pop("stream_cap", 0.0)),  # type: ignore[arg-type]
        extract_rate=float(knobs.pop("extract_rate", 0.0)),  # type: ignore[arg-type]
    )
    assert not knobs
    return ImageStore(link=link)


def arrivals(images: ImageStore, serialize: bool, until: float = 100.0) -> dict[str, float]:
    images.advance(until, serialize)
    return dict(images.present)


def test_one_image_takes_its_bytes_over_the_bandwidth():
    images = store()
    images.kubelet_pull("a", 0.0, 0.0, serialize=True)
    assert arrivals(images, True)["a"] == pytest.approx(1.0)


def test_two_images_pulled_at_once_share_the_link_and_arrive_no_sooner_than_their_bytes_allow():
    images = store()
    images.external_pull("a", 0.0, 0.0)
    images.external_pull("b", 0.0, 0.0)
    got = arrivals(images, True)
    # 3 download slots over both pulls: a takes all 3 first (it started first, as dockerd hands out slots in order)
    assert got["a"] == pytest.approx(1.0)
    assert got["b"] == pytest.approx(2.0)


def test_serialized_kubelet_pulls_cost_the_same_bytes_time_as_parallel_ones_without_extraction():
    serial, parallel = store(), store()
    for image in ("a", "b", "c"):
        serial.kubelet_pull(image, 0.0, 0.0, serialize=True)
        parallel.kubelet_pull(image, 0.0, 0.0, serialize=False)
    assert max(arrivals(serial, True).values()) == pytest.approx(3.0)
    assert max(arrivals(parallel, False).values()) == pytest.approx(3.0)


def test_extraction_holds_the_serial_puller_but_overlaps_the_next_download_when_parallel():
    serial, parallel = store(extract_rate=20 * MB), store(extract_rate=20 * MB)  # 0.5 s extraction per image
    for image in ("a", "b"):
        serial.kubelet_pull(image, 0.0, 0.0, serialize=True)
        parallel.external_pull(image, 0.0, 0.0)
    assert arrivals(serial, True)["b"] == pytest.approx(3.0)  # (1 + 0.5) twice
    assert arrivals(parallel, False)["b"] == pytest.approx(2.5)  # b's download runs during a's extraction


def test_a_single_layer_image_leaves_slots_to_the_next_pull():
    images = store(layers={"a": 1, "*": 2})
    images.external_pull("a", 0.0, 0.0)
    images.external_pull("b", 0.0, 0.0)
    got = arrivals(images, True)
    # 3 streams share the link: a has 1 of them (1/3 of 10 MB/s), b 2 until b is done at 1.5 s; then a alone
    assert got["b"] == pytest.approx(1.5)
    assert got["a"] == pytest.approx(2.0)


def test_a_per_connection_cap_makes_layer_parallelism_count():
    one, three = store(layers={"*": 1}, stream_cap=2 * MB), store(layers={"*": 3}, stream_cap=2 * MB)
    one.kubelet_pull("a", 0.0, 0.0, serialize=True)
    three.kubelet_pull("a", 0.0, 0.0, serialize=True)
    assert arrivals(one, True)["a"] == pytest.approx(5.0)
    assert arrivals(three, True)["a"] == pytest.approx(10 / 6)


def test_the_pull_delay_is_a_latency_before_the_bytes():
    images = store()
    images.kubelet_pull("a", 0.0, 0.25, serialize=True)
    assert arrivals(images, True)["a"] == pytest.approx(1.25)


def test_a_pull_joining_later_slows_the_one_in_flight_only_from_then_on():
    images = store(layers={"*": 1})
    images.external_pull("a", 0.0, 0.0)
    images.advance(0.5, True)  # a has 5 MB left
    images.external_pull("b", 0.5, 0.0)
    got = arrivals(images, True)
    assert got["a"] == pytest.approx(1.5)  # 5 MB at 5 MB/s
    assert got["b"] == pytest.approx(2.0)  # 5 MB at 5 MB/s, then 5 MB at 10 MB/s


def test_next_change_and_history_follow_the_simulation():
    images = store(extract_rate=10 * MB)
    images.kubelet_pull("a", 0.0, 0.0, serialize=True)
    images.advance(0.0, True)
    assert images.next_change(True) == pytest.approx(1.0)  # the download ends (then extraction)
    images.advance(1.0, True)
    assert images.next_change(True) == pytest.approx(2.0)
    images.advance(2.0, True)
    assert [(p.image, p.start, p.end) for p in images.history] == [("a", 0.0, pytest.approx(2.0))]
    assert images.next_change(True) == float("inf")


def test_without_the_link_knob_a_pull_takes_its_drawn_duration():
    images = ImageStore()
    images.kubelet_pull("a", 0.0, 0.4, serialize=True)
    images.kubelet_pull("b", 0.0, 0.4, serialize=True)
    assert arrivals(images, True) == {"a": pytest.approx(0.4), "b": pytest.approx(0.8)}


def test_a_cluster_with_a_link_starts_pods_once_their_bytes_arrive(make_cluster):
    # 2 images of 1 MB over a 2 MB/s link, pulled one after the other by the kubelet: 0.5 s each
    cluster = make_cluster(image_link_bandwidth=2 * MB, image_sizes={"example.com/*": 1 * MB}, ready_delay=0)
    apply(cluster, NS)

    started = deploy(cluster, ("a", "example.com/a:1"), ("b", "example.com/b:1"))

    assert_pulled_one_after_the_other(cluster, started, 0.5)


def test_real_clock_values_and_sizes_leave_no_float_residue_to_spin_on():
    # monotonic clocks are ~1e4-1e6 s and sizes ~1e8 bytes: a download must end at its event, not 1e-9 bytes short
    images = store(bandwidth=6.25e8, sizes={"*": 4.5e8}, extract_rate=2e8)
    start = 14123.456789
    for n in range(8):
        images.kubelet_pull(f"i{n}", start + n * 0.0137, 0.1, serialize=True)
    got = arrivals(images, True, until=start + 100)
    assert len(got) == 8
    assert max(got.values()) == pytest.approx(start + 8 * (0.1 + 0.72 + 2.25), rel=1e-9)


def test_a_loaded_image_is_on_the_node_after_its_extraction_and_is_no_registry_pull():
    # minikube image load: copy, then `docker load` registers every layer (extraction); no bytes over the link
    images = store(extract_rate=20 * MB)  # 10 MB at 20 MB/s: 0.5 s
    images.load("a", 0.0)
    images.advance(0.4, True)
    assert "a" not in images.present
    assert arrivals(images, True)["a"] == pytest.approx(0.5)
    assert images.history == [] and [p.image for p in images.loads] == ["a"]


def test_without_an_extraction_rate_a_loaded_image_is_there_at_once():
    images = store()
    images.load("a", 2.0)
    assert images.present == {"a": 2.0} and images.pulling == {} and images.loads == []


def test_a_kubelet_pull_of_an_image_still_being_loaded_goes_to_the_registry():
    # the runtime lacks the image until `docker load` ends, so the kubelet pulls it (registry bytes)
    images = store(extract_rate=20 * MB)
    images.load("a", 0.0)
    images.kubelet_pull("a", 0.1, 0.0, serialize=True)
    assert arrivals(images, True)["a"] == pytest.approx(0.5)  # the load ended first
    assert [p.image for p in images.history] == ["a"] and [p.image for p in images.loads] == ["a"]


def test_a_load_through_the_control_port_takes_its_extraction_and_downloads_nothing(make_cluster):
    cluster = make_cluster(image_link_bandwidth=2 * MB, image_sizes={"example.com/*": 1 * MB},
                           image_extract_rate=4 * MB, ready_delay=0)  # fmt: skip

    loaded = cluster.pull("example.com/a:1", load=True)

    assert loaded["pulled"] is False and loaded["seconds"] >= 0.25  # 1 MB at 4 MB/s
    state = cluster.images()
    assert state["pulls"] == [] and [entry["image"] for entry in state["loads"]] == ["example.com/a:1"]
    assert "example.com/a:1" in state["present"]
