"""Item 12 of issue 22: a report reads only files inside its session folder; serials with escape
sequences or rich markup from a hostile adb server reach the terminal escaped (`fermbench
devices`, errors); a session from a newer schema is called newer; with --quiet a failed model's
error is shown in full."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.bench.start import run_benchmark
from fermbench.cli import main
from fermbench.display import markup_safe, plain
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.store import SessionStore, Variant

HOSTILE = "evil\x1b]0;owned\x07\x1b[2J[blink]boom[/blink]"


def test_plain_and_markup_safe_escape_control_characters_and_markup():
    assert plain("a\x1b[2Jb\r\x9b") == "a\\x1b[2Jb\\x0d\\x9b"
    assert "\x1b" not in markup_safe(HOSTILE) and "\\[blink]" in markup_safe(HOSTILE)


class FakeAdbServer:
    """Answers every host request with one device list holding a hostile serial (a malicious or
    broken adb server, or a farm's)."""

    def __init__(self, listing: str):
        self.listing = listing.encode()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    size = int(conn.recv(4), 16)
                    conn.recv(size)
                    conn.sendall(b"OKAY" + f"{len(self.listing):04x}".encode() + self.listing)
                except (OSError, ValueError):
                    pass

    def close(self) -> None:
        self.sock.close()


def test_devices_escapes_a_hostile_serial_from_the_adb_server():
    server = FakeAdbServer(f"{HOSTILE} device product:[bold]p model:m\x1b[31m device:d\n")
    try:
        result = CliRunner().invoke(
            main, ["devices", "--adb-server", f"127.0.0.1:{server.port}"], env={"COLUMNS": "250"}
        )  # one line per device: nothing wrapped
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b" in result.output and "[blink]boom[/blink]" in result.output and "[bold]p" in result.output


@pytest.mark.slow
def test_report_refuses_a_record_path_outside_the_session(tiny, bench_models, tmp_path):
    outcome = run_benchmark(
        tiny(devices=("host",), models=("shallow_cnn",)), out=tmp_path / "results", model_dir=bench_models
    )
    (tmp_path / "secret.csv").write_text("phase,index,ns\ntimed,0,1\n")
    rec_path = outcome.store.record_path("host", Variant("shallow_cnn", DEFAULT_RUNTIME, "fp32"))
    rec = json.loads(rec_path.read_text())
    rec["latency"][0]["samples"] = "../../secret.csv"
    rec_path.write_text(json.dumps(rec))
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path / "results"), outcome.store.session_id])
    one_line_error(result, "outside the session folder")


def test_a_session_from_a_newer_schema_is_called_newer(tmp_path):
    store = SessionStore.create({}, root=tmp_path / "results", session_id="future")
    store.close()
    info = json.loads((store.path / "session.json").read_text())
    info["schema_version"] = 99
    (store.path / "session.json").write_text(json.dumps(info))
    for args in (
        ["report", "--results", str(tmp_path / "results"), "future"],
        ["run", "--resume", "future", "--out", str(tmp_path / "results"), "--quiet"],
    ):
        out = one_line_error(CliRunner().invoke(main, args), "newer fermbench")
        assert "older" not in out


@pytest.mark.slow
def test_quiet_shows_a_failed_models_error_in_full(models_copy, tmp_path):
    (models_copy / "deep_cnn.ckpt").write_bytes(b"not a checkpoint at all")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "host",
            "--models",
            "deep_cnn",
            "--quiet",
            "--warmup",
            "0",
            "--iterations",
            "2",
            "--cooldown",
            "none",
            "--out",
            str(tmp_path / "r"),
        ],
        env={"FERMBENCH_MODELS": str(models_copy)},
    )
    assert "deep_cnn.ckpt is truncated or not a fermbench checkpoint" in result.output
    assert "re-save it with `fermbench train`" in result.output, result.output


def test_report_tables_show_a_hostile_serial_escaped():
    from fermbench.report.formats import Block, Section, render_rich

    text = render_rich(
        [
            Block(
                f"device {HOSTILE}",
                [f"serial {HOSTILE}"],
                [Section("latency", ["device", "ms"], [[HOSTILE, "1.0"]], notes=[HOSTILE])],
            )
        ]
    )
    assert "\x1b" not in text and "\x07" not in text
    assert text.count("[blink]boom[/blink]") == 4  # heading, line, cell and note: shown, not applied
