#!/usr/bin/env bash
# The emulator job's one script (.github/workflows/android-emulator.yml). It runs on GitHub's
# runner with an x86_64 emulator already booted as emulator-5554; it is NOT part of .ci/run,
# which has no emulator or Android SDK.
#
#   bash ci/android-emulator.sh [RUNNER_APK]
#
# 1. installs fermbench, 2. asks the installed runner for `info` directly through
# `am instrument` and checks the answer, 3. runs `fermbench run` against the emulator on every
# model of the zoo (latency + classify on a synthetic FER-shaped set), 4. checks that every model
# returned a result and that the device's predictions agree with the host's.
set -euo pipefail
cd "$(dirname "$0")/.."

APK="${1:-android-runner/app/build/outputs/apk/pytorchLite/release/app-pytorchLite-release.apk}"
SERIAL="${SERIAL:-emulator-5554}"
WORK="${WORK:-$PWD/.cache/emulator-ci}"
# Untrained weights give near-tied logits, where float noise between two runtime builds can flip
# an argmax; trained checkpoints (models/<name>.ckpt) agree exactly in practice.
MIN_AGREEMENT="${MIN_AGREEMENT:-0.95}"
mkdir -p "$WORK"

[ -f "$APK" ] || { echo "runner APK not found: $APK (build it: cd android-runner && ./gradlew :app:assemblePytorchLiteRelease)"; exit 1; }

python3 -m pip install -q --disable-pip-version-check torch==2.13.0
python3 -m pip install -q --disable-pip-version-check -e .

adb -s "$SERIAL" wait-for-device
until [ "$(adb -s "$SERIAL" shell getprop sys.boot_completed | tr -d '\r')" = "1" ]; do sleep 2; done

echo "== install the runner and ask it for info through am instrument"
adb -s "$SERIAL" install -r -g "$APK"
adb -s "$SERIAL" shell am instrument -w -r -e protocol 1 -e mode info \
    org.fermbench.runner/org.fermbench.runner.BenchmarkInstrumentation | tee "$WORK/info.txt"
python3 - "$WORK/info.txt" <<'PY'
import sys
from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.runner.protocol import decode_result
info = decode_result(parse_instrument_output(open(sys.argv[1], encoding="utf-8").read()))
assert info.runner_kind == "android" and info.runtime_name == "pytorch_lite", info
assert "x86_64" in info.abis, f"emulator ABIs {info.abis}"
print(f"runner {info.runner_version}, {info.runtime_name} {info.runtime_version}, bytecode "
      f"{info.bytecode_min}-{info.bytecode_max}, {info.device.get('model')} API {info.device.get('sdk_int')}")
PY

echo "== a synthetic FER-shaped test split (no FER-2013 on the runner)"
python3 - "$WORK/fer2013.csv" <<'PY'
import sys
from pathlib import Path
from fermbench.data.synthetic import write_csv
write_csv(Path(sys.argv[1]), {"PublicTest": 140})
PY

echo "== doctor, then benchmark every model on $SERIAL"
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
