"""`fermbench run` and `fermbench doctor` as functions: settings in, stored session out.

    outcome = run_benchmark(build_settings(devices=("sim",), models=("shallow_cnn",), iterations=20))

Steps: check settings and inputs (fail fast, before anything is written), export the models
(cached), open every device and preflight it, create (or reopen) the session folder, then run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DeviceError, FermbenchError
from ..paths import models_dir
if TYPE_CHECKING:
    from ..device import DeviceEntry
from ..runner import protocol as p
from ..store import PHASE_FAILED, RunnerInfo, SessionStore
from . import preflight as pre
from .checkpoints import resolve_checkpoints
from .exports import ModelFile, ensure_export, export_error
from .inputs import ImageSet, fer_set, photo_set
from .progress import Progress
from .session import BenchmarkSession, Outcome, Totals, check_models
from .settings import Settings, settings_from_dict
from .targets import HOST, HostTarget, Target

SIM = "sim"
AUTO = "auto"


def expand_auto(specs: tuple[str, ...], progress: Progress) -> tuple[str, ...]:
    """`auto` = every ready phone the adb server lists, or a simulated phone when there is none
    (the README's main job uses it, so the same command works with and without a phone)."""
    if AUTO not in specs:
        return specs
    try:
        ready = [d.serial for d in _list_devices() if d.ready]
    except DeviceError as exc:
        progress.message(f"auto: no adb server answered ({exc}); using a simulated phone")
        ready = []
    chosen = tuple(ready) or (SIM,)
    progress.message(f"auto: benchmarking on {', '.join(chosen)}"
                     + ("" if ready else " (no phone attached: latencies will be this host's CPU)"))
    out: list[str] = []
    for spec in specs:
        out.extend(chosen if spec == AUTO else (spec,))
    return tuple(dict.fromkeys(out))


def prepare_images(settings: Settings) -> dict[str, ImageSet]:
    images: dict[str, ImageSet] = {}
    if settings.fer_data:
        images["fer2013"] = fer_set(settings.fer_data, settings.fer_split, settings.fer_limit)
    if settings.photos:
        images["photos"] = photo_set(settings.photos, settings.face_policy)
    return images


def photo_notes(photos: ImageSet | None) -> list[str]:
    """What happened to the real-world photos, by name where one was not classified."""
    if photos is None:
        return []
    crops = photos.crops
    c = crops.counts
    notes = [f"photos: {c['photos']} found, {c['classified']} classified, {c['no_face']} without a face, "
             f"{c['multi_face']} with several faces (policy {crops.policy}), {c['undecodable']} undecodable"]
    for crop in crops.crops:
        if crop.status == "undecodable":
            notes.append(f"photo {crop.photo.name}: cannot be decoded ({crop.reason}); it is counted, not classified")
    return notes


def export_models(models: list[str], settings: Settings, model_dir: Path | None,
                  progress: Progress) -> tuple[dict[str, ModelFile], dict[str, str]]:
    files: dict[str, ModelFile] = {}
    errors: dict[str, str] = {}
    progress.start("export", len(models))
    for name in models:
        progress.step("export", name, "export")
        try:
            files[name] = ensure_export(name, checkpoints=settings.checkpoints or model_dir, out_dir=model_dir,
                                        bytecode=settings.bytecode)
            progress.done("export", name, "export", "ok")
            if not files[name].meta.get("trained"):
                progress.message(f"WARNING {name}: UNTRAINED weights (no checkpoint): its accuracy numbers are "
                                 "meaningless; train it with `fermbench train --model " + name + "`")
        except Exception as exc:  # recorded per model; the other models go on
            errors[name] = export_error(name, exc)
            progress.done("export", name, "export", PHASE_FAILED)
    return files, errors


def open_target(spec: str, stack: contextlib.ExitStack, settings: Settings, index: int = 0) -> Target:
    """"host", "sim" (a simulated phone started for this session) or an adb serial."""
    if spec == HOST:
        return stack.enter_context(contextlib.closing(HostTarget()))
    from .device_target import AndroidTarget, start_sim

    wait = min(5.0, settings.reconnect_budget_seconds)
    if spec == SIM:
        return start_sim(stack, key=SIM if index == 0 else f"{SIM}{index + 1}", adb_port=adb_port_from_env(),
                         retry_wait_s=wait)
    target = AndroidTarget.open(spec, adb_port=adb_port_from_env(), retry_wait_s=wait)
    stack.callback(target.close)
    return target


def adb_port_from_env() -> int | None:
    value = os.environ.get("ANDROID_ADB_SERVER_PORT")
    return int(value) if value and value.isdigit() else None


@dataclass
class Checked:
    """A target after preflight, with what session.json records about it."""

    target: Target
    preflight: pre.Preflight
    kind: str
    identity: dict[str, Any]
    properties: dict[str, Any]
    runner: RunnerInfo | None

    def record(self, store: SessionStore) -> None:
        pf = self.preflight
        store.set_device(self.target.serial, kind=self.kind, identity=self.identity, properties=self.properties,
                         runner=self.runner, tags=sorted(set(pf.tags)), warnings=[str(c) for c in pf.warnings],
                         status="ok" if pf.ok else "failed", error=None if pf.ok else pf.refusal())


def preflight_target(target: Target, settings: Settings, files: dict[str, ModelFile],
                     images: dict[str, ImageSet]) -> Checked:
    """Every check that can refuse or warn about this target (see bench/preflight.py)."""
    pf = pre.Preflight(target.serial)
    if settings.install and settings.apk and target.kind != "host":
        try:
            target.install(Path(settings.apk))
            pf.add("install", pre.OK, f"installed {Path(settings.apk).name}")
        except FermbenchError as exc:
            pf.add("install", pre.FAIL, str(exc), "check the APK, or install it by hand with `adb install`")
    desc = target.describe()  # after an install: it reads the installed runner's version
    runner: RunnerInfo | None = None
    pf.tags.extend(desc.tags)
    try:
        info = target.run(p.info_args(run_id="preflight-info"), min(settings.timeout_seconds, 120),
                          p.InfoResult).result
        pre.check_runner(pf, info)
        runner = RunnerInfo(runner_kind=info.runner_kind, runner_version=info.runner_version,
                            protocol_version=info.protocol_version, runtime=info.runtime_name,
                            runtime_version=info.runtime_version, bytecode_min=info.bytecode_min,
                            bytecode_max=info.bytecode_max, abis=info.abis, facts=info.device,
                            package_version=desc.properties.get("runner_package_version"))
        if info.debuggable and "debuggable" not in pf.tags:
            pf.tags.append("debuggable")
    except FermbenchError as exc:
        fix = ("install it with --apk PATH --install" if getattr(exc, "code", "") == "not_installed"
               else "check the runner with `fermbench doctor --device " + target.serial + "`")
        pf.add("runner", pre.FAIL, str(exc), fix)
    if desc.kind != "host":
        apk_abis = None
        if settings.apk:
            from .appsize import native_libs

            apk_abis = list(native_libs(Path(settings.apk)))
        pre.check_abi(pf, list(desc.identity.get("abis") or []), apk_abis)
    needed = sum(f.path.stat().st_size for f in files.values()) + sum(
        i.file.stat().st_size for i in images.values() if len(i.images))
    pre.check_space(pf, target.free_bytes(), needed)
    env = target.environment()
    pre.check_environment(pf, env.battery_level_pct, desc.properties.get("charging"), env.battery_temp_c,
                          env.thermal_status)
    if desc.kind == "host":
        pf.add("build", pre.OK, "host CPU baseline, not a phone")
    else:
        pre.check_build(pf, "emulator" in desc.tags, "debuggable" in desc.tags, "simulated" in desc.tags)
    return Checked(target, pf, desc.kind, desc.identity, desc.properties, runner)


def run_benchmark(settings: Settings | None, *, resume: str | None = None, out: str | Path | None = None,
                  progress: Progress | None = None, model_dir: str | Path | None = None) -> Outcome:
    """Run (or resume) a session; returns its outcome. Raises FermbenchError for refusals.

    `settings` is None only with `resume`: a resumed session runs with its own stored settings."""
    progress = progress or Progress()
    store = None
    if resume:
        store = SessionStore.open(resume, root=Path(out) if out else None)
        settings = settings_from_dict(store.info.settings)
    if settings is None:
        raise ConfigError("run_benchmark needs settings, or resume= a session")
    if not settings.devices:
        raise ConfigError("name at least one --device (a serial, `host`, `sim` or `auto`); list them with `fermbench devices`")
    if AUTO in settings.devices:
        settings = dataclasses.replace(settings, devices=expand_auto(settings.devices, progress))
    models = check_models(settings.models)
    sources = resolve_checkpoints(models, settings.checkpoints, settings.untrained, Path(model_dir or models_dir()))
    for line in (line for s in sources.values() for line in s.lines()):
        progress.message(line)
    t_inputs = time.perf_counter()
    images = prepare_images(settings)
    t_inputs = time.perf_counter() - t_inputs
    notes = photo_notes(images.get("photos"))
    for note in notes:
        progress.message(note)
    files, export_errors = export_models([m for m in models if not sources[m].error], settings,
                                         Path(model_dir) if model_dir else None, progress)
    export_errors.update({m: s.error for m, s in sources.items() if s.error})
    with contextlib.ExitStack() as stack:
        checked: list[Checked] = []
        refused: list[str] = []
        refused_at_open: list[tuple[str, str]] = []
        for i, spec in enumerate(settings.devices):
            try:
                target = open_target(spec, stack, settings, index=settings.devices[:i].count(spec))
                c = preflight_target(target, settings, files, images)
            except DeviceError as exc:
                refused.append(str(exc))
                refused_at_open.append((spec, str(exc)))
                progress.message(f"refused: {exc}")
                continue
            for w in c.preflight.warnings:
                progress.message(f"warning: {target.serial}: {w}")
            if not c.preflight.ok:
                refused.append(f"device {target.serial}: {c.preflight.refusal()}")
                progress.message(f"refused: {refused[-1]}")
            checked.append(c)
        usable = [c for c in checked if c.preflight.ok]
        if not usable:
            raise DeviceError("no device passed preflight: " + " | ".join(refused))
        if store is None:
            seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
            store = SessionStore.create(settings.to_dict(), root=Path(out) if out else None, seed=seed)
        for msg in refused:
            store.log(f"refused: {msg}")
        for note in notes:
            store.log(note)
        for c in checked:
            c.record(store)
        for name, source in sources.items():
            for line in source.lines():
                store.log(line, model=name)
        for name, f in files.items():
            store.set_model(name, f.meta)
            store.log(f"{'cached export' if f.cached else 'exported'} {f.path.name} sha256 "
                      f"{f.meta.get('sha256', '')[:12]} in {f.seconds:.2f} s", model=name)
        device_model_errors: dict[tuple[str, str], str] = {}
        for c in usable:  # a model whose bytecode this runtime cannot read fails on that device only
            for name, why in pre.check_bytecode(c.preflight, {n: f.meta for n, f in files.items()}).items():
                device_model_errors[(c.target.serial, name)] = f"preflight: {why}"
        not_opened = list(refused_at_open)
        for c in checked:
            if not c.preflight.ok:
                not_opened.append((c.target.serial, c.preflight.refusal()))
        for serial, why in not_opened:
            if serial not in store.info.devices:
                store.set_device(serial, kind=None, status="failed", error=why)
            for name in models:
                rec = store.record(serial, name)
                rec.fail(f"preflight refused the device: {why}")
                store.save_record(rec)
        totals = Totals()
        totals.add(export_s=sum(f.seconds for f in files.values()), inputs_s=t_inputs)
        session = BenchmarkSession(store, settings, [c.target for c in usable], models, images, files,
                                   export_errors=export_errors, device_model_errors=device_model_errors,
                                   totals=totals, progress=progress)
        return session.run()


def _list_devices() -> list[DeviceEntry]:
    from ..device import list_devices

    port = adb_port_from_env()
    return list_devices(port=port) if port else list_devices()


def attached_serials() -> list[str]:
    """Serials adb lists (any state: doctor explains the ones that are not ready)."""
    return [d.serial for d in _list_devices()]


def check_adb(pf: pre.Preflight, serial: str) -> bool:
    """adb binary and server, and the device's state; False when the device cannot be used."""
    from ..device import find_adb

    path = find_adb()
    pf.add("adb", pre.OK if path else pre.WARN, f"adb binary: {path}" if path else "no adb binary found",
           "" if path else "install adbutils (it ships adb) or platform-tools")
    try:
        entries = {d.serial: d for d in _list_devices()}
    except DeviceError as exc:
        pf.add("adb server", pre.FAIL, str(exc), "start it with `adb start-server`")
        return False
    pf.add("adb server", pre.OK, f"answers on port {adb_port_from_env() or 5037}")
    entry = entries.get(serial)
    if entry is None:
        pf.add("state", pre.FAIL, "not attached", "plug it in with USB debugging on, or `adb connect HOST:PORT`")
        return False
    if not entry.ready:
        pf.add("state", pre.FAIL, entry.state, entry.fix or "")
        return False
    pf.add("state", pre.OK, "device")
    return True


def doctor(spec: str, settings: Settings) -> list[pre.Preflight]:
    """Preflight without a session: adb, device state, runner, bytecode, space, battery, thermal, build."""
    from ..paths import models_dir

    head = pre.Preflight(spec)
    if spec not in (HOST, SIM) and not check_adb(head, spec):
        return [head]
    with contextlib.ExitStack() as stack:
        try:
            target = open_target(spec, stack, settings)
        except DeviceError as exc:
            head.add("device", pre.FAIL, str(exc))
            return [head]
        models = {}
        for meta_path in sorted(models_dir().glob("*.json")):
            ptl = meta_path.with_suffix(".ptl")
            if ptl.is_file():
                models[meta_path.stem] = ModelFile(meta_path.stem, ptl, _read_meta(meta_path), cached=True)
        c = preflight_target(target, settings, models, {})
        pre.check_bytecode(c.preflight, {n: m.meta for n, m in models.items()})
        c.preflight.checks[:0] = head.checks
        return [c.preflight]


def _read_meta(path: Path) -> dict[str, Any]:
    import json

    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
