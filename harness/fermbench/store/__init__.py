"""The results store: one folder per benchmark session, written as it goes, loaded typed and
into pandas. Layout and fields: results/README.md; types: store/records.py.

    results/<session-id>/
      session.json                       SessionInfo: schema, harness, settings, status, devices, models
      records/<device-slug>/<model>.json Record per (device, model): its phases
      samples/<device-slug>/<model>.r<k>.csv   raw latency samples of repeat k (phase,index,ns)
      predictions/<device-slug>/<model>.<dataset>.csv   per-image predictions
      log.txt                            append-only, one line per event
"""

from ..measures.readings import EnvReading, Foreground, MemoryReading
from .files import now_iso, read_json, slug, variant_stem
from .reader import Loaded, StoredSession, latest_session, list_sessions, load_session, load_sessions, resolve_session
from .records import (
    COMPLETE,
    FAILED,
    INTERRUPTED,
    OK,
    PARTIAL,
    PHASE_FAILED,
    PHASE_TYPES,
    PHASES,
    RUNNING,
    SCHEMA_VERSION,
    SKIPPED,
    AccuracyPhase,
    AppSizePhase,
    LatencyRepeat,
    LatencySettings,
    Memory,
    Phase,
    PhotoCounts,
    RealworldPhase,
    Record,
    RunnerInfo,
    RuntimeUsed,
    SessionDevice,
    SessionInfo,
    Thermal,
    TimingInput,
    Variant,
    variant_key,
)
from .writer import SAMPLE_COLUMNS, SessionStore

__all__ = [
    "COMPLETE",
    "FAILED",
    "INTERRUPTED",
    "OK",
    "PARTIAL",
    "PHASES",
    "PHASE_FAILED",
    "PHASE_TYPES",
    "RUNNING",
    "SAMPLE_COLUMNS",
    "SCHEMA_VERSION",
    "SKIPPED",
    "AccuracyPhase",
    "AppSizePhase",
    "LatencyRepeat",
    "LatencySettings",
    "Loaded",
    "Memory",
    "Phase",
    "PhotoCounts",
    "RealworldPhase",
    "Record",
    "RunnerInfo",
    "RuntimeUsed",
    "SessionDevice",
    "SessionInfo",
    "SessionStore",
    "StoredSession",
    "Thermal",
    "TimingInput",
    "Variant",
    "Foreground",
    "EnvReading",
    "MemoryReading",
    "latest_session",
    "list_sessions",
    "load_session",
    "load_sessions",
    "now_iso",
    "read_json",
    "resolve_session",
    "slug",
    "variant_key",
    "variant_stem",
]
