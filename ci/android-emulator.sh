#!/usr/bin/env bash
# The emulator job's one script (.github/workflows/android-emulator.yml). It runs on GitHub's
# runner with an x86_64 emulator already booted as emulator-5554; it is NOT part of .ci/run,
# which has no emulator or Android SDK.
#
#   bash ci/android-emulator.sh [LITE_APK] [EXECUTORCH_APK]
#
# 1. installs fermbench (torch from PyTorch's CPU-only wheel index), 2. reads the ELF alignment
# of both APKs' native libraries, 3. installs both runners and asks each for `info` through
# `am instrument`, 4. runs `fermbench run` against the emulator on every model of the zoo
# (PyTorch Lite), 5. runs every model as an ExecuTorch program on the emulator through the
# protocol directly, checking the foreground, memory and load-time fields and that the phone's
# predictions agree with the host runner's.
set -euo pipefail
cd "$(dirname "$0")/.."

APK="${1:-android-runner/app/build/outputs/apk/pytorchLite/release/app-pytorchLite-release.apk}"
ET_APK="${2:-android-runner/app/build/outputs/apk/executorch/release/app-executorch-release.apk}"
SERIAL="${SERIAL:-emulator-5554}"
WORK="${WORK:-$PWD/.cache/emulator-ci}"
# The default index's torch is the CUDA build (several GB on a runner that also holds the SDK,
# the system image and the emulator's disk): set TORCH_INDEX to PyTorch's CPU-only wheel index
# (the workflow does, from a repository variable) to install the same release without CUDA.
TORCH_INDEX="${TORCH_INDEX:-}"
EXECUTORCH_VERSION="1.4.1" # the release of the executorch flavor's AAR (ExecutorchEngine.VERSION)
# Untrained weights give near-tied logits, where float noise between two runtime builds can flip
# an argmax; trained checkpoints (models/<name>.ckpt) agree exactly in practice.
MIN_AGREEMENT="${MIN_AGREEMENT:-0.95}"
mkdir -p "$WORK"

for apk in "$APK" "$ET_APK"; do
    [ -f "$apk" ] || { echo "runner APK not found: $apk (build it: cd android-runner && gradle :app:assemblePytorchLiteRelease :app:assembleExecutorchRelease)"; exit 1; }
done

python3 -m pip install -q --disable-pip-version-check torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
python3 -m pip install -q --disable-pip-version-check -e . "executorch==$EXECUTORCH_VERSION"

echo "== native libraries: LOAD alignment (16 KB pages need >= 16384)"
python3 - "$APK" "$ET_APK" <<'PY'
import sys
from fermbench.apk.elf import read_apk_alignment
lite, et = (read_apk_alignment(path) for path in sys.argv[1:])
for result in (lite, et):
    for lib in result.libraries:
        print(f"{result.apk}: {lib.path} {lib.bits}-bit, LOAD align {lib.min_align}, 16 KB {'yes' if lib.compatible_16k else 'NO'}")
assert et.libraries, "the ExecuTorch APK has no native libraries"
assert et.compatible_16k, f"ExecuTorch libraries not 16 KB aligned: {[l.path for l in et.incompatible()]}"
PY

adb -s "$SERIAL" wait-for-device
until [ "$(adb -s "$SERIAL" shell getprop sys.boot_completed | tr -d '\r')" = "1" ]; do sleep 2; done

echo "== install both runners and ask each for info through am instrument"
for runtime in pytorch_lite executorch; do
    apk="$APK"; [ "$runtime" = executorch ] && apk="$ET_APK"
    adb -s "$SERIAL" install -r -g "$apk"
    read -r -a argv < <(python3 -c "from fermbench.runner import protocol as p
print(' '.join(p.am_instrument_argv(p.info_args(), p.runner_component('$runtime'))))")
    adb -s "$SERIAL" shell "${argv[@]}" | tee "$WORK/info-$runtime.txt"
    python3 - "$WORK/info-$runtime.txt" "$runtime" <<'PY'
import sys
from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.runner.protocol import MODEL_FORMATS, decode_result
info = decode_result(parse_instrument_output(open(sys.argv[1], encoding="utf-8").read()))
runtime = sys.argv[2]
assert info.runner_kind == "android" and info.runtime_name == runtime, info
assert info.model_format == MODEL_FORMATS[runtime] and info.page_size == 4096, info
assert "x86_64" in info.abis, f"emulator ABIs {info.abis}"
print(f"runner {info.runner_version}, {info.runtime_name} {info.runtime_version}, bytecode "
      f"{info.bytecode_min}-{info.bytecode_max}, .pte {info.pte_identifiers}, page {info.page_size}, "
      f"{info.device.get('model')} API {info.device.get('sdk_int')}")
PY
done

echo "== a synthetic FER-shaped test split (no FER-2013 on the runner)"
python3 - "$WORK/fer2013.csv" <<'PY'
import sys
from pathlib import Path
from fermbench.data.synthetic import write_csv
write_csv(Path(sys.argv[1]), {"PublicTest": 140})
PY

echo "== doctor, then benchmark every model on $SERIAL (PyTorch Lite)"
fermbench doctor --device "$SERIAL" --apk "$APK"
fermbench run --device "$SERIAL" --apk "$APK" \
    --fer-data "$WORK/fer2013.csv" --fer-split PublicTest \
    --warmup 5 --warmup-seconds 0.2 --iterations 30 --min-seconds 0.5 --max-seconds 30 \
    --out "$WORK/results" --quiet

echo "== check the stored results"
python3 - "$WORK/results" "$MIN_AGREEMENT" <<'PY'
import sys
from pathlib import Path
from fermbench.store import latest_session, load_session
from fermbench.zoo import MODEL_NAMES
root, min_agreement = Path(sys.argv[1]), float(sys.argv[2])
session = load_session(latest_session(root), root)
by_model = {r["model"]: r for r in session.records}
problems = []
for name in MODEL_NAMES:
    rec = by_model.get(name)
    if rec is None:
        problems.append(f"{name}: no record")
        continue
    if rec["status"] != "ok":
        problems.append(f"{name}: {rec['status']} {rec.get('error')}")
    lat = [r for r in rec.get("latency") or [] if r.get("status") == "ok"]
    if not lat:
        problems.append(f"{name}: no latency result")
    acc = rec.get("accuracy") or {}
    if acc.get("status") != "ok":
        problems.append(f"{name}: no classify result ({acc.get('error')})")
    elif acc["agreement"] < min_agreement:
        problems.append(f"{name}: device/host agreement {acc['agreement']:.3f} < {min_agreement}")
    else:
        median = lat[0]["summary"]["median"] / 1e6 if lat else float("nan")
        print(f"{name}: median {median:.3f} ms, agreement {acc['agreement']:.3f} over {acc['n']} images")
if problems:
    sys.exit("emulator check failed:\n  " + "\n  ".join(problems))
print(f"all {len(MODEL_NAMES)} models returned results; session {session.id}")
PY

echo "== every model as an ExecuTorch program on $SERIAL, and a Lite file, through the protocol"
python3 - "$SERIAL" "$WORK" "$MIN_AGREEMENT" <<'PY'
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower

from fermbench.runner import host
from fermbench.runner import protocol as p
from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.zoo import MODEL_NAMES, build_model

serial, work, min_agreement = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])


def adb(*args: str) -> str:
    return subprocess.run(["adb", "-s", serial, *args], check=True, capture_output=True, text=True).stdout


def pull(device_path: str) -> bytes:
    local = work / Path(device_path).name
    adb("pull", device_path, str(local))
    return local.read_bytes()


def instrument(runtime: str, extras: dict[str, str]):
    text = adb("shell", *p.am_instrument_argv(extras, p.runner_component(runtime)))
    return p.decode_result(parse_instrument_output(text), fetch=pull)


def check_latency(res) -> None:
    readings = [res.memory_before_load, res.memory_after_runtime, res.memory_after_load, res.memory_after_run]
    assert all(m.pss_kb and m.rss_kb and m.peak_rss_kb for m in readings), readings
    assert res.peak_rss_kb() >= res.memory_after_run.rss_kb and not res.runtime_preloaded
    fg = res.foreground
    assert fg.isolation_activity and fg.importance_name == "foreground", fg  # the top app while timed
    print(f"  {res.runtime_name} {Path(res.model_path).name}: median {np.median(res.samples_ns) / 1e6:.3f} ms, "
          f"runtime load {res.runtime_load_ns / 1e6:.1f} ms, model load {res.load_ns / 1e6:.1f} ms, "
          f"PSS +{res.memory_delta_kb()} KiB, peak RSS {res.peak_rss_kb()} KiB, importance {fg.importance}, "
          f"sustained mode supported {fg.sustained_performance_supported}")


images = np.random.default_rng(0).integers(0, 256, size=(64, 48, 48), dtype=np.uint8)
p.write_images_file(work / "faces.ferb", images)
adb("push", str(work / "faces.ferb"), f"{p.DEVICE_MODEL_DIR}/faces.ferb")
problems = []
for name in MODEL_NAMES:
    model = build_model(name, seed=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exported = torch.export.export(model, (torch.zeros(1, 1, 48, 48),))
            program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()
    except Exception as exc:  # noqa: BLE001 - report every model, then fail
        problems.append(f"{name}: torch.export to ExecuTorch failed: {str(exc).splitlines()[0]}")
        continue
    local = work / f"{name}.fp32.pte"
    local.write_bytes(program.buffer)
    device = f"{p.DEVICE_MODEL_DIR}/{name}.fp32.pte"
    adb("push", str(local), device)
    check_latency(instrument("executorch", p.latency_args(device, runs=30, min_s=0.5, warmup_runs=5, warmup_min_s=0.2)))
    on_phone = instrument("executorch", p.classify_args(device, f"{p.DEVICE_MODEL_DIR}/faces.ferb", inline_max_bytes=0,
                                                      run_id=f"classify-{name}"))
    on_host = host.run_host("classify", model=local, images=images, runtime="executorch")
    agreement = float(np.mean(np.array(on_phone.top) == np.array(on_host.top)))
    print(f"  {name}: ExecuTorch device/host agreement {agreement:.3f} over {len(images)} images")
    if agreement < min_agreement:
        problems.append(f"{name}: ExecuTorch device/host agreement {agreement:.3f} < {min_agreement}")
lite = work / "shallow_cnn.ptl"
torch.jit.freeze(torch.jit.script(build_model("shallow_cnn", seed=0)))._save_for_lite_interpreter(str(lite))
adb("push", str(lite), f"{p.DEVICE_MODEL_DIR}/shallow_cnn.ptl")
check_latency(instrument("pytorch_lite", p.latency_args(f"{p.DEVICE_MODEL_DIR}/shallow_cnn.ptl", runs=30, min_s=0.5)))
if problems:
    sys.exit("ExecuTorch emulator check failed:\n  " + "\n  ".join(problems))
print(f"all {len(MODEL_NAMES)} models ran as ExecuTorch programs on {serial}")
PY
