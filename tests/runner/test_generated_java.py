"""The Java runner's protocol table is generated from the Python one (fermbench.runner.gen_java):
the committed ProtocolTable.java must be exactly what the generator writes now, and the Java
runner, run on a desktop JVM, must parse its defaults and ranges to the table's values."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from fermbench import latency_settings as ls
from fermbench.runner import gen_java
from fermbench.runner import protocol as p

MAIN = gen_java.REPO / "android-runner" / "app" / "src" / "main" / "java" / "org" / "fermbench" / "runner"
JAVAC, JAVA = shutil.which("javac"), shutil.which("java")
needs_jdk = pytest.mark.skipif(not (JAVAC and JAVA), reason="no JDK (javac/java) on PATH")


@pytest.mark.skipif(not gen_java.JAVA_TABLE.is_file(), reason="android-runner sources are not in this checkout")
def test_committed_java_table_is_what_the_generator_writes():
    assert gen_java.JAVA_TABLE.read_bytes() == gen_java.java_source().encode("utf-8"), (
        "ProtocolTable.java differs from the table: run `python -m fermbench.runner.gen_java` and commit it"
    )


def test_the_generated_source_follows_the_table(monkeypatch, tmp_path):
    """A changed row changes the file (so the comparison above fails until it is regenerated)."""
    before = gen_java.java_source()
    row = ls.LATENCY["iterations"]
    changed = dataclasses.replace(row, default=77)
    monkeypatch.setattr(gen_java, "LATENCY_SETTINGS", tuple(changed if r is row else r for r in ls.LATENCY_SETTINGS))
    after = gen_java.java_source()
    assert after != before and 'new Setting("iterations", true, "77", 1, 10000000);' in after
    out = tmp_path / "ProtocolTable.java"
    assert gen_java.main([str(out)]) == 0 and out.read_text(encoding="utf-8") == after


_PRINT_DEFAULTS = """package org.fermbench.runner;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
public class PrintDefaults {
    public static void main(String[] args) throws Exception {
        Map<String, String> extras = new TreeMap<>();
        extras.put("mode", "latency");
        extras.put("model", "/m.ptl");
        RunSettings s = RunSettings.parse(extras);
        System.out.println("warmup=" + s.warmup);
        System.out.println("warmup_seconds=" + s.warmupSeconds);
        System.out.println("iterations=" + s.iterations);
        System.out.println("min_seconds=" + s.minSeconds);
        System.out.println("max_iterations=" + s.maxIterations);
        System.out.println("max_seconds=" + s.maxSeconds);
        System.out.println("target_precision=" + s.targetPrecision);
        System.out.println("threads=" + s.threads);
        System.out.println("protocol=" + RunSettings.PROTOCOL_VERSION);
        // each row's range: one past either end is refused, naming the key
        for (ProtocolTable.Setting row : ProtocolTable.LATENCY) {
            for (double bad : new double[] {row.low - 1, row.high + 1}) {
                if (bad < 0) continue; // a minus sign is refused as not a whole number, not as a range
                Map<String, String> v = new TreeMap<>(extras);
                v.put(row.key, row.whole ? String.valueOf((long) bad) : String.valueOf(bad));
                try {
                    RunSettings.parse(v);
                    System.out.println("accepted " + row.key + "=" + v.get(row.key));
                } catch (RunnerFailure e) {
                    boolean named = e.getMessage().startsWith(row.key + "=");
                    System.out.println("refused " + row.key + " " + e.code + " " + named);
                }
            }
        }
    }
}
"""


@needs_jdk
def test_java_runner_parses_the_tables_defaults_and_ranges(tmp_path):
    source = tmp_path / "src" / "PrintDefaults.java"
    source.parent.mkdir()
    source.write_text(_PRINT_DEFAULTS)
    files = [str(MAIN / n) for n in ("ProtocolTable.java", "RunSettings.java", "RunnerFailure.java")]
    done = subprocess.run(
        [JAVAC, "--release", "11", "-d", str(tmp_path / "classes"), *files, str(source)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [JAVA, "-cp", str(tmp_path / "classes"), "org.fermbench.runner.PrintDefaults"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line and " " not in line)
    for row in ls.LATENCY_SETTINGS:
        assert row.kind(values[row.name]) == row.default, row.name
    assert int(values["protocol"]) == p.PROTOCOL_VERSION
    refused = [line for line in lines if line.startswith(("refused", "accepted"))]
    expected = [
        f"refused {row.name} bad_arguments true"
        for row in ls.LATENCY_SETTINGS
        for bad in (row.minimum - 1, row.maximum + 1)
        if bad >= 0
    ]
    assert refused == expected


PROTOCOL_MD = gen_java.REPO / "android-runner" / "PROTOCOL.md"


@pytest.mark.skipif(not PROTOCOL_MD.is_file(), reason="android-runner sources are not in this checkout")
def test_protocol_md_lists_every_latency_setting_with_its_default_and_range():
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    assert text.startswith(f"# fermbench runner protocol, version {p.PROTOCOL_VERSION}\n")

    def shown(row: ls.LatencySetting, x: float) -> str:
        return str(int(x)) if float(x).is_integer() else repr(float(x))

    for row in ls.LATENCY_SETTINGS:
        line = f"| `{row.name}` | `{row.wire_default}` | {shown(row, row.minimum)}-{shown(row, row.maximum)} |"
        assert line in text, f"PROTOCOL.md's latency table lacks {line}"
