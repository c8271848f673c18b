#!/usr/bin/env bash
# The emulator job: the README's phone path ("With your phone"), command for command, against one
# phone, then `fermbench verify`, which holds everything the job asserts. GitHub runs it on an
# x86_64 emulator with the APKs Gradle builds (.github/workflows/android-emulator.yml). .ci/run
# runs this same script on every submission against a simulated phone (ci/on-simulated-phone.sh),
# where only the Gradle build is replaced (RUNNER_BUILD=standin) and the settings are small.
# Each runner flavor runs its runtime: pytorchLite Lite fp32, executorch and litert fp32 and int8.
#
# Settings (environment; the defaults are the emulator job's):
#   SERIAL                 the phone                                         emulator-5554
#   RUNNER_BUILD           gradle: `fermbench runner build`; standin: stand-in APKs (no Gradle)
#   PROJECT                the runner's Gradle project, where its APKs are    android-runner
#   FLAVORS                the runner flavors to run (comma-separated)         every flavor fermbench
#                          knows (apk/flavors.py): what `runner build` and the stand-ins build;
#                          the workflow names all three, so a flavor left unbuilt fails the job
#   WORK                   scratch files and the results                      .cache/emulator-ci
#   MODELS                 the models to run                                  every model of the zoo
#   FER_DATA               FER-2013 folder or CSV; absent: a synthetic one is written to WORK
#   FER_LIMIT              FER-2013 images classified per variant             140
#   CHECKPOINTS            trained weights; a model without one runs untrained ../shared/weights
#   WARMUP, ITERATIONS, MIN_SECONDS   latency settings                         5, 30, 0.5
#   MIN_AGREEMENT, MIN_AGREEMENT_UNTRAINED   device/host agreement floors      0.95, 0.80
#   PIP_INSTALL            1: install fermbench and its pinned torch first    1
#   TORCH_INDEX            PyTorch's CPU-only wheel index (required on GitHub: the default
#                          index's torch there is the multi-GB CUDA build)
set -euo pipefail
cd "$(dirname "$0")/.."

SERIAL="${SERIAL:-emulator-5554}"
RUNNER_BUILD="${RUNNER_BUILD:-gradle}"
PROJECT="${PROJECT:-android-runner}"
WORK="${WORK:-$PWD/.cache/emulator-ci}"
MODELS="${MODELS:-shallow_cnn,deep_cnn,resnet9}"
FER_LIMIT="${FER_LIMIT:-140}"
CHECKPOINTS="${CHECKPOINTS:-../shared/weights}"
WARMUP="${WARMUP:-5}"
ITERATIONS="${ITERATIONS:-30}"
MIN_SECONDS="${MIN_SECONDS:-0.5}"
MIN_AGREEMENT="${MIN_AGREEMENT:-0.95}"
MIN_AGREEMENT_UNTRAINED="${MIN_AGREEMENT_UNTRAINED:-0.80}"
QUANT="fp32,int8"

# The exported runtime each runner flavor runs (`fermbench run --runtimes`).
runtime_of() {
    case "$1" in
        pytorchLite) echo pytorch_android_lite-2.1.0 ;;
        executorch) echo executorch-1.4.1 ;;
        litert) echo litert-2.3.0 ;;
        *) echo "error: FLAVORS: $1 is not a runner flavor (pytorchLite, executorch, litert)" >&2; return 1 ;;
    esac
}
mkdir -p "$WORK"

if [ "${GITHUB_ACTIONS:-}" = true ] && [ -z "${TORCH_INDEX:-}" ]; then
    echo "error: TORCH_INDEX is not set: set the repository variable TORCH_INDEX to PyTorch's CPU-only wheel index (Settings > Secrets and variables > Actions > Variables)" >&2
    exit 1
fi
if [ "${PIP_INSTALL:-1}" = 1 ]; then
    python3 -m pip install -q --disable-pip-version-check torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
    python3 -m pip install -q --disable-pip-version-check -e .
fi

echo "== fermbench runner build ($RUNNER_BUILD)"
case "$RUNNER_BUILD" in
    gradle) fermbench runner build --project "$PROJECT" ;;
    standin) python3 -m fermbench.sim.standin "$PROJECT" ;;
    *) echo "error: RUNNER_BUILD=$RUNNER_BUILD: use gradle or standin" >&2; exit 1 ;;
esac
# Read after the install: the default is the installed fermbench's own list of flavors.
FLAVORS="${FLAVORS:-$(python3 -c 'from fermbench.apk.flavors import FLAVORS; print(",".join(f.name for f in FLAVORS))')}"
RUNTIMES=""
APKS=()
for flavor in ${FLAVORS//,/ }; do  # flavor names have no spaces
    apk="$PROJECT/app/build/outputs/apk/$flavor/release/app-$flavor-release.apk"
    if [ ! -f "$apk" ]; then
        echo "error: FLAVORS names $flavor, but the build left no $apk" >&2
        exit 1
    fi
    RUNTIMES="${RUNTIMES:+$RUNTIMES,}$(runtime_of "$flavor")"
    APKS+=("$apk")
done
APK_LIST="$(IFS=,; echo "${APKS[*]}")"
VERIFY_APKS=()
for apk in "${APKS[@]}"; do VERIFY_APKS+=(--apk "$apk"); done
ET_APK="$PROJECT/app/build/outputs/apk/executorch/release/app-executorch-release.apk"

echo "== fermbench devices"
fermbench devices

echo "== fermbench runner install --device $SERIAL"
fermbench runner install --device "$SERIAL" --project "$PROJECT"

echo "== fermbench doctor --device $SERIAL"
fermbench doctor --device "$SERIAL" --apk "$ET_APK"

if [ -z "${FER_DATA:-}" ]; then  # no FER-2013 on GitHub: a synthetic copy big enough for the int8 gates
    FER_DATA="$WORK/fer2013.csv"
    python3 -c "import sys; from pathlib import Path; from fermbench.data.synthetic import write_csv; write_csv(Path(sys.argv[1]), {'Training': 300, 'PublicTest': 1100})" "$FER_DATA"
fi
WEIGHTS=(--untrained)  # resnet9 has no trained checkpoint in ../shared/weights
[ -d "$CHECKPOINTS" ] && WEIGHTS+=(--checkpoints "$CHECKPOINTS")

echo "== fermbench run --device $SERIAL: $MODELS; $RUNTIMES; $QUANT"
fermbench run --device "$SERIAL" --models "$MODELS" "${WEIGHTS[@]}" --runtimes "$RUNTIMES" --quant "$QUANT" \
    --fer-data "$FER_DATA" --fer-limit "$FER_LIMIT" --apk "$APK_LIST" \
    --warmup "$WARMUP" --warmup-seconds 0.2 --iterations "$ITERATIONS" --min-seconds "$MIN_SECONDS" --max-seconds 30 \
    --cooldown none --out "$WORK/results" --quiet

echo "== fermbench report"
fermbench report --results "$WORK/results"

echo "== fermbench verify: ExecuTorch libraries 16 KB aligned, memory and foreground fields, agreement"
fermbench verify --results "$WORK/results" --models "$MODELS" --runtimes "$RUNTIMES" --quant "$QUANT" \
    "${VERIFY_APKS[@]}" --min-agreement "$MIN_AGREEMENT" --min-agreement-untrained "$MIN_AGREEMENT_UNTRAINED"
