"""Every traceback of issue 22, item 10, is now one line naming the thing and the fix: a samples
CSV with a negative or over-int64 value, a lock that cannot be written (full or read-only disk,
at session start and on --resume), a TMPDIR too small for the session's copy of a model."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.bench import exports
from fermbench.bench.start import run_benchmark
from fermbench.cli import main
from fermbench.errors import LockError, StorageError
from fermbench.locks import ProcessLock
from fermbench.store import SessionStore


@pytest.mark.slow
def test_samples_with_a_negative_or_huge_value_are_one_line(tiny, bench_models, tmp_path):
    outcome = run_benchmark(
        tiny(devices=("host",), models=("shallow_cnn",)), out=tmp_path / "results", model_dir=bench_models
    )
    (csv_path,) = (outcome.store.path / "samples").rglob("*.csv")
    for bad in ("-5", str(2**64)):
        csv_path.write_text(f"phase,index,ns\ntimed,0,{bad}\n")
        result = CliRunner().invoke(main, ["report", "--results", str(tmp_path / "results"), outcome.store.session_id])
        one_line_error(result, csv_path.name, "corrupt")


def _raise(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


def test_a_full_disk_at_the_lock_write_is_one_line_and_the_lock_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "ftruncate", _raise(errno.ENOSPC))
    lock = ProcessLock(tmp_path / "s" / ".lock", "test")
    with pytest.raises(LockError, match="no space left on the device"):
        lock.try_acquire()
    assert not lock.held
    monkeypatch.undo()
    assert ProcessLock(tmp_path / "s" / ".lock", "again").try_acquire()  # nothing stayed locked


def test_resume_on_a_read_only_disk_is_one_line(tmp_path, monkeypatch):
    store = SessionStore.create({}, root=tmp_path / "results", session_id="ro")
    store.close()
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".lock") and flags & (os.O_RDWR | os.O_WRONLY):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = CliRunner().invoke(main, ["run", "--resume", "ro", "--out", str(tmp_path / "results"), "--quiet"])
    one_line_error(result, ".lock", "Read-only file system")


def test_a_tmpdir_too_small_for_the_models_is_one_line(tmp_path, monkeypatch):
    model = tmp_path / "m.ptl"
    model.write_bytes(b"x" * 1000)
    monkeypatch.setattr(os, "link", _raise(errno.EXDEV))
    monkeypatch.setattr(shutil, "copy2", _raise(errno.ENOSPC))
    with pytest.raises(StorageError, match="no space left on the device.*MB free there"):
        exports.private_link(model, tmp_path / "private")
