"""The pieces of a farm session that need no adb: server addresses and device specs (device/farm.py),
and the shard queue's units of work, shared queue and --shard identity check (bench/shards.py)."""

from __future__ import annotations

import threading

import pytest

from fermbench.bench.shards import Unit, WorkQueue, check_identical, model_order, plan_units
from fermbench.device.farm import Farm, ServerAddress, split_spec
from fermbench.errors import ConfigError
from fermbench.store import Variant

A, B, C = (Variant(m, "pytorch_android_lite-2.1.0", "fp32") for m in ("deep_cnn", "resnet9", "shallow_cnn"))


def test_server_addresses_and_device_specs():
    assert ServerAddress.parse("10.0.0.5:5037") == ServerAddress("10.0.0.5", 5037)
    assert ServerAddress.parse("localhost:15037") == ServerAddress.parse("127.0.0.1:15037")
    assert str(ServerAddress.parse("[::1]:5037")) == "[::1]:5037"
    for bad in ("5037", "host:", "host:0", "host:65536", ":5037", "::1:5037", "a b:1"):
        with pytest.raises(ConfigError, match="is not HOST:PORT"):
            ServerAddress.parse(bad)
    assert split_spec("emulator-5554") == (None, "emulator-5554")
    assert split_spec("127.0.0.1:15555") == (None, "127.0.0.1:15555")  # a TCP serial, not a server
    assert split_spec("10.0.0.5:5037/127.0.0.1:15555") == (ServerAddress("10.0.0.5", 5037), "127.0.0.1:15555")
    with pytest.raises(ConfigError, match="names no serial"):
        split_spec("10.0.0.5:5037/")


def test_keys_are_bare_on_the_local_server_only(monkeypatch):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", "15037")
    farm = Farm.from_texts(["127.0.0.1:15037", "10.0.0.5:5037"], ("10.0.0.6:5037/x",))
    assert [str(s) for s in farm.servers] == ["127.0.0.1:15037", "10.0.0.5:5037", "10.0.0.6:5037"]
    assert farm.key(ServerAddress("127.0.0.1", 15037), "abc") == "abc"
    assert farm.key(ServerAddress("10.0.0.5", 5037), "abc") == "10.0.0.5:5037/abc"
    resumed = Farm.from_texts(["127.0.0.1:15037"], local="127.0.0.1:5037")  # keys as the session recorded them
    assert resumed.key(ServerAddress("127.0.0.1", 15037), "abc") == "127.0.0.1:15037/abc"


def test_units_follow_the_seeded_order_and_each_is_planned_once():
    units = plan_units(7, "dev", 2, [A, B, C])
    latency = [u for u in units if u.phase == "latency"]
    assert [u.variant for u in latency[:3]] == model_order(7, "dev", 0, [C, B, A])
    assert [u.variant for u in latency[3:]] == model_order(7, "dev", 1, [A, B, C])
    assert len(set(units)) == len(units) == 3 * 2 + 3 * 3
    assert units.index(Unit(A, "appsize")) > max(units.index(u) for u in latency)  # other phases after latency


def test_a_device_waits_for_a_unit_another_device_may_give_back():
    queue, stop = WorkQueue([Unit(A, "latency", 0), Unit(B, "latency", 0)]), threading.Event()
    assert queue.take({B}, stop) == Unit(B, "latency", 0)  # only what that device can run
    first = queue.take({A, B}, stop)
    assert first == Unit(A, "latency", 0)
    got: list[Unit | None] = []
    taker = threading.Thread(target=lambda: got.append(queue.take({A, B}, stop)))
    taker.start()  # the queue is empty but two units are still running: it waits
    queue.finished()
    queue.give_back(first)  # that device was lost: the waiting one takes its unit
    taker.join(30)
    assert got == [first]
    queue.finished()
    assert queue.take({A, B}, stop) is None  # nothing queued, nothing running: done
    queue2 = WorkQueue([Unit(A, "latency", 0)])
    unit = queue2.take({A}, stop)
    stop.set()
    assert unit is not None and queue2.take({A}, stop) is None  # a stopping session does not wait


def test_shard_refuses_devices_that_differ_and_names_them():
    same = {"model": "Pixel 8", "fingerprint": "google/shiba/shiba:14/X/1:user/release-keys"}
    check_identical([("a", same), ("b", dict(same))])
    with pytest.raises(ConfigError) as e:
        check_identical([("a", same), ("b", same), ("c", {**same, "fingerprint": "google/shiba/shiba:15/Y/2"})])
    text = str(e.value)
    assert "--shard needs identical devices" in text and "a, b: Pixel 8" in text and "c: Pixel 8" in text
    assert "\n" not in text
