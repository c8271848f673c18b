#!/usr/bin/env bash
# Runs the emulator job's script, ci/android-emulator.sh, against a simulated phone: .ci/run calls
# this on every submission, so every line of that script but the Gradle build (replaced by
# stand-in APKs) and the emulator boot runs here too. A private adb server (its own port and
# HOME, no USB scan, no mDNS) and one simulated phone on loopback, both stopped on exit.
#
# Small settings, overridable: one model (shallow_cnn, on every runtime and quantisation: Lite
# fp32, ExecuTorch fp32 and int8), 40 FER-2013 images, a few iterations. The runner flavors are
# those fermbench knows (FLAVORS unset: the stand-ins and the simulated phone serve exactly those). Each exported model costs
# a minute or more on 2 cores; the job on GitHub runs the whole zoo.
set -euo pipefail
cd "$(dirname "$0")/.."

export WORK="${WORK:-$PWD/.cache/sim-ci}"
rm -rf "$WORK"
mkdir -p "$WORK/home"
# outside the ephemeral range, where a client could connect to itself (see device/adb_server.py)
free_port() { python3 -c "from fermbench.device.adb_server import free_port; print(free_port())"; }
ADB="$(python3 -c "import adbutils; print(adbutils.adb_path())")"
ADB_PORT="$(free_port)"
SIM_PORT="$(free_port)"
export FERMBENCH_MODELS="$WORK/models"  # exports made afresh, as on a fresh machine, not reused from models/
export HOME="$WORK/home" ANDROID_USER_HOME="$WORK/home/.android" ADB_LIBUSB=0 ADB_MDNS=0 \
    ANDROID_ADB_SERVER_PORT="$ADB_PORT"

fermbench sim --port "$SIM_PORT" --root "$WORK/phone" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
stop() {
    "$ADB" -P "$ADB_PORT" kill-server >/dev/null 2>&1 || true
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 100); do grep -q "127.0.0.1:$SIM_PORT" "$WORK/sim.log" && break; sleep 0.1; done
"$ADB" -P "$ADB_PORT" start-server
"$ADB" -P "$ADB_PORT" connect "127.0.0.1:$SIM_PORT"

# The real FER-2013 where it lies beside the checkout (the int8 gates need 1,000 PublicTest images).
[ -z "${FER_DATA:-}" ] && [ -d ../shared/fer2013 ] && export FER_DATA="$(cd ../shared/fer2013 && pwd)"
SERIAL="127.0.0.1:$SIM_PORT" RUNNER_BUILD=standin PROJECT="$WORK/android-runner" \
    MODELS="${MODELS:-shallow_cnn}" FER_LIMIT="${FER_LIMIT:-40}" WARMUP="${WARMUP:-1}" ITERATIONS="${ITERATIONS:-5}" MIN_SECONDS="${MIN_SECONDS:-0.05}" \
    bash ci/android-emulator.sh
