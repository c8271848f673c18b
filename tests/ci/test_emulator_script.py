"""The emulator job's script (ci/android-emulator.sh) against the real CLI and package.

.ci/run runs the script end to end on a simulated phone (ci/on-simulated-phone.sh); these fast
checks name the broken line when a call goes stale, and show that they catch the two faults the
script once had unseen: an import of a module that moved, and an option that was renamed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from script_check import calls, check_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (ROOT / "ci" / "android-emulator.sh").read_text()
ON_SIM = (ROOT / "ci" / "on-simulated-phone.sh").read_text()
CI_RUN = (ROOT / ".ci" / "run").read_text()
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name,text", [("android-emulator.sh", SCRIPT), ("on-simulated-phone.sh", ON_SIM)])
def test_every_call_in_the_scripts_exists(name, text):
    assert check_script(text) == [], name


def test_the_job_is_the_readme_phone_path_in_order_then_verify():
    steps = [" ".join(args[:2]) if args[0] == "runner" else args[0] for args in calls(SCRIPT, "fermbench")]
    assert steps == ["runner build", "devices", "runner install", "doctor", "run", "report", "verify"]
    run = next(args for args in calls(SCRIPT, "fermbench") if args[0] == "run")
    assert run[run.index("--runtimes") + 1] == "$RUNTIMES" and run[run.index("--apk") + 1] == "$APK_LIST"
    # one runtime and one APK per flavor the job runs
    assert 'RUNTIMES="${RUNTIMES:+$RUNTIMES,}$(runtime_of "$flavor")"' in SCRIPT and 'APKS+=("$apk")' in SCRIPT
    assert run[run.index("--quant") + 1] == "$QUANT" and 'QUANT="fp32,int8"' in SCRIPT
    from fermbench.zoo import MODEL_NAMES

    assert f'MODELS="${{MODELS:-{",".join(MODEL_NAMES)}}}"' in SCRIPT  # the whole zoo on GitHub
    # The README's phone block has the same commands, so the job follows what a phone owner types.
    start = README.index("fermbench doctor --build")
    block = README[start : README.index("```", start)]
    for step in (
        "fermbench runner build",
        "fermbench devices",
        "fermbench runner install --device SERIAL",
        "fermbench doctor --device SERIAL",
        "fermbench run --device SERIAL",
    ):
        assert step in block


def test_ci_run_runs_the_same_script_on_a_simulated_phone():
    assert "bash ci/on-simulated-phone.sh" in CI_RUN
    assert "bash ci/android-emulator.sh" in ON_SIM and "RUNNER_BUILD=standin" in ON_SIM
    # Only the Gradle build differs between GitHub and the simulated phone.
    branches = [line.strip() for line in SCRIPT.splitlines() if line.strip().startswith(("gradle)", "standin)"))]
    assert branches == [
        'gradle) fermbench runner build --project "$PROJECT" ;;',
        'standin) python3 -m fermbench.sim.standin "$PROJECT" ;;',
    ]


@pytest.mark.parametrize(
    "fault,expected",
    [
        (
            (
                "from fermbench.data.synthetic import write_csv",
                "from fermbench.device.instrument_output import write_csv",
            ),
            "fermbench.device.instrument_output",
        ),
        (
            ("from fermbench.data.synthetic import write_csv", "from fermbench.data.synthetic import write_csvs"),
            "write_csvs",
        ),
        (("--fer-limit", "--fer-limt"), "no option --fer-limt"),
        (
            ('fermbench runner install --device "$SERIAL"', 'fermbench runner instal --device "$SERIAL"'),
            "`fermbench runner instal`: no such command",
        ),
        (("python3 -m fermbench.sim.standin", "python3 -m fermbench.apk.standin"), "fermbench.apk.standin"),
        (('fermbench verify --results "$WORK/results"', "python3 - <<PY\nassert True\nPY\n"), "heredoc"),
    ],
)
def test_a_stale_import_or_renamed_option_fails_the_suite(fault, expected):
    old, new = fault
    assert old in SCRIPT
    problems = check_script(SCRIPT.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_the_job_stops_at_once_without_the_cpu_torch_index_on_github(tmp_path):
    import os
    import subprocess

    env = {**os.environ, "GITHUB_ACTIONS": "true", "TORCH_INDEX": "", "WORK": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(ROOT / "ci" / "android-emulator.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert re.fullmatch(r"error: TORCH_INDEX is not set: .*\n", done.stderr) and not done.stdout
