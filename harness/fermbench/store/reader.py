"""Reading sessions back: find them, load them typed, and flatten them into pandas frames."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from ..paths import results_dir
from . import migrate
from .codec import INLINE
from .files import read_json, read_typed
from .records import PHASE_FAILED, Record, SessionInfo


def resolve_session(session: str | Path, root: Path | None = None) -> Path:
    """A session folder from its path, its id under `root`, or "latest"."""
    root = Path(root) if root is not None else results_dir()
    if str(session) == "latest":
        return latest_session(root)
    for path in (Path(session), root / str(session)):
        if (path / "session.json").is_file():
            return path
    raise ResultsError(
        f"no session '{session}' (looked in {root}); list them with `ls {root}` or pass a session folder's path"
    )


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
class StoredSession:
    """One session as stored: session.json, its records, and where it lies."""

    path: Path
    info: SessionInfo
    records: list[Record] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.session_id

    @property
    def status(self) -> str:
        return self.info.status


def load_session(session: str | Path, root: Path | None = None) -> StoredSession:
    path = resolve_session(session, root)
    raw = read_json(path / "session.json")
    info = read_typed(SessionInfo, path / "session.json", migrate.session)
    v1_models = migrate._dict(raw.get("models"))
    records = [
        read_typed(Record, p, lambda obj: migrate.record(obj, v1_models))
        for p in sorted((path / "records").glob("*/*.json"))
    ]
    for rec in records:
        confine_to_file(rec, info.identity(rec.key).sha256)
    return StoredSession(path, info, records)


def confine_to_file(rec: Record, sha256: str | None) -> None:
    """One row, one model file: phases that measured another file than the session's are left out
    and the record says so (attributed by hash, never guessed)."""
    dropped = rec.keep_file(sha256)
    if dropped:
        rec.status = PHASE_FAILED
        rec.error = (
            f"phases {', '.join(dropped)} measured another model file than {str(sha256)[:12]}; "
            "they are left out (re-measure with `fermbench run --resume ID --remeasure-changed`)"
        )


@dataclass
class Loaded:
    """What `load_sessions` returns: typed sessions plus pandas frames.

    runs:        one row per session x device x model x latency repeat (a record with no
                 latency repeat still has one row, so failures show up); columns are the record's
                 fields with dotted paths (`latency.summary.median`, `accuracy.device_accuracy`)
    samples:     one row per raw latency sample (first, warm-up and timed)
    predictions: one row per classified image (FER-2013 and real-world photos)
    """

    sessions: list[StoredSession]
    runs: Any
    samples: Any
    predictions: Any


def load_sessions(
    paths_or_ids: Sequence[str | Path] | str | Path | None = None,
    *,
    root: Path | None = None,
    with_samples: bool = True,
    with_predictions: bool = True,
) -> Loaded:
    """Load sessions (ids, folders, or "latest"; default: all under `root`) into pandas frames."""
    import pandas as pd

    if paths_or_ids is None:
        paths_or_ids = list_sessions(root)
    elif isinstance(paths_or_ids, (str, Path)):
        paths_or_ids = [paths_or_ids]
    sessions = [load_session(s, root) for s in paths_or_ids]
    runs: list[dict[str, Any]] = []
    samples: list[Any] = []
    predictions: list[Any] = []
    for session in sessions:
        for rec in session.records:
            runs.extend(run_rows(session, rec))
            if with_samples:
                samples.extend(sample_frames(session, rec))
            if with_predictions:
                predictions.extend(prediction_frames(session, rec))
    samples_df = (
        pd.concat(samples, ignore_index=True)
        if samples
        else pd.DataFrame(columns=["session", "device", "model", "variant", "repeat", "phase", "index", "ns"])
    )
    preds_df = (
        pd.concat(predictions, ignore_index=True)
        if predictions
        else pd.DataFrame(columns=["session", "device", "model", "variant", "dataset"])
    )
    return Loaded(sessions, pd.DataFrame(runs), samples_df, preds_df)


def flatten(obj: Any, prefix: str) -> dict[str, Any]:
    """A dataclass as {dotted.field: value}; lists and dicts stay whole values."""
    out: dict[str, Any] = {}
    if obj is None:
        return out
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if INLINE in f.metadata:  # the metric table's values: their own columns, as on disk
            out.update({f"{prefix}{k}": value.get(k) for k in f.metadata[INLINE]})
        elif dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def inside(session: StoredSession, rel: str) -> Path:
    """A file a record names, relative to its session folder; a path that leads outside the folder
    (`..`, an absolute path, a link out) is refused: a report reads only its session's files."""
    root = session.path.resolve()
    path = (session.path / rel).resolve()
    if not path.is_relative_to(root):
        raise ResultsError(
            f"{session.path}: a record names {rel!r}, which lies outside the session folder; "
            "the session is corrupt or was tampered with: restore it or re-run"
        )
    return path


def run_rows(session: StoredSession, rec: Record) -> list[dict[str, Any]]:
    dev = session.info.devices.get(rec.device)
    base: dict[str, Any] = {
        "session": session.id,
        "session_status": session.status,
        "created": session.info.created,
        "device_kind": dev.kind if dev else None,
        "device_model": dev.identity.get("model") if dev else None,
    }
    base.update(
        {
            f"model.{k}": v
            for k, v in (session.info.models.get(rec.model) or {}).items()
            if not isinstance(v, (dict, list))
        }
    )
    base.update(flatten(dataclasses.replace(rec, latency=[]), ""))
    del base["latency"]
    return [{**base, **flatten(lat, "latency.")} for lat in rec.latency] or [base]


def _keyed(df: Any, session: StoredSession, rec: Record) -> Any:
    """The frame with the columns that say whose rows they are first: session, device, model, variant."""
    for column, value in (("variant", rec.key), ("model", rec.model), ("device", rec.device), ("session", session.id)):
        df.insert(0, column, value)
    return df


def sample_frames(session: StoredSession, rec: Record) -> list[Any]:
    import pandas as pd

    frames = []
    for lat in rec.latency:
        if not lat.samples:
            continue
        path = inside(session, lat.samples)
        if not path.is_file():
            raise ResultsError(
                f"{path} is missing but {rec.device}/{rec.model} names it; the session folder is incomplete"
            )
        try:
            df = pd.read_csv(path, dtype={"phase": str, "index": "int64", "ns": "int64"})
        except (ValueError, OverflowError, pd.errors.ParserError) as exc:
            raise ResultsError(
                f"{path} is not a samples file (phase,index,ns with whole numbers: "
                f"{(str(exc).splitlines() or [type(exc).__name__])[0]}); the file is corrupt, "
                "restore it or re-run"
            ) from None
        if len(df) and (int(df["ns"].min()) < 0 or int(df["index"].min()) < 0):
            raise ResultsError(f"{path} holds a negative time or index; the file is corrupt, restore it or re-run")
        df.insert(0, "repeat", lat.repeat)
        frames.append(_keyed(df, session, rec))
    return frames


def prediction_frames(session: StoredSession, rec: Record) -> list[Any]:
    import pandas as pd

    frames = []
    # the accuracy phase's rows under its own dataset (fer2013 for every session before labelled sets)
    scored = (rec.accuracy.dataset if rec.accuracy is not None else None) or "fer2013"
    for phase, dataset in ((rec.accuracy, scored), (rec.realworld, "photos")):
        rel = phase.predictions if phase is not None else None
        if not rel or not inside(session, rel).is_file():
            continue
        try:
            df = pd.read_csv(inside(session, rel))
        except (ValueError, pd.errors.ParserError) as exc:
            raise ResultsError(f"{session.path / rel} is not a predictions CSV ({exc}); restore it or re-run") from None
        df.insert(0, "dataset", dataset)
        frames.append(_keyed(df, session, rec))
    return frames
