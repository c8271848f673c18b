"""Locks that cannot be hijacked (issue 22, item 2): the per-user runtime folder is private and
checked, lock files are opened without following links, and a file fermbench did not write is
never truncated (the host-wide lock and a session's .lock alike)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.errors import LockError
from fermbench.locks import ProcessLock, host_cpu_lock, runtime_dir

VICTIM = b"precious data the user can write\n"


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A TMPDIR of this test's own, so the runtime folder is made here."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return root


def test_runtime_folder_is_made_private(private_tmp):
    folder = runtime_dir()
    assert folder.parent == private_tmp and (os.lstat(folder).st_mode & 0o777) == 0o700
    lock = host_cpu_lock("test")
    assert lock.try_acquire()
    lock.release()
    assert (os.lstat(folder / "host-cpu.lock").st_mode & 0o077) == 0


def test_this_users_runtime_folder_open_to_others_is_made_private(private_tmp):
    folder = private_tmp / f"fermbench-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)  # as an older fermbench left it
    host_cpu_lock("test")
    assert (os.lstat(folder).st_mode & 0o777) == 0o700


def test_a_runtime_folder_that_is_a_link_is_refused(private_tmp, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (private_tmp / f"fermbench-{os.getuid()}").symlink_to(elsewhere)
    with pytest.raises(LockError, match="not a folder"):
        host_cpu_lock("test")


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder owned by another user needs root")
def test_a_runtime_folder_of_another_user_is_refused_and_nothing_is_truncated(private_tmp, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    folder = private_tmp / f"fermbench-{os.getuid()}"
    folder.mkdir(mode=0o700)
    (folder / "host-cpu.lock").symlink_to(victim)
    os.chown(folder, 65534, 65534)  # the attacker pre-created it
    with pytest.raises(LockError, match="owned by uid 65534"):
        host_cpu_lock("test")
    assert victim.read_bytes() == VICTIM


def test_a_lock_file_that_is_a_symlink_is_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / ".lock").symlink_to(victim)
    with pytest.raises(LockError, match="symbolic link"):
        ProcessLock(tmp_path / "s" / ".lock", "test").try_acquire()
    assert victim.read_bytes() == VICTIM


def test_a_hard_link_or_a_foreign_file_under_a_lock_name_is_not_truncated(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    os.link(victim, tmp_path / "a.lock")
    with pytest.raises(LockError, match="2 links"):
        ProcessLock(tmp_path / "a.lock", "test").try_acquire()
    (tmp_path / "b.lock").write_bytes(VICTIM)
    with pytest.raises(LockError, match="not a fermbench lock file"):
        ProcessLock(tmp_path / "b.lock", "test").try_acquire()
    assert victim.read_bytes() == VICTIM and (tmp_path / "b.lock").read_bytes() == VICTIM


def test_an_old_owner_record_is_taken_over(tmp_path):
    path = tmp_path / "c.lock"
    path.write_text(json.dumps({"pid": 999999999, "host": "h", "what": "old", "since": "then"}))
    lock = ProcessLock(path, "new")
    assert lock.try_acquire() and lock.previous is not None and lock.previous.what == "old"
    lock.release()
    assert json.loads(path.read_text())["what"] == "new"


def test_resume_of_a_session_whose_lock_is_a_symlink_is_one_line(tmp_path, monkeypatch):
    from fermbench.cli import main
    from fermbench.store import SessionStore

    store = SessionStore.create({}, root=tmp_path / "results", session_id="s1")
    store.close()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    (store.path / ".lock").unlink()
    (store.path / ".lock").symlink_to(victim)
    result = CliRunner().invoke(main, ["run", "--resume", "s1", "--out", str(tmp_path / "results"), "--quiet"])
    assert result.exit_code == 1 and "symbolic link" in result.output and "Traceback" not in result.output
    assert victim.read_bytes() == VICTIM
