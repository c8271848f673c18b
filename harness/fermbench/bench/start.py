"""`fermbench run` and `fermbench doctor` as functions: settings in, stored session out.

    outcome = run_benchmark(build_settings(devices=("sim",), models=("shallow_cnn",), iterations=20))

Steps (`_run`, one named function each): check settings and inputs (fail fast, before anything
is written), export the models (cached), open every device and preflight it, create (or reopen)
the session folder, record what was prepared, then run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..device import find_adb
from ..device.errors import AdbServerError, DeviceNotFound
from ..errors import ConfigError, DeviceError, FermbenchError
from ..locks import Owner, host_cpu_lock

if TYPE_CHECKING:
    from ..device.farm import Farm
from ..apk.flavors import FLAVORS
from ..export.runtimes import get_runtime
from ..paths import models_dir
from ..runner import protocol as p
from ..store import PHASE_FAILED, RunnerInfo, SessionStore, Variant
from ..targets import HOST, HostTarget, Target, adb_port_from_env
from ..tempdirs import make_temp_dir, remove_temp_dir
from ..tempdirs import sweep as sweep_temp_dirs
from . import preflight as pre
from .checkpoints import ModelSource, resolve_checkpoints
from .exports import ModelFile, ensure_export, export_error
from .inputs import ImageSet, fer_set, photo_set
from .models import PlannedModel
from .models import plan_models as plan_model_set
from .progress import Progress
from .resume_check import check_unchanged
from .session import BenchmarkSession, Outcome, Scoring, Totals, caller_signal_handlers
from .settings import Settings, settings_from_dict
from .shards import check_identical
from .variants import plan_variants, runner_runtime

SIM = "sim"
AUTO = "auto"
ALL = "all"


def farm_for(settings: Settings, store: SessionStore | None = None) -> Farm:
    """The adb servers of a run: those a resumed session recorded, else --adb-server (default: the
    local one) and any that a HOST:PORT/SERIAL device names."""
    from ..device.farm import Farm

    if store is not None and store.info.adb_servers:
        return Farm.from_texts(store.info.adb_servers, settings.devices, local=store.info.adb_local_server)
    return Farm.from_texts(settings.adb_servers, settings.devices)


def ready_devices(farm: Farm) -> list[str]:
    """The keys of every ready device of every server (one that does not answer is reported later)."""
    return [d.key for d in farm.devices() if d.entry.ready]


def expand_auto(specs: tuple[str, ...], progress: Progress, farm: Farm | None = None) -> tuple[str, ...]:
    """`auto` = every ready phone the adb servers list, or a simulated phone when there is none
    (the README's main job uses it, so the same command works with and without a phone)."""
    from ..device.farm import Farm

    if AUTO not in specs:
        return specs
    ready = ready_devices(farm or Farm.from_texts(()))
    chosen = tuple(ready) or (SIM,)
    progress.message(
        f"auto: benchmarking on {', '.join(chosen)}"
        + ("" if ready else " (no phone attached: latencies will be this host's CPU)")
    )
    return _replace(specs, AUTO, chosen)


def expand_all(specs: tuple[str, ...], progress: Progress, farm: Farm) -> tuple[str, ...]:
    """`all` = every ready device of every adb server (a farm); none at all is an error."""
    if ALL not in specs:
        return specs
    ready = tuple(ready_devices(farm))
    if not ready:
        down = [x.error for x in farm.asked() if x.error]
        raise DeviceError(
            f"--device all: no ready device on adb server(s) {', '.join(map(str, farm.servers))}"
            + (f" ({' | '.join(down)})" if down else "; check them with `fermbench devices`")
        )
    progress.message(f"all: benchmarking on {', '.join(ready)}")
    return _replace(specs, ALL, ready)


def _replace(specs: tuple[str, ...], word: str, chosen: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for spec in specs:
        out.extend(chosen if spec == word else (spec,))
    return tuple(dict.fromkeys(out))


def check_unique(specs: tuple[str, ...]) -> None:
    """One worker per device: a device named twice would have two workers write one record
    (`sim` twice is two simulated phones, so it may repeat)."""
    twice = sorted({s for s in specs if s != SIM and specs.count(s) > 1})
    if twice:
        raise ConfigError(
            f"--device {twice[0]} is named twice; name each device once "
            "(`--device sim` twice starts two simulated phones)"
        )


def prepare_images(settings: Settings, models: list[PlannedModel] | None = None) -> tuple[dict[str, ImageSet], Scoring]:
    """The image sets the models are scored on, and which model takes which (bench/session.py
    Scoring): FER-2013 and the face-cropped photos for the FER models, the --images set, made
    once per distinct preprocessing, for the others. Labels a model does not know stop the run."""
    models = models if models is not None else plan_model_set(settings.models, (), None)
    fer_models = [m for m in models if m.fer]
    images: dict[str, ImageSet] = {}
    accuracy: dict[str, str] = {}
    no_accuracy: dict[str, str] = {}
    no_photos: dict[str, str] = {}
    if settings.fer_data and fer_models:
        images["fer2013"] = fer_set(settings.fer_data, settings.fer_split, settings.fer_limit)
    if settings.photos and fer_models:
        images["photos"] = photo_set(settings.photos, settings.face_policy)
    for m in models:
        if m.fer and "fer2013" in images:
            accuracy[m.name] = "fer2013"
        elif m.spec is not None and m.spec.classes and settings.images:
            key = images_key(m.spec)
            if key not in images:
                from .inputs import labelled_set

                images[key] = labelled_set(settings.images, m.spec, m.name)
                images[key].info.setdefault("model", m.name)
            accuracy[m.name] = key
        else:
            no_accuracy[m.name] = no_accuracy_reason(m, settings)
        if not m.fer:
            no_photos[m.name] = (
                f"the real-world photos are face crops for the FER-2013 models; {m.name} is not one "
                "(score it on --images)"
            )
    photos = frozenset(m.name for m in fer_models) if "photos" in images else frozenset()
    return images, Scoring(accuracy, photos, no_accuracy, no_photos)


def images_key(spec: Any) -> str:
    """One --images set per distinct preprocessing and class list: models that read images alike share it."""
    import hashlib
    import json

    return "images-" + hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def no_accuracy_reason(m: PlannedModel, settings: Settings) -> str:
    if m.given is not None:
        return "a ready model file carries no class names or preprocessing: latency, memory and app size only"
    if m.spec is None or not m.spec.classes:
        return f"{m.name}'s spec declares no classes: it is timed, not scored"
    if m.fer:
        return "no --fer-data or --images given"
    return f"no --images given (labelled with {m.name}'s classes)"


def photo_notes(photos: ImageSet | None) -> list[str]:
    """What happened to the real-world photos, by name where one was not classified."""
    if photos is None:
        return []
    crops = photos.crops
    c = crops.counts
    notes = [
        f"photos: {c['photos']} found, {c['classified']} classified, {c['no_face']} without a face, "
        f"{c['multi_face']} with several faces (policy {crops.policy}), {c['undecodable']} undecodable"
    ]
    for crop in crops.crops:
        if crop.status == "undecodable":
            notes.append(f"photo {crop.photo.name}: cannot be decoded ({crop.reason}); it is counted, not classified")
    return notes


def export_variants(
    variants: list[Variant],
    plan: ModelPlan,
    settings: Settings,
    model_dir: Path | None,
    private_dir: Path,
    progress: Progress,
    images: dict[str, ImageSet] | None = None,
) -> tuple[dict[Variant, ModelFile], dict[Variant, str]]:
    """Every variant's file (exported or from the cache, or the ready file given); a variant that
    fails is recorded, the others go on."""
    files: dict[Variant, ModelFile] = {}
    errors: dict[Variant, str] = {}
    warned: set[str] = set()
    progress.start("export", len(variants))
    for v in variants:
        given = plan.given.get(v)
        if given is not None:  # timed as it is: nothing to export
            from .given_files import given_model_file

            files[v] = given_model_file(given, private_dir)  # type: ignore[arg-type]
            continue
        source = plan.sources.get(v.model)
        if source is not None and source.error:  # the checkpoint cannot serve: this model fails, the others go on
            errors[v] = source.error
            continue
        progress.step("export", v.model, f"export {v.runtime} {v.quant}")
        try:
            files[v] = ensure_export(
                v,
                checkpoint=source.path if source is not None and source.trained else None,
                private_dir=private_dir,
                out_dir=model_dir,
                bytecode=settings.bytecode if v.quant == "fp32" else None,
                fer_data=settings.fer_data,
                **export_extras(v, plan, images or {}),
            )
            progress.done("export", v.model, "export", "ok")
            if files[v].meta.get("trained") is False and v.model not in warned:
                warned.add(v.model)
                progress.message(
                    f"WARNING {v.model}: UNTRAINED weights (no checkpoint): its accuracy numbers are "
                    "meaningless; train it with `fermbench train --model " + v.model + "`"
                )
        except Exception as exc:  # recorded per variant; the others go on
            errors[v] = export_error(v.model, exc)
            progress.done("export", v.model, "export", PHASE_FAILED)
    return files, errors


def open_target(spec: str, stack: contextlib.ExitStack, settings: Settings, farm: Farm, index: int = 0) -> Target:
    """ "host", "sim" (a simulated phone started for this session), or a device of the farm's adb
    servers (SERIAL or HOST:PORT/SERIAL), keyed as the farm keys it."""
    if spec == HOST:
        return stack.enter_context(contextlib.closing(HostTarget()))
    from ..targets import AndroidTarget
    from .sim_target import start_sim

    wait = min(5.0, settings.reconnect_budget_seconds)
    if spec == SIM:
        return start_sim(
            stack, key=SIM if index == 0 else f"{SIM}{index + 1}", adb_port=adb_port_from_env(), retry_wait_s=wait
        )
    found = farm.resolve(spec)
    target = AndroidTarget.open(
        found.serial, adb_port=found.server.port, adb_host=found.server.host, key=found.key, retry_wait_s=wait
    )
    stack.callback(target.close)
    return target


def spec_key(spec: str, farm: Farm) -> str:
    """What a device spec is stored under when it could not be opened."""
    from ..device.farm import split_spec

    server, serial = split_spec(spec)
    return spec if server is None else farm.key(server, serial)


@dataclass
class Checked:
    """A target after preflight, with what session.json records about it."""

    target: Target
    preflight: pre.Preflight
    kind: str
    identity: dict[str, Any]
    properties: dict[str, Any]
    runners: dict[str, RunnerInfo]  # per runner runtime that answered and can run here
    unavailable: dict[str, str]  # runner runtime -> why this device cannot run it (its variants are skipped)

    def record(self, store: SessionStore) -> None:
        pf = self.preflight
        store.set_device(
            self.target.serial,
            kind=self.kind,
            identity=self.identity,
            properties=self.properties,
            runners=self.runners,
            tags=sorted(set(pf.tags)),
            warnings=[str(c) for c in pf.warnings],
            status="ok" if pf.ok else "failed",
            error=None if pf.ok else pf.refusal(),
        )


def _install(target: Target, apks: tuple[str, ...], pf: pre.Preflight, timeout: float) -> dict[str, p.InfoResult]:
    """--install: each APK as `fermbench runner install` installs and checks it; the `info` of
    each runner installed, by runtime."""
    from ..apk.install import install_runner

    infos: dict[str, p.InfoResult] = {}
    for apk in apks:
        try:
            installed = install_runner(target, Path(apk), timeout)
        except FermbenchError as exc:
            pf.add(
                "install",
                pre.FAIL,
                str(exc),
                f"try it alone: `fermbench runner install --device {target.serial} --apk {apk}`",
            )
            continue
        pf.add("install", pre.OK, f"installed {Path(apk).name} ({installed.flavor.name} runner)")
        infos[installed.flavor.runtime] = installed.info
    return infos


def preflight_target(
    target: Target, settings: Settings, files: dict[Variant, ModelFile], images: dict[str, ImageSet], runtimes: set[str]
) -> Checked:
    """Every check that can refuse or warn about this target (see bench/preflight.py). `runtimes`
    are the runner runtimes the session's variants need; a device refuses only when it can run
    none of them (the variants of a runtime it cannot run are skipped, with the reason)."""
    from ..apk.install import INFO_TIMEOUT_S, runner_info

    pf = pre.Preflight(target.serial)
    timeout = min(settings.timeout_seconds, INFO_TIMEOUT_S)
    installed: dict[str, p.InfoResult] = {}
    if settings.install and settings.apk and target.kind != "host":
        installed = _install(target, settings.apk, pf, timeout)
    desc = target.describe()  # after an install: it reads the installed runners' versions
    pf.tags.extend(desc.tags)
    runners: dict[str, RunnerInfo] = {}
    unavailable: dict[str, str] = {}
    explained: set[str] = set()  # runtimes whose check line already says why (protocol, page size)
    for runtime in sorted(runtimes):
        try:
            info = installed.get(runtime) or runner_info(target, runtime, timeout)
        except FermbenchError as exc:
            code = getattr(exc, "code", "")
            unavailable[runtime] = (
                f"the {runtime} runner ({p.runner_package(runtime)}) is not installed"
                if code == "not_installed"
                else f"{runtime}: {exc}"
            )
            continue
        why = pre.check_runner(pf, info, runtime)
        if why:
            unavailable[runtime] = why
            explained.add(runtime)
            continue
        runners[runtime] = RunnerInfo(
            runner_kind=info.runner_kind,
            runner_version=info.runner_version,
            protocol_version=info.protocol_version,
            runtime=info.runtime_name,
            runtime_version=info.runtime_version,
            bytecode_min=info.bytecode_min,
            bytecode_max=info.bytecode_max,
            pte_identifiers=list(info.pte_identifiers),
            abis=info.abis,
            facts=info.device,
            package_version=(desc.properties.get("runner_package_versions") or {}).get(runtime),
            page_size=info.page_size,
        )
        if info.debuggable and "debuggable" not in pf.tags:
            pf.tags.append("debuggable")
    install = "install the runner APK: `fermbench runner install --device SERIAL`, or --apk PATH --install"
    if not runners:
        missing = any("not installed" in why for why in unavailable.values())
        pf.add(
            "runner",
            pre.FAIL,
            "; ".join(unavailable.values()) or "no runner answered",
            install if missing else f"see `adb -s {target.serial} logcat -d` for why the runner failed",
        )
    else:
        for runtime, why in unavailable.items():
            if runtime not in explained:
                pf.add(
                    "runner",
                    pre.WARN,
                    f"its {runtime} variants are skipped: {why}",
                    f"{install}, or leave its runtime out of --runtimes",
                )
    if desc.kind != "host":
        apk_abis = None
        if settings.apk:
            from ..apk.archive import native_libs

            apk_abis = sorted({abi for apk in settings.apk for abi in native_libs(Path(apk))})
        pre.check_abi(pf, list(desc.identity.get("abis") or []), apk_abis)
    needed = sum(f.path.stat().st_size for f in files.values()) + sum(
        i.file.stat().st_size for i in images.values() if len(i.images)
    )
    pre.check_space(pf, target.free_bytes(), needed)
    env = target.environment()
    pre.check_environment(
        pf, env.battery_level_pct, desc.properties.get("charging"), env.battery_temp_c, env.thermal_status
    )
    if desc.kind == "host":
        pf.add("build", pre.OK, "host CPU baseline, not a phone")
    else:
        pre.check_build(pf, "emulator" in desc.tags, "debuggable" in desc.tags, "simulated" in desc.tags)
    return Checked(target, pf, desc.kind, desc.identity, desc.properties, runners, unavailable)


def run_benchmark(
    settings: Settings | None,
    *,
    resume: str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    model_dir: str | Path | None = None,
    remeasure_changed: bool = False,
) -> Outcome:
    """Run (or resume) a session; returns its outcome. Raises FermbenchError for refusals.

    `settings` is None only with `resume`: a resumed session runs with its own stored settings.
    A resumed model whose file changed is refused unless `remeasure_changed` (bench/resume_check.py)."""
    progress = progress or Progress()
    with contextlib.ExitStack() as stack:  # closes, in reverse: targets, the session's lock, then the signals
        stack.enter_context(caller_signal_handlers())
        store = None
        if resume:
            store = SessionStore.open(resume, root=Path(out) if out else None)
            stack.callback(store.close)
            settings = settings_from_dict(store.info.settings)
        return _run(settings, store, stack, out, progress, model_dir, remeasure_changed)


def _run(
    settings: Settings | None,
    store: SessionStore | None,
    stack: contextlib.ExitStack,
    out: str | Path | None,
    progress: Progress,
    model_dir: str | Path | None,
    remeasure_changed: bool = False,
) -> Outcome:
    """The session's stages, in order: every check that can refuse runs before anything is written."""
    settings = required(settings)
    farm = farm_for(settings, store)
    settings = named_devices(settings, farm, progress)
    plan = plan_models(settings, model_dir, progress)
    variants = plan.variants
    sweep_temp_dirs()  # what killed sessions left, before this one makes its own
    inputs = prepare_inputs(settings, plan, progress)
    exports = export_models(variants, plan, settings, model_dir, stack, progress, inputs.images)
    if store is not None:  # resuming: never put phases of two files in one record
        check_resumed_files(store, exports, remeasure_changed, progress)
    opened = open_devices(settings, farm, stack, exports, inputs, variants, progress)
    usable = passed_preflight(opened, settings)
    if store is None:
        settings = dataclasses.replace(settings, devices=tuple(opened.specs))  # a resumed session reaches the same ones
        store = create_store(settings, out, stack)
    record_adb_servers(store, farm, progress)
    if any(c.target.kind in ("host", "sim") for c in usable):
        claim_host_cpu(store, stack, progress)
    record_preparation(store, opened, inputs, plan.sources, exports)
    skipped = skipped_variants(usable, variants, exports)
    record_refused_devices(store, opened, variants)
    totals = Totals()
    totals.add(export_s=sum(f.seconds for f in exports.files.values()), inputs_s=inputs.seconds)
    session = BenchmarkSession(
        store,
        settings,
        [c.target for c in usable],
        variants,
        inputs.images,
        exports.files,
        export_errors=exports.errors,
        skipped=skipped,
        totals=totals,
        progress=progress,
        scoring=inputs.scoring,
    )
    return session.run()


@dataclass
class Inputs:
    """The image sets of the session, what happened to its photos, and the seconds it took."""

    images: dict[str, ImageSet]
    notes: list[str]
    seconds: float
    scoring: Scoring = field(default_factory=Scoring)


@dataclass
class ModelPlan:
    """The session's models, the variants to measure, the checkpoint of each study model, and the
    ready file behind each variant of a --model-file."""

    models: list[PlannedModel]
    variants: list[Variant]
    sources: dict[str, ModelSource]
    given: dict[Variant, object] = field(default_factory=dict)  # variant -> modelfiles.GivenFile

    def arch(self, name: str) -> Any:
        return next(m.arch for m in self.models if m.name == name)


@dataclass
class Exports:
    """Every variant's model file, and why each variant that has none failed."""

    files: dict[Variant, ModelFile]
    errors: dict[Variant, str]


@dataclass
class Opened:
    """The devices after opening and preflight: the checked ones (refused or not), why others
    could not even be opened, and every device spec as the session stores it."""

    checked: list[Checked] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one line per refused device, for the log
    not_opened: list[tuple[str, str]] = field(default_factory=list)  # (device key, why) of those not opened
    specs: list[str] = field(default_factory=list)  # a device of an adb server as HOST:PORT/SERIAL

    @property
    def usable(self) -> list[Checked]:
        return [c for c in self.checked if c.preflight.ok]

    def refusals(self) -> list[tuple[str, str]]:
        """(device key, why) of every device that runs nothing: not opened, or refused by preflight."""
        return self.not_opened + [(c.target.serial, c.preflight.refusal()) for c in self.checked if not c.preflight.ok]


def required(settings: Settings | None) -> Settings:
    """Settings given (or read from the resumed session) and at least one device named."""
    if settings is None:
        raise ConfigError("run_benchmark needs settings, or resume= a session")
    if not settings.devices:
        raise ConfigError(
            "name at least one --device (a serial, `host`, `sim`, `auto` or `all`); list them with `fermbench devices`"
        )
    return settings


def named_devices(settings: Settings, farm: Farm, progress: Progress) -> Settings:
    """`auto` and `all` expanded, each device named once."""
    if AUTO in settings.devices or ALL in settings.devices:
        devices = expand_all(expand_auto(settings.devices, progress, farm), progress, farm)
        settings = dataclasses.replace(settings, devices=devices)
    check_unique(settings.devices)
    return settings


def plan_models(settings: Settings, model_dir: str | Path | None, progress: Progress) -> ModelPlan:
    """The models (resolved), the variants to measure, and the checkpoint each study model is
    exported from. A model's int8 calibrates on images of its own kind: FER-2013 for the FER
    models, the --images set for the others."""
    models = plan_model_set(settings.models, settings.model_files, settings.input_shape)
    exported = [m for m in models if m.arch is not None]
    variants = plan_variants([m.name for m in exported], settings.runtimes, settings.quant) if exported else []
    if any(v.quant == "int8" for v in variants):
        for m in exported:
            if m.fer and not settings.fer_data:
                raise ConfigError("--quant int8 calibrates and checks on FER-2013 images: pass --fer-data PATH")
            if not m.fer and not (settings.images and m.scored):
                raise ConfigError(
                    f"--quant int8 for {m.name} calibrates on images of its own kind: pass --images PATH "
                    "(labelled with its classes), or drop int8"
                )
    given: dict[Variant, object] = {}
    if any(m.given is not None for m in models):
        from .given_files import given_variant

        given = {given_variant(m.given): m.given for m in models if m.given is not None}  # type: ignore[arg-type]
    variants += list(given)
    study = [m.name for m in exported if m.study]
    sources = (
        resolve_checkpoints(study, settings.checkpoints, settings.untrained, Path(model_dir or models_dir()))
        if study
        else {}
    )
    for line in (line for s in sources.values() for line in s.lines()):
        progress.message(line)
    return ModelPlan(models, variants, sources, given)


def export_extras(v: Variant, plan: ModelPlan, images: dict[str, ImageSet]) -> dict[str, Any]:
    """What a non-study model's export needs beyond a study model's: its architecture, and for
    int8 the --images set it calibrates on (preprocessed its way)."""
    model = next(m for m in plan.models if m.name == v.model)
    if model.study:
        return {}
    extras: dict[str, Any] = {"arch": model.arch}
    if v.quant == "int8" and model.spec is not None and not model.fer:
        from .inputs import calibration_from

        key = images_key(model.spec)
        if key in images:
            extras["samples"] = calibration_from(images[key], model.spec)
    return extras


def prepare_inputs(settings: Settings, plan: ModelPlan, progress: Progress) -> Inputs:
    t0 = time.perf_counter()
    images, scoring = prepare_images(settings, plan.models)
    seconds = time.perf_counter() - t0
    notes = photo_notes(images.get("photos"))
    for key, images_set in images.items():
        if key.startswith("images-"):
            notes.append(f"images: {len(images_set.images)} from {settings.images} for {images_set.info.get('model')}")
    for note in notes:
        progress.message(note)
    return Inputs(images, notes, seconds, scoring)


def export_models(
    variants: list[Variant],
    plan: ModelPlan,
    settings: Settings,
    model_dir: str | Path | None,
    stack: contextlib.ExitStack,
    progress: Progress,
    images: dict[str, ImageSet] | None = None,
) -> Exports:
    private = make_temp_dir("models")  # the session's own links to the files it measures
    stack.callback(remove_temp_dir, private)
    files, errors = export_variants(
        variants, plan, settings, Path(model_dir) if model_dir else None, private, progress, images
    )
    return Exports(files, errors)


def check_resumed_files(store: SessionStore, exports: Exports, remeasure_changed: bool, progress: Progress) -> None:
    """A resumed model whose file changed: refused, or measured again with --remeasure-changed."""
    for line in check_unchanged(store, exports.files, remeasure_changed):
        progress.message(line)
        store.log(line)


def open_devices(
    settings: Settings,
    farm: Farm,
    stack: contextlib.ExitStack,
    exports: Exports,
    inputs: Inputs,
    variants: list[Variant],
    progress: Progress,
) -> Opened:
    """Open and preflight every device; one that cannot be opened or is refused is reported, the
    others go on. A serial adb does not know is a typo: nothing is run."""
    runtimes = {runner_runtime(get_runtime(v.runtime)) for v in variants}
    opened = Opened()
    for i, spec in enumerate(settings.devices):
        opened.specs.append(spec)
        try:
            if spec not in (HOST, SIM):
                opened.specs[-1] = farm.resolve(spec).address
            target = open_target(spec, stack, settings, farm, index=settings.devices[:i].count(spec))
            c = preflight_target(target, settings, exports.files, inputs.images, runtimes)
        except DeviceNotFound:
            raise  # a serial adb does not know is a typo, not a device to report on: nothing is run
        except DeviceError as exc:  # its server does not answer, or it is locked, offline ...
            opened.refused.append(str(exc))
            opened.not_opened.append((spec_key(opened.specs[-1], farm), str(exc)))
            progress.message(f"refused: {exc}")
            continue
        for w in c.preflight.warnings:
            progress.message(f"warning: {target.serial}: {w}")
        if not c.preflight.ok:
            opened.refused.append(f"device {target.serial}: {c.preflight.refusal()}")
            progress.message(f"refused: {opened.refused[-1]}")
        opened.checked.append(c)
    check_unique(tuple(opened.specs))  # two names of one device (SERIAL and HOST:PORT/SERIAL)
    return opened


def passed_preflight(opened: Opened, settings: Settings) -> list[Checked]:
    """The devices that will run; none is an error, and --shard needs them identical."""
    usable = opened.usable
    if not usable:
        raise DeviceError("no device passed preflight: " + " | ".join(opened.refused))
    if settings.shard:
        check_identical([(c.target.serial, c.identity) for c in usable])
    return usable


def create_store(settings: Settings, out: str | Path | None, stack: contextlib.ExitStack) -> SessionStore:
    """A new session folder, with the seed of its randomised model order."""
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    store = SessionStore.create(settings.to_dict(), root=Path(out) if out else None, seed=seed)
    stack.callback(store.close)
    return store


def record_adb_servers(store: SessionStore, farm: Farm, progress: Progress) -> None:
    """The adb servers a device came from (--resume asks them again), and any that did not answer."""
    if farm.asked():  # some device came from an adb server (not only host or sim)
        store.set_adb_servers([str(s) for s in farm.servers], str(farm.local))
    for listing in farm.asked():
        if listing.error:
            progress.message(f"adb server skipped: {listing.error}")
            store.log(f"adb server skipped: {listing.error}")


def record_preparation(
    store: SessionStore, opened: Opened, inputs: Inputs, sources: dict[str, ModelSource], exports: Exports
) -> None:
    """What happened before the first measurement, in the session's log and session.json."""
    for msg in opened.refused:
        store.log(f"refused: {msg}")
    for note in inputs.notes:
        store.log(note)
    for name, source in sources.items():
        for line in source.lines():
            store.log(line, model=name)
    for c in opened.checked:
        c.record(store)
    for v, f in exports.files.items():
        store.set_model(v, f.meta)
        store.log(
            f"{'cached export' if f.cached else 'exported'} {f.path.name} ({v.runtime}, {v.quant}) sha256 "
            f"{f.sha256[:12]} in {f.seconds:.2f} s",
            model=v.model,
        )


def skipped_variants(
    usable: list[Checked], variants: list[Variant], exports: Exports
) -> dict[tuple[str, Variant], str]:
    """What each device cannot run (its runner is missing, the file's format is too new ...), with
    the reason; the rest goes on."""
    skipped: dict[tuple[str, Variant], str] = {}
    for c in usable:
        for v in variants:
            runtime = runner_runtime(get_runtime(v.runtime))
            why = c.unavailable.get(runtime)
            if why is None and v in exports.files:
                why = pre.check_model_file(c.preflight, c.runners.get(runtime), v, exports.files[v].meta)
            if why:
                skipped[(c.target.serial, v)] = why
    return skipped


def record_refused_devices(store: SessionStore, opened: Opened, variants: list[Variant]) -> None:
    """Every variant of a device that runs nothing is stored failed, with why the device was refused."""
    for serial, why in opened.refusals():
        if serial not in store.info.devices:
            store.set_device(serial, kind=None, status="failed", error=why)
        for v in variants:
            rec = store.record(serial, v)
            rec.fail(f"preflight refused the device: {why}")
            store.save_record(rec)


def claim_host_cpu(store: SessionStore, stack: contextlib.ExitStack, progress: Progress) -> None:
    """The host runner and simulated phones measure on this machine's CPU: two sessions doing that
    at once would slow each other's latencies, so the second one waits, and says so."""
    lock = host_cpu_lock(f"fermbench run, session {store.session_id}")

    def waiting(holder: Owner | None) -> None:
        text = (
            f"waiting for {holder or 'another fermbench session'} to finish: it measures on this host's "
            "CPU too, and two sessions at once would slow each other's latencies"
        )
        progress.message(text)
        store.log(text)

    lock.acquire(waiting)
    stack.callback(lock.release)


def attached_devices(farm: Farm) -> list[str]:
    """How to name every device of every server (any state: doctor explains the ones that are not
    ready); a server that did not answer is named as HOST:PORT, for doctor to report."""
    return [farm.address(d) for d in farm.devices()] + [str(x.server) for x in farm.listings() if x.error]


USB_DEBUGGING = (
    "plug it in with USB debugging on (Settings > About phone: tap Build number 7 times; then "
    "Developer options > USB debugging) and accept the prompt on the phone"
)


def check_adb(pf: pre.Preflight, farm: Farm | None = None) -> bool:
    """The adb binary and its version and, given a farm, each of its adb servers (the local one is
    started as `adb` would); False when no server answers."""
    from ..device.versions import adb_binary, server_version

    path = find_adb()
    binary = adb_binary(path) if path else None
    pre.check_adb_binary(pf, path, binary)
    if farm is None:
        return True
    answered = False
    for listing in farm.listings():  # asking for the device list starts the local server
        server = listing.server
        try:
            if listing.error:
                raise DeviceError(listing.error)
            version = server_version(server.port, server.host)
        except DeviceError as exc:
            fix = (
                pre.ADB_FIX
                if path is None
                else f"start it with `{path} -P {server.port} start-server`"
                if server.loopback
                else ""
            )
            pf.add(f"adb server {server}" if len(farm.servers) > 1 else "adb server", pre.FAIL, str(exc), fix)
            continue
        answered = True
        pre.check_adb_server(pf, server.port, version, binary if server.loopback else None, server.host)
    return answered


def check_state(pf: pre.Preflight, spec: str, farm: Farm) -> bool:
    """The device's state as its adb server sees it; False when the device cannot be used."""
    try:
        found = farm.resolve(spec)
    except AdbServerError as exc:
        pf.add("adb server", pre.FAIL, str(exc), "")
        return False
    except DeviceNotFound:
        pf.add(
            "state",
            pre.FAIL,
            "not attached to the adb server",
            f"{USB_DEBUGGING}, or `adb connect HOST:PORT`; `fermbench devices` lists what adb sees",
        )
        return False
    if not found.entry.ready:
        pf.add("state", pre.FAIL, found.entry.state, found.entry.fix or "")
        return False
    pf.add("state", pre.OK, "device")
    return True


def doctor_host(device: str | None, build: bool, project: Path, farm: Farm) -> tuple[pre.Preflight, list[str]]:
    """This computer's checks (adb, its servers, and with `build` the JDK, SDK and Gradle of
    `fermbench runner build`), and the devices to check: `device`, else every attached one."""
    host = pre.Preflight("this computer")
    server = True
    if device != HOST:  # `sim` needs the adb binary; a serial, or none, the servers too
        server = check_adb(host, None if device == SIM else farm)
    if build:
        pre.check_build_tools(host, project, os.environ)
    pre.check_runtime_packages(host)
    specs = [device] if device else attached_devices(farm) if server else []
    if not specs and server:
        host.add(
            "devices",
            pre.WARN if build else pre.FAIL,
            "no device attached",
            f"{USB_DEBUGGING}; or try `fermbench doctor --device sim`",
        )
    return host, specs


def exported_files(folder: Path, private_dir: Path) -> dict[Variant, ModelFile]:
    """Every exported model in an export folder (its metadata beside it), for `doctor`'s checks."""
    found: dict[Variant, ModelFile] = {}
    for meta_path in sorted(folder.glob("*.json")):
        meta = _read_meta(meta_path)
        name, runtime, file = meta.get("name"), meta.get("runtime_target"), meta.get("file")
        model = folder / str(file) if file else meta_path.with_suffix(".ptl")
        if isinstance(name, str) and isinstance(runtime, str) and model.is_file():
            v = Variant(name, runtime, str(meta.get("quant", "fp32")))
            found[v] = ModelFile(v, model, meta, cached=True)
    return found


def doctor(spec: str, settings: Settings, farm: Farm | None = None) -> list[pre.Preflight]:
    """Preflight without a session: device state, every runner flavor (protocol, page size), the
    exported models' bytecode and format, the APKs' 16 KB alignment, space, battery, thermal,
    build, and which runner flavors fit the device's ABIs and Android version. `spec` may be the
    HOST:PORT of a server `attached_devices` found silent: then that is the failure shown."""
    farm = farm or farm_for(settings)
    head = pre.Preflight(spec)
    for apk in settings.apk:
        pre.check_apk_alignment(head, Path(apk))
    silent = next((x.error for x in farm.asked() if x.error and str(x.server) == spec), None)
    if silent:
        head.add("adb server", pre.FAIL, silent, "")
        return [head]
    if spec not in (HOST, SIM) and not check_state(head, spec, farm):
        return [head]
    with contextlib.ExitStack() as stack:
        try:
            target = open_target(spec, stack, settings, farm)
        except DeviceError as exc:
            head.add("device", pre.FAIL, str(exc))
            return [head]
        files = exported_files(models_dir(), models_dir())
        c = preflight_target(target, settings, files, {}, set(p.RUNTIMES))
        for v, f in files.items():
            pre.check_model_file(c.preflight, c.runners.get(runner_runtime(get_runtime(v.runtime))), v, f.meta)
        page = max((r.page_size or 0 for r in c.runners.values()), default=0)
        if page > p.PAGE_SIZE_4K:  # now that the device's page size is known: would the APKs load?
            for apk in settings.apk:
                pre.check_apk_alignment(c.preflight, Path(apk), page)
            for runtime, why in c.unavailable.items():
                if "not installed" in why:
                    pre.check_runner_page_size(c.preflight, runtime, page)
        if c.kind != "host":
            for flavor in FLAVORS:
                pre.check_flavor(c.preflight, flavor, c.identity.get("abis") or [], c.identity.get("sdk"))
        c.preflight.checks[:0] = head.checks
        return [c.preflight]


def _read_meta(path: Path) -> dict[str, Any]:
    import json

    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
