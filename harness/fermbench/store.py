"""The results store: one folder per benchmark session, written as it goes, loaded into pandas.

Layout (documented for readers in results/README.md, which is the contract for the report):

    results/<session-id>/
      session.json                       schema version, harness, settings, status, devices, models
      records/<device-slug>/<model>.json one per (device, model): phases with status, summaries
      samples/<device-slug>/<model>.r<k>.csv   raw latency samples of repeat k (phase,index,ns)
      predictions/<device-slug>/<model>.<dataset>.csv   per-image predictions
      log.txt                            append-only, one line per event

Every JSON file is replaced atomically; a killed session leaves finished records intact and
`fermbench run --resume <session-id>` carries on from them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import __version__
from .errors import ResultsError
from .fileio import append_line, atomic_write_json, atomic_write_text
from .paths import results_dir

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)

# Session status values. "running" on disk after the process died means it was killed.
RUNNING, COMPLETE, PARTIAL, FAILED, INTERRUPTED = "running", "complete", "partial", "failed", "interrupted"
# Phase and record status values.
OK, PHASE_FAILED, SKIPPED = "ok", "failed", "skipped"

PHASES = ("latency", "accuracy", "realworld", "appsize")
SAMPLE_COLUMNS = ("phase", "index", "ns")  # phase: first | warmup | timed


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def slug(text: str) -> str:
    """A file-name-safe form of a serial or model name (`127.0.0.1:15555` -> `127.0.0.1_15555`)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return safe if safe.strip(".") else "_" + safe  # never "", "." or ".."


def new_session_id() -> str:
    """Sortable by creation time, unique across parallel runs: 20240101-120000-a1b2."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def git_revision() -> str | None:
    """The harness's git commit (with `-dirty` when the tree has changes), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def check_schema(obj: dict, where: Path) -> None:
    version = obj.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ResultsError(
            f"{where}: schema_version {version!r} is not one this fermbench {__version__} reads "
            f"({', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}); use the fermbench version that "
            f"wrote it (harness version in session.json) or re-run the session")


def read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except FileNotFoundError as exc:
        raise ResultsError(f"{path} is missing; is this a fermbench results folder?") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                           f"the file is corrupt, delete the session or restore the file") from exc
    if not isinstance(obj, dict):
        raise ResultsError(f"{path} does not hold a JSON object; the file is corrupt")
    return obj


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class Record:
    """The results of one model on one device; `data` is the JSON written to records/."""

    device: str
    model: str
    data: dict

    @classmethod
    def new(cls, device: str, model: str) -> "Record":
        return cls(device, model, {
            "schema_version": SCHEMA_VERSION, "device": device, "model": model,
            "status": RUNNING, "error": None, "updated": now_iso(),
            "latency": [], "accuracy": None, "realworld": None, "appsize": None,
        })

    def phase_done(self, phase: str, repeat: int | None = None) -> bool:
        """True when that phase (or latency repeat) finished ok; failed phases are run again."""
        return (self.phase(phase, repeat) or {}).get("status") == OK

    def phase(self, phase: str, repeat: int | None = None) -> dict | None:
        if phase == "latency":
            return next((r for r in self.data["latency"] if r.get("repeat") == repeat), None)
        return self.data.get(phase)

    def set_phase(self, phase: str, result: dict, repeat: int | None = None) -> None:
        result = {**result, "finished": now_iso()}
        if phase == "latency":
            result["repeat"] = repeat
            rest = [r for r in self.data["latency"] if r.get("repeat") != repeat]
            self.data["latency"] = sorted(rest + [result], key=lambda r: r["repeat"])
        elif phase in PHASES:
            self.data[phase] = result
        else:
            raise ValueError(f"unknown phase {phase!r}")

    def fail(self, error: str) -> None:
        """The whole record failed (e.g. export or a lost device) before or between phases."""
        self.data["status"] = PHASE_FAILED
        self.data["error"] = error

    def reopen(self) -> None:
        """Clear a record-level failure (e.g. a failed export) before its phases run again."""
        self.data["status"] = RUNNING
        self.data["error"] = None

    def finish(self, planned: Sequence[tuple[str, int | None]]) -> None:
        """Set the record's status from its phases: ok when every planned phase is ok."""
        if self.data.get("error"):
            self.data["status"] = PHASE_FAILED
            return
        states = [(self.phase(p, r) or {}).get("status") for p, r in planned]
        failed = [f"{p}" + (f"[{r}]" if r is not None else "") for (p, r), s in zip(planned, states)
                  if s == PHASE_FAILED]
        if failed:
            self.data["status"] = PHASE_FAILED
            self.data["error"] = "failed phases: " + ", ".join(failed)
        elif all(s in (OK, SKIPPED) for s in states):
            self.data["status"] = OK
        else:
            self.data["status"] = RUNNING


class SessionStore:
    """Writes one session folder. Thread-safe: one worker per device shares it."""

    def __init__(self, path: Path, info: dict):
        self.path = Path(path)
        self.info = info
        self._lock = threading.RLock()

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, settings: dict, *, root: Path | None = None, session_id: str | None = None,
               seed: int | None = None) -> "SessionStore":
        root = Path(root) if root is not None else results_dir()
        session_id = session_id or new_session_id()
        path = root / session_id
        if path.exists():
            raise ResultsError(f"session folder {path} already exists; pick another id or --resume it")
        info = {
            "schema_version": SCHEMA_VERSION,
            "session_id": session_id,
            "harness": {"version": __version__, "git_revision": git_revision()},
            "created": now_iso(), "updated": now_iso(),
            "status": RUNNING, "resumed": [],
            "settings": settings, "seed": seed, "order": {},
            "devices": {}, "models": {},
        }
        store = cls(path, info)
        store._save_info()
        store.log(f"session {session_id} created by fermbench {__version__}")
        return store

    @classmethod
    def open(cls, session: str | Path, *, root: Path | None = None) -> "SessionStore":
        """Reopen a session folder (by id under `root`, or by path) to resume it."""
        path = resolve_session(session, root)
        info = read_json(path / "session.json")
        check_schema(info, path / "session.json")
        store = cls(path, info)
        with store._lock:
            info["resumed"].append(now_iso())
            info["status"] = RUNNING
            store._save_info()
        store.log("session resumed")
        return store

    @property
    def session_id(self) -> str:
        return self.info["session_id"]

    # -- session.json ----------------------------------------------------------------------

    def _save_info(self) -> None:
        self.info["updated"] = now_iso()
        atomic_write_json(self.path / "session.json", self.info)

    def update(self, **fields: Any) -> None:
        """Set top-level session fields (status, order, seed, ...) and save."""
        with self._lock:
            self.info.update(fields)
            self._save_info()

    def set_device(self, serial: str, entry: dict) -> None:
        """Record (or merge into) a device's identity, properties, runner versions and tags."""
        with self._lock:
            current = self.info["devices"].get(serial, {"serial": serial, "slug": slug(serial)})
            current.update(entry)
            self.info["devices"][serial] = current
            self._save_info()

    def set_order(self, serial: str, repeat: int, order: list[str]) -> None:
        """The model order a device ran in one repeat (seeded; recorded so a reader can check)."""
        with self._lock:
            self.info["order"].setdefault(serial, {})[str(repeat)] = list(order)
            self._save_info()

    def set_model(self, name: str, meta: dict) -> None:
        with self._lock:
            self.info["models"][name] = meta
            self._save_info()

    def set_status(self, status: str) -> None:
        self.update(status=status)

    # -- records ---------------------------------------------------------------------------

    def record_path(self, serial: str, model: str) -> Path:
        return self.path / "records" / slug(serial) / f"{slug(model)}.json"

    def record(self, serial: str, model: str) -> Record:
        """The stored record of (device, model), or a new one."""
        path = self.record_path(serial, model)
        if not path.exists():
            return Record.new(serial, model)
        data = read_json(path)
        check_schema(data, path)
        return Record(serial, model, data)

    def save_record(self, record: Record) -> Path:
        record.data["updated"] = now_iso()
        return atomic_write_json(self.record_path(record.device, record.model), record.data)

    # -- raw data files --------------------------------------------------------------------

    def write_samples(self, serial: str, model: str, repeat: int, timed_ns: Iterable[int], *,
                      first_ns: int | None = None, warmup_ns: Iterable[int] = ()) -> str:
        """Write every raw sample of one latency repeat; returns its path relative to the session.

        Rows: the first inference after load (`first`), warm-up iterations where the runner
        reports them one by one (`warmup`), then every timed iteration (`timed`).
        """
        rel = f"samples/{slug(serial)}/{slug(model)}.r{repeat}.csv"
        buf = io.StringIO()
        buf.write(",".join(SAMPLE_COLUMNS) + "\n")
        first = [] if first_ns is None else [first_ns]
        for phase, values in (("first", first), ("warmup", warmup_ns), ("timed", timed_ns)):
            for i, ns in enumerate(values):
                buf.write(f"{phase},{i},{int(ns)}\n")
        atomic_write_text(self.path / rel, buf.getvalue())
        return rel

    def write_predictions(self, serial: str, model: str, dataset: str,
                          rows: Sequence[dict], columns: Sequence[str]) -> str:
        """Write per-image predictions as CSV; returns the path relative to the session."""
        rel = f"predictions/{slug(serial)}/{slug(model)}.{dataset}.csv"
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path / rel, buf.getvalue())
        return rel

    def log(self, message: str, *, device: str | None = None, model: str | None = None) -> None:
        where = " ".join(f"[{x}]" for x in (device, model) if x)
        with self._lock:
            append_line(self.path / "log.txt", f"{now_iso()} {where + ' ' if where else ''}{message}")


# --------------------------------------------------------------------------------------------
# Reading


def resolve_session(session: str | Path, root: Path | None = None) -> Path:
    """A session folder from its path, its id under `root`, or "latest"."""
    root = Path(root) if root is not None else results_dir()
    if str(session) == "latest":
        return latest_session(root)
    candidates = [Path(session), root / str(session)]
    for path in candidates:
        if (path / "session.json").is_file():
            return path
    raise ResultsError(f"no session '{session}' (looked in {root}); list them with `ls {root}`"
                       f" or pass a session folder's path")


def list_sessions(root: Path | None = None) -> list[Path]:
    """Session folders under `root`, oldest first (ids sort by creation time)."""
    root = Path(root) if root is not None else results_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "session.json").is_file())


def latest_session(root: Path | None = None) -> Path:
    sessions = list_sessions(root)
    if not sessions:
        root = Path(root) if root is not None else results_dir()
        raise ResultsError(f"no sessions in {root}; run `fermbench run --device sim` first")
    return sessions[-1]


@dataclass
class Session:
    """One stored session: its session.json, its records, and where it lies."""

    path: Path
    info: dict
    records: list[dict] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info["session_id"]

    @property
    def status(self) -> str:
        return self.info["status"]

    def samples_path(self, rel: str) -> Path:
        return self.path / rel


def load_session(session: str | Path, root: Path | None = None) -> Session:
    path = resolve_session(session, root)
    info = read_json(path / "session.json")
    check_schema(info, path / "session.json")
    records = []
    for rec_path in sorted((path / "records").glob("*/*.json")):
        data = read_json(rec_path)
        check_schema(data, rec_path)
        records.append(data)
    return Session(path, info, records)


@dataclass
class Loaded:
    """What `load_sessions` returns: typed sessions plus pandas frames.

    runs:        one row per session x device x model x latency repeat (a record with no
                 latency repeat still has one row, repeat = NaN, so failures show up)
    samples:     one row per raw latency sample (warm-up and timed)
    predictions: one row per classified image (FER-2013 and real-world photos)
    """

    sessions: list[Session]
    runs: Any
    samples: Any
    predictions: Any


def load_sessions(paths_or_ids: Sequence[str | Path] | str | Path | None = None, *,
                  root: Path | None = None, with_samples: bool = True,
                  with_predictions: bool = True) -> Loaded:
    """Load sessions (ids, folders, or "latest"; default: all under `root`) into pandas frames."""
    import pandas as pd

    if paths_or_ids is None:
        paths_or_ids = list_sessions(root)
    elif isinstance(paths_or_ids, (str, Path)):
        paths_or_ids = [paths_or_ids]
    sessions = [load_session(s, root) for s in paths_or_ids]

    runs, samples, predictions = [], [], []
    for session in sessions:
        for rec in session.records:
            runs.extend(run_rows(session, rec))
            if with_samples:
                samples.extend(sample_frames(session, rec))
            if with_predictions:
                predictions.extend(prediction_frames(session, rec))

    runs_df = pd.DataFrame(runs, columns=RUN_COLUMNS)
    samples_df = (pd.concat(samples, ignore_index=True) if samples
                  else pd.DataFrame(columns=["session", "device", "model", "repeat", *SAMPLE_COLUMNS]))
    preds_df = (pd.concat(predictions, ignore_index=True) if predictions
                else pd.DataFrame(columns=["session", "device", "model", "dataset"]))
    return Loaded(sessions, runs_df, samples_df, preds_df)


# Stable column names of `Loaded.runs` (the report and `--format csv` rely on them).
RUN_COLUMNS = [
    "session", "session_status", "created", "harness_version", "git_revision",
    "device", "device_model", "device_manufacturer", "device_soc", "device_abi", "android_release",
    "sdk", "device_kind", "emulator", "debuggable", "runtime", "runtime_version",
    "protocol_version", "runner_version",
    "model", "model_sha256", "model_bytes", "params", "macs", "bytecode_version", "trained",
    "checkpoint_sha256",
    "status", "error", "repeat", "latency_status", "latency_error",
    "n", "median_ns", "p90_ns", "p99_ns", "min_ns", "max_ns", "mean_ns", "std_ns", "cv", "mad_ns",
    "load_ms", "first_inference_ms", "threads",
    "mem_counter", "mem_before_load_kb", "mem_after_load_kb", "mem_after_run_kb",
    "thermal_before", "thermal_after", "battery_temp_before_c", "battery_temp_after_c",
    "fer_status", "fer_split", "fer_n", "fer_accuracy_device", "fer_accuracy_host", "fer_agreement",
    "rw_status", "rw_photos", "rw_classified", "rw_accuracy", "rw_accuracy_all_photos",
    "rw_host_accuracy", "rw_agreement", "rw_no_face", "rw_multi_face",
    "rw_undecodable", "rw_face_policy",
    "appsize_status", "appsize_kind", "apk_bytes", "apk_with_model_bytes", "model_share",
    "runtime_bytes_by_abi", "installed_bytes",
]


def _get(d: dict | None, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def run_rows(session: Session, rec: dict) -> list[dict]:
    info = session.info
    dev = info["devices"].get(rec["device"], {})
    model = info["models"].get(rec["model"], {})
    ident, runner = dev.get("identity", {}), dev.get("runner", {})
    tags = dev.get("tags", [])
    acc, rw, app = rec.get("accuracy") or {}, rec.get("realworld") or {}, rec.get("appsize") or {}
    base = {
        "session": info["session_id"], "session_status": info["status"], "created": info["created"],
        "harness_version": _get(info, "harness", "version"),
        "git_revision": _get(info, "harness", "git_revision"),
        "device": rec["device"], "device_model": ident.get("model"),
        "device_manufacturer": ident.get("manufacturer"), "device_soc": ident.get("soc"),
        "device_abi": (ident.get("abis") or [None])[0], "android_release": ident.get("release"),
        "sdk": ident.get("sdk"), "device_kind": dev.get("kind"),
        "emulator": "emulator" in tags, "debuggable": "debuggable" in tags,
        "runtime": runner.get("runtime"), "runtime_version": runner.get("runtime_version"),
        "protocol_version": runner.get("protocol_version"),
        "runner_version": runner.get("runner_version"),
        "model": rec["model"], "model_sha256": model.get("sha256"), "model_bytes": model.get("bytes"),
        "params": model.get("params"), "macs": model.get("macs"),
        "bytecode_version": model.get("bytecode_version"), "trained": model.get("trained"),
        "checkpoint_sha256": model.get("checkpoint_sha256"),
        "status": rec["status"], "error": rec.get("error"),
        "fer_status": acc.get("status"), "fer_split": acc.get("split"), "fer_n": acc.get("n"),
        "fer_accuracy_device": acc.get("device_accuracy"),
        "fer_accuracy_host": acc.get("host_accuracy"), "fer_agreement": acc.get("agreement"),
        "rw_status": rw.get("status"), "rw_photos": _get(rw, "counts", "photos"),
        "rw_classified": _get(rw, "counts", "classified"), "rw_accuracy": rw.get("accuracy"),
        "rw_accuracy_all_photos": rw.get("accuracy_all_photos"),
        "rw_host_accuracy": rw.get("host_accuracy"), "rw_agreement": rw.get("agreement"),
        "rw_no_face": _get(rw, "counts", "no_face"), "rw_multi_face": _get(rw, "counts", "multi_face"),
        "rw_undecodable": _get(rw, "counts", "undecodable"), "rw_face_policy": rw.get("policy"),
        "appsize_status": app.get("status"), "appsize_kind": app.get("kind"),
        "apk_bytes": app.get("apk_bytes"), "apk_with_model_bytes": app.get("apk_with_model_bytes"),
        "model_share": app.get("model_share"),
        "runtime_bytes_by_abi": json.dumps(app["runtime_bytes_by_abi"], sort_keys=True)
        if app.get("runtime_bytes_by_abi") else None,
        "installed_bytes": app.get("installed_bytes"),
    }
    repeats = rec.get("latency") or [None]
    rows = []
    for lat in repeats:
        lat = lat or {}
        summary = lat.get("summary") or {}
        mem, thermal = lat.get("memory") or {}, lat.get("thermal") or {}
        rows.append({**base,
                     "repeat": lat.get("repeat"), "latency_status": lat.get("status"),
                     "latency_error": lat.get("error"),
                     "n": summary.get("n"), "median_ns": summary.get("median"),
                     "p90_ns": summary.get("p90"), "p99_ns": summary.get("p99"),
                     "min_ns": summary.get("min"), "max_ns": summary.get("max"),
                     "mean_ns": summary.get("mean"),
                     "std_ns": summary.get("std"), "cv": summary.get("cv"),
                     "mad_ns": summary.get("mad"),
                     "load_ms": lat.get("load_ms"), "first_inference_ms": lat.get("first_inference_ms"),
                     "threads": lat.get("threads"),
                     "mem_counter": mem.get("counter"), "mem_before_load_kb": mem.get("before_load_kb"),
                     "mem_after_load_kb": mem.get("after_load_kb"),
                     "mem_after_run_kb": mem.get("after_run_kb"),
                     "thermal_before": thermal.get("status_before"),
                     "thermal_after": thermal.get("status_after"),
                     "battery_temp_before_c": thermal.get("battery_temp_before_c"),
                     "battery_temp_after_c": thermal.get("battery_temp_after_c")})
    return rows


def sample_frames(session: Session, rec: dict) -> list:
    import pandas as pd

    frames = []
    for lat in rec.get("latency") or []:
        rel = lat.get("samples")
        if not rel:
            continue
        path = session.path / rel
        if not path.is_file():
            raise ResultsError(f"{path} is missing but {rec['device']}/{rec['model']} names it; "
                               f"the session folder is incomplete")
        df = pd.read_csv(path, dtype={"phase": str, "index": "int64", "ns": "int64"})
        df.insert(0, "repeat", lat["repeat"])
        df.insert(0, "model", rec["model"])
        df.insert(0, "device", rec["device"])
        df.insert(0, "session", session.id)
        frames.append(df)
    return frames


def prediction_frames(session: Session, rec: dict) -> list:
    import pandas as pd

    frames = []
    for phase, dataset in (("accuracy", "fer2013"), ("realworld", "photos")):
        rel = (rec.get(phase) or {}).get("predictions")
        if not rel or not (session.path / rel).is_file():
            continue
        df = pd.read_csv(session.path / rel)
        df.insert(0, "dataset", dataset)
        df.insert(0, "model", rec["model"])
        df.insert(0, "device", rec["device"])
        df.insert(0, "session", session.id)
        frames.append(df)
    return frames
