"""fermbench's temp folders carry their owner; a sweep removes only those of dead processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fermbench.tempdirs import MARKER, make_temp_dir, remove_temp_dir, sweep, temp_dir


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_fermbench_folders_of_dead_processes(tmp_path):
    dead = tmp_path / "fermbench-host-dead"
    dead.mkdir()
    (dead / MARKER).write_text(json.dumps({"pid": _dead_pid()}))
    alive = tmp_path / "fermbench-host-alive"
    alive.mkdir()
    (alive / MARKER).write_text(json.dumps({"pid": os.getppid()}))
    unmarked = tmp_path / "fermbench-someone-elses"
    unmarked.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    (other / MARKER).write_text(json.dumps({"pid": _dead_pid()}))
    assert sweep(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and unmarked.exists() and other.exists()


def test_temp_dirs_are_marked_and_removed(tmp_path):
    with temp_dir("pull", tmp_path) as path:
        assert path.name.startswith("fermbench-pull-")
        assert json.loads((path / MARKER).read_text())["pid"] == os.getpid()
        assert sweep(tmp_path) == []  # its owner is alive
    assert not path.exists()
    kept = make_temp_dir("host", tmp_path)
    assert kept.is_dir()
    remove_temp_dir(kept)
    assert not kept.exists()
