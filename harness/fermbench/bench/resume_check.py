"""--resume never mixes two model files in one record.

A session that is resumed after its model file changed (a new checkpoint written by `fermbench
train`, a checkpoint moved away under --untrained, another export) would otherwise put the old
file's finished phases beside the new file's. Each stored phase names the sha256 of the file it
measured; if a variant's file is now another one, the resume is refused, naming both hashes,
unless --remeasure-changed asks to measure that variant again from scratch.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..store import Record, SessionStore, Variant
from ..store.identity import ExportIdentity
from .exports import ModelFile


def measured_before(store: SessionStore, variant: Variant) -> tuple[set[str], list[Record]]:
    """The files the session's stored phases of `variant` measured, and the records holding phases."""
    shas: set[str] = set()
    held: list[Record] = []
    old = store.info.identity(variant.key).sha256
    for serial in store.info.devices:
        rec = store.record(serial, variant)
        if not rec.phases():
            continue
        held.append(rec)
        found = rec.measured_files()
        # phases written before they named their file measured the file session.json names
        shas |= found or ({old} if old else set())
    return shas, held


def check_unchanged(store: SessionStore, files: dict[Variant, ModelFile], remeasure: bool) -> list[str]:
    """Refuse (ConfigError) or, with `remeasure`, clear the records of every variant whose file
    changed since its phases were measured; returns what was cleared, one line each."""
    cleared: list[str] = []
    for variant, now in sorted(files.items()):
        before, held = measured_before(store, variant)
        changed = sorted(before - {now.sha256})
        if not changed:
            continue
        old_ckpt = store.info.identity(variant.key).checkpoint_sha256
        if not remeasure:
            raise ConfigError(
                f"--resume: {variant.label}'s model file changed since the session measured it (sha256 "
                f"{changed[0]} then, {now.sha256} now; checkpoint {_ckpt(old_ckpt)} then, "
                f"{_ckpt(ExportIdentity.from_meta(now.meta).checkpoint_sha256)} now); "
                "restore the old checkpoint, or pass --remeasure-changed to measure that model again from scratch"
            )
        for rec in held:
            store.save_record(Record(rec.device, rec.model, rec.runtime, rec.quant))
        cleared.append(
            f"{variant.label}: its file changed ({changed[0][:12]} -> {now.sha256[:12]}); "
            f"every phase is measured again (--remeasure-changed)"
        )
    return cleared


def _ckpt(sha: str | None) -> str:
    return sha or "none (untrained)"
