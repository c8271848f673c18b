"""Every `fermbench` example of every command's --help and of the Markdown docs, executed, so a
documented command cannot fail unnoticed. The examples are found, not listed (tests/doc_examples.py).

Policy (tables in tests/doc_examples.py, each entry with its reason):
  - run (the default): through the CLI in this process, in a fresh temporary checkout holding
    what the documentation assumes: ../shared/fer2013 (a synthetic FER-2013 folder of 140
    images), fer2013.csv (21 images as a Kaggle CSV), ../shared/realworld (labelled photos),
    models/ and ../shared/weights (checkpoints of the three models, shallow_cnn trained one epoch,
    the others untrained; their Lite exports), results/ (two finished sessions and a training
    run), runner APKs the simulated phone installs. Two private adb servers with one simulated
    phone each (both runners installed) stand for the reader's phone and farm. TINY adds options
    for a few iterations; PLACEHOLDERS replace SERIAL and the like. A run must exit 0, with no
    traceback, printing what DONE expects of its command.
  - syntax only, where this machine lacks what the example needs (JDK and Android SDK, minutes of
    int8 calibration): click parses its arguments, so an unknown option, a bad choice or a
    missing value fails.
  - serve (`fermbench sim`): started as a process, each serial it prints checked, then SIGTERM.
An example that cannot run as written fails, naming POLICY as the place for its rule; so does a
placeholder the tables do not know. Examples that need adb skip with the reason where no adb
binary exists. Heavy things (checkpoints, exports, sessions, adb servers) are made once per module.
"""

from __future__ import annotations

import _thread
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner, Result

import doc_examples as DOC  # tests/ is on pytest's pythonpath (setup.cfg)
from child_signals import ctrl_c_raises
from fermbench.bench.progress import Progress
from fermbench.cli import main
from fermbench.device.adb_server import AdbServer
from fermbench.sim.phone import SimPhone
from ports import free_block

REPO = Path(__file__).resolve().parents[1]


HELPS, DOCS = DOC.collect(main, REPO)
EXAMPLES = DOC.unique(HELPS, DOCS)

FER_COUNTS = {"Training": 70, "PublicTest": 35, "PrivateTest": 35}
# small: an example trains resnet9 on it in bf16, which CPUs without AVX512-BF16 run ~10x slower than fp32
CSV_COUNTS = {"Training": 7, "PublicTest": 7, "PrivateTest": 7}
NO_ADB = {"models", "data", "data check", "train", "evaluate", "export", "report", "sim"}  # never talk to adb
HOW_TO_FIX = (
    "fix the command or its documentation; if it cannot run on this machine, give it a Rule "
    "in POLICY (tests/doc_examples.py) with the reason"
)


# -- running the CLI ----------------------------------------------------------------------------


def cli(argv: list[str], env: dict[str, str | None]) -> Result:
    # `run` turns SIGTERM into Ctrl-C for its session, and an interrupted `run` ignores both until it exits
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return CliRunner().invoke(main, list(argv), env=env)
    finally:
        for sig, handler in saved.items():
            if handler is not None:  # None: set outside Python
                signal.signal(sig, handler)


def explain(result: Result) -> str:
    text = result.output[-4000:]
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        text += "".join(traceback.format_exception(*result.exc_info))[-4000:]
    return text


def ok(result: Result, what: str) -> Result:
    assert result.exit_code == 0, f"{what} exited {result.exit_code}:\n{explain(result)}"
    return result


def parse_only(argv: list[str]) -> click.Context:
    """click's parse of a command line, down to its command, without running it."""
    cmd: click.Command = main
    ctx: click.Context | None = None
    name, args = "fermbench", list(argv)
    while True:
        ctx = cmd.make_context(name, args, parent=ctx)
        if not isinstance(cmd, click.Group):
            return ctx
        # a group keeps its subcommand's name in _protected_args (the public name is deprecated)
        name, sub, args = cmd.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert sub is not None and name is not None
        cmd = sub


# -- what the documentation assumes: made once ------------------------------------------------


@dataclass
class Base:
    root: Path  # holds shared/ and checkout/, as a reader's machine holds ../shared beside the repo
    env: dict[str, str | None]
    sessions: tuple[str, str]  # the finished sessions in checkout/results/, earlier first
    interrupted: Path  # a session interrupted after its first phase, kept outside results/


class InterruptAfterFirstPhase(Progress):
    """A session display that presses Ctrl-C once a device has stored its first phase."""

    sent = False

    def done(self, serial: str, model: str, phase: str, status: str) -> None:
        # devices run in worker threads (the main thread's `done`s are the exports before them)
        if not self.sent and threading.current_thread() is not threading.main_thread():
            self.sent = True
            _thread.interrupt_main()  # KeyboardInterrupt in the main thread, as Ctrl-C gives
            time.sleep(1.0)  # this worker holds on until the main thread has stopped the session


def write_photos(root: Path) -> None:
    """Class folders of photos: a face-sized picture and a blank one (no face: counted as such)."""
    import cv2

    from fermbench.data.synthetic import make_images

    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    face = cv2.resize(make_images(1, seed=3)[0][0], (192, 192), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(
        str(root / "happy" / "face0.png"), cv2.copyMakeBorder(face, 64, 64, 64, 64, cv2.BORDER_CONSTANT, value=128)
    )
    cv2.imwrite(str(root / "sad" / "blank.png"), np.full((240, 240), 200, np.uint8))


def write_runner_apks(checkout: Path) -> None:
    """Runner APKs the simulated phone installs: where `runner build` leaves them, and by the
    names the examples use."""
    import io
    import zipfile

    from fermbench.apk.flavors import BY_NAME
    from fermbench.runner.protocol import PROTOCOL_VERSION
    from fermbench.sim.apk import make_apk_bytes

    libs = {"pytorchLite": "lib/x86_64/libpytorch_jni_lite.so", "executorch": "lib/x86_64/libexecutorch.so"}
    for name, lib in libs.items():
        flavor = BY_NAME[name]
        buf = io.BytesIO(make_apk_bytes(flavor.package, version_code=PROTOCOL_VERSION, version_name="0.1.0"))
        with zipfile.ZipFile(buf, "a") as z:
            z.writestr(lib, b"\x7fELF")
        apk = flavor.apk_dir(checkout / "android-runner", "release") / f"app-{name}-release.apk"
        apk.parent.mkdir(parents=True)
        apk.write_bytes(buf.getvalue())
        shutil.copy(apk, checkout / apk.name)
    shutil.copy(checkout / "app-pytorchLite-release.apk", checkout / "runner.apk")  # the default runtime's


def interrupted_session(out: Path) -> Path:
    """A host session of two models under `out`, interrupted by Ctrl-C after its first phase."""
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import run_benchmark

    settings = build_settings(
        devices=("host",),
        models=("shallow_cnn", "deep_cnn"),
        fer_data="../shared/fer2013",
        warmup=1,
        warmup_seconds=0.0,
        iterations=5,
        min_seconds=0.0,
        cooldown="none",
    )
    try:
        with ctrl_c_raises():  # the interrupt must raise even when the suite started with SIGINT ignored
            run_benchmark(settings, out=out, progress=InterruptAfterFirstPhase())
    except KeyboardInterrupt:
        pass
    else:
        pytest.fail("the session to resume finished before its interrupt")
    (session,) = [p for p in out.iterdir() if (p / "session.json").is_file()]
    assert json.loads((session / "session.json").read_text())["status"] == "interrupted"
    return session


def write_own_model_files(checkout: Path) -> None:
    """What "Your own model" assumes: the repository's examples/, the shapes folder its first line
    makes (5 pictures a class here, not 20), and a ready .ptl of the reader's own (a small RGB net)."""
    import torch

    from colour_models import ColourNet

    if str(REPO) not in sys.path:  # `examples` imports from the repository root, as the README runs it
        sys.path.append(str(REPO))
    from examples.make_shapes import make_shapes

    shutil.copytree(REPO / "examples", checkout / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    make_shapes(checkout / "shapes", 5, 0)
    torch.jit.script(ColourNet().eval())._save_for_lite_interpreter(str(checkout / "mine.ptl"))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    """The reader's machine, once per module (about 20 s on 2 cores): data, checkpoints, exports, sessions."""
    from fermbench.data.synthetic import write_csv, write_folder
    from fermbench.zoo import build_model
    from fermbench.zoo.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("docs")
    shared, checkout = root / "shared", root / "checkout"
    env: dict[str, str | None] = {
        "FERMBENCH_CACHE": str(root / "cache"),
        "HOME": str(root / "home"),
        "FERMBENCH_RESULTS": None,
        "FERMBENCH_MODELS": None,
        "ANDROID_SERIAL": None,
        "ADB_LIBUSB": "0",
    }
    write_folder(shared / "fer2013", FER_COUNTS)
    write_photos(shared / "realworld")
    checkout.mkdir()
    write_csv(checkout / "fer2013.csv", CSV_COUNTS)
    write_runner_apks(checkout)
    write_own_model_files(checkout)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(checkout)
        for var, value in env.items():
            if value is None:
                mp.delenv(var, raising=False)
            else:
                mp.setenv(var, value)
        ok(
            cli(
                [
                    "train",
                    "--model",
                    "shallow_cnn",
                    "--data",
                    "../shared/fer2013",
                    "--epochs",
                    "1",
                    "--run-id",
                    "docs-shallow_cnn",
                ],
                env,
            ),
            "training shallow_cnn",
        )
        for name in ("deep_cnn", "resnet9"):  # untrained: `run` needs a checkpoint per model, not a good one
            save_checkpoint(Path("models") / f"{name}.ckpt", name, build_model(name, seed=0))
        (shared / "weights").mkdir()
        for ckpt in Path("models").glob("*.ckpt"):
            os.link(ckpt, shared / "weights" / ckpt.name)
        ok(cli(["export"], env), "exporting the models")
        run = [
            "run",
            "--device",
            "host",
            "--fer-data",
            "../shared/fer2013",
            "--photos",
            "../shared/realworld",
            *DOC.TINY["run"],
        ]
        first = ok(cli(run, env), "the first session")
        second = ok(cli(run, env), "the second session")
        interrupted = interrupted_session(root / "interrupted")
    ids = tuple(re.search(r"results: results/(\S+)", r.output).group(1) for r in (first, second))
    return Base(root, env, ids, interrupted)


@dataclass
class Phones:
    servers: tuple[AdbServer, AdbServer]
    phones: tuple[SimPhone, SimPhone]


@pytest.fixture(scope="module")
def phones(base: Base, adb_path: str):
    """Two private adb servers with one simulated phone each (identical, both runners installed):
    the reader's phone on the local server, and a farm's second server."""
    servers = (AdbServer(adb_path=adb_path).start(), AdbServer(adb_path=adb_path).start())
    sims: list[SimPhone] = []
    try:
        for server in servers:
            sims.append(SimPhone().start())
            server.connect(sims[-1].serial)
            for apk in ("app-pytorchLite-release.apk", "app-executorch-release.apk"):
                server.adb("-s", sims[-1].serial, "install", "-r", str(base.root / "checkout" / apk))
        yield Phones(servers, (sims[0], sims[1]))
    finally:
        for server, phone in zip(servers, sims):
            try:
                server.disconnect(phone.serial)
            except Exception:  # already gone: stopping it is what matters
                pass
            phone.stop()
        forced = [pid for server in servers for pid in server.stop()]
        assert not forced, f"adb servers outlived kill-server (pids {forced})"


# -- one example --------------------------------------------------------------------------------


@dataclass
class Stage:
    """Where one example runs: a fresh copy of the checkout, its environment, placeholder values."""

    cwd: Path
    env: dict[str, str | None]
    values: dict[str, str] = field(default_factory=dict)


def fresh_checkout(base: Base, dest: Path) -> Path:
    """A copy of the base checkout beside a link to shared/. Big files (checkpoints, exports) are
    hard links: every writer replaces them by rename, never in place. The rest is copied."""

    def copy(src: str, dst: str) -> None:
        if os.path.getsize(src) > 1_000_000:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(base.root / "checkout", dest / "checkout", copy_function=copy)
    (dest / "shared").symlink_to(base.root / "shared")
    return dest / "checkout"


def prepare_interrupted_training(stage: Stage, argv: list[str], monkeypatch, base: Base) -> None:
    """The run `--run-id` names, interrupted (Ctrl-C) after its first of two epochs."""
    from fermbench.training.progress import RichReporter
    from fermbench.zoo import MODEL_NAMES

    run_id = argv[argv.index("--run-id") + 1]
    model = run_id.split("-")[0]  # `train` names runs <model>-<time>
    assert model in MODEL_NAMES, f"run id {run_id} does not start with a model name"
    epoch_line = RichReporter.epoch

    def epoch_then_ctrl_c(self, row):
        epoch_line(self, row)
        raise KeyboardInterrupt  # Ctrl-C right after the first epoch is stored

    with monkeypatch.context() as mp:
        mp.setattr(RichReporter, "epoch", epoch_then_ctrl_c)
        result = cli(
            ["train", "--model", model, "--data", "fer2013.csv", "--epochs", "2", "--run-id", run_id], stage.env
        )
    assert result.exit_code == 130 and "fermbench train --resume" in result.output, explain(result)


def prepare_interrupted_session(stage: Stage, argv: list[str], monkeypatch, base: Base) -> None:
    """The interrupted session, copied into results/ (resuming writes into it); the id names it."""
    shutil.copytree(base.interrupted, stage.cwd / "results" / base.interrupted.name)
    stage.values["session"] = base.interrupted.name


PREPARE = {"interrupted_training": prepare_interrupted_training, "interrupted_session": prepare_interrupted_session}


def substitute(argv: tuple[str, ...], values: dict[str, str], example) -> list[str]:
    out = []
    for word in argv:
        if word in DOC.PLACEHOLDERS:
            word = values[DOC.PLACEHOLDERS[word][0]]
        elif DOC.UNKNOWN_PLACEHOLDER.match(word):
            pytest.fail(
                f"`{example}` ({', '.join(example.sources)}) has the placeholder {word}, which "
                "PLACEHOLDERS in tests/doc_examples.py does not know: add what the test puts there"
            )
        out.append(word)
    return out


def tiny(command: str, argv: list[str]) -> list[str]:
    if "--resume" in argv:
        return []
    pairs = DOC.TINY.get(command, ())
    given = {a.split("=")[0] for a in argv}
    return [w for opt, value in zip(pairs[0::2], pairs[1::2]) if opt not in given for w in (opt, value)]


def needs_adb(command: str, argv: tuple[str, ...]) -> bool:
    if command in NO_ADB:
        return False
    if command == "run":  # a host run never does; nor the resumed session (PREPARE's is a host one)
        devices = {argv[i + 1] for i, w in enumerate(argv[:-1]) if w == "--device"}
        return not ("--resume" in argv or devices == {"host"})
    return True


def check_run(example, command: str, argv: list[str], result: Result, cwd: Path) -> None:
    where = f"`{example}` ({', '.join(example.sources)}), run as `fermbench {' '.join(argv)}`"
    assert result.exit_code == 0, f"{where} exited {result.exit_code}:\n{explain(result)}\n{HOW_TO_FIX}"
    assert "Traceback" not in result.output, f"{where} printed a traceback:\n{result.output[-4000:]}"
    done = DOC.DONE.get(command)
    assert done is None or re.search(done, result.output), (
        f"{where} exited 0 without printing what it does ({done!r}):\n{result.output[-4000:]}"
    )
    if example.stdout_to is not None:
        (cwd / example.stdout_to).write_text(result.stdout)
        assert result.stdout.strip(), f"{where} wrote nothing to {example.stdout_to}"
    if "--charts" in argv:
        charts = cwd / argv[argv.index("--charts") + 1]
        assert sorted(charts.glob("*.png")), f"{where} drew no chart in {charts}"


def serve(argv: list[str], stage: Stage) -> None:
    """Start a serving command, check each simulated phone it announces, stop it with SIGTERM."""
    params = parse_only(argv).params
    env = {**os.environ, **{k: v for k, v in stage.env.items() if v is not None}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fermbench.cli", *argv],
        cwd=stage.cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, proc.kill)  # a hung start must not hang the suite
    watchdog.start()
    try:
        lines = [proc.stdout.readline() for _ in range(2 * params["count"])]
        announced = [line.split()[-1] for line in lines[0::2] if line.strip()]
        wanted = [f"127.0.0.1:{params['port'] + k}" for k in range(params["count"])]
        assert announced == wanted, f"`fermbench {' '.join(argv)}` announced {announced}, not {wanted}:\n{lines}"
        if params["model"]:
            assert all(repr(params["model"]) in line for line in lines[0::2]), lines
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "stopped" in err, f"exit {proc.returncode} after SIGTERM:\n{err}"
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_documented_example(example, base: Base, tmp_path, monkeypatch, request):
    rule = example.rule()
    command = example.command(main)
    if rule.how == DOC.SYNTAX:
        monkeypatch.chdir(fresh_checkout(base, tmp_path))  # files it names exist there
        try:
            parse_only(list(example.argv))
        except click.ClickException as exc:
            pytest.fail(f"`{example}` ({', '.join(example.sources)}) does not parse: {exc.format_message()}")
        return
    stage = Stage(fresh_checkout(base, tmp_path), base.env, {"session": base.sessions[0]})
    monkeypatch.chdir(stage.cwd)
    if rule.how == DOC.SERVE:
        stage.values["free_port"] = str(free_block(parse_only(list(example.argv)).params["count"]))
        argv = substitute(example.argv, stage.values, example)
        return serve(argv if "--port" in argv else [*argv, "--port", stage.values["free_port"]], stage)
    if needs_adb(command, example.argv):
        farm = request.getfixturevalue("phones")
        a, b = farm.servers
        stage.env = {**stage.env, "ANDROID_ADB_SERVER_PORT": str(a.port)}
        stage.values.update(
            phone_a=farm.phones[0].serial,
            server_a=f"127.0.0.1:{a.port}",
            server_b=f"127.0.0.1:{b.port}",
            port_b=str(b.port),
        )
    if rule.prepare is not None:
        PREPARE[rule.prepare](stage, list(example.argv), monkeypatch, base)
    argv = substitute(example.argv, stage.values, example)
    argv += tiny(command, argv) + list(rule.add)
    check_run(example, command, argv, cli(argv, stage.env), stage.cwd)


# -- the collection itself ----------------------------------------------------------------------


def test_every_command_documents_examples_and_they_are_found():
    assert set(HELPS) >= {"fermbench", "fermbench run", "fermbench report", "fermbench runner install"}, sorted(HELPS)
    missing = [path for path, examples in HELPS.items() if not examples]
    assert not missing, f"these commands' --help show no example (README promises one each): {missing}"
    from_help = DOC.unique(HELPS)
    assert len(from_help) >= 30, f"only {len(from_help)} help examples found: is the collector broken?"


def test_the_readme_examples_are_found():
    readme = DOCS.get("README.md", [])
    assert len(readme) >= 2, f"only {len(readme)} fermbench commands found in README.md's code blocks"
    assert all(ex.sources[0].startswith("README.md:") for ex in readme)


def test_the_collector_reads_shell_lines_as_a_shell_would():
    text = "\n".join(
        [
            "Run `fermbench models` (inline code: not a code block).",
            "```bash",
            "# a comment line",
            "python3 -m pip install -e '.[test]' && fermbench run --device auto \\",
            "    --fer-limit 5 && fermbench report --charts out  # trailing comment",
            "$ fermbench report --format csv | head -3",
            "ssh -N -L 15037:127.0.0.1:5037 farm-host; fermbench devices --adb-port 15037",
            "python3 -m fermbench.cli sim --model 'Pixel 8' > sim.log",
            "fermbench report <session-id> --format json>out.json",
            "```",
            "fermbench export  (prose after the block)",
        ]
    )
    found = [(no, args, out) for no, line in DOC.markdown_lines(text) for args, out in DOC.commands_in(line)]
    assert found == [
        (4, ("run", "--device", "auto", "--fer-limit", "5"), None),
        (4, ("report", "--charts", "out"), None),
        (6, ("report", "--format", "csv"), None),
        (7, ("devices", "--adb-port", "15037"), None),
        (8, ("sim", "--model", "Pixel 8"), "sim.log"),
        (9, ("report", "<session-id>", "--format", "json"), "out.json"),
    ]
    helptext = (
        "Intro.\n\n\b\nExamples:\n  fermbench run --device sim   # or host\n  adb devices\n\n"
        "fermbench in prose is no example.\n"
    )
    assert DOC.help_lines(helptext) == ["fermbench run --device sim   # or host"]
    for word in ("SERIAL", "HOST:PORT", "<session-id>"):
        assert DOC.UNKNOWN_PLACEHOLDER.match(word), word
    for word in ("PublicTest", "shallow_cnn", "127.0.0.1:5037", "results.md"):
        assert not DOC.UNKNOWN_PLACEHOLDER.match(word), word


def test_every_policy_entry_is_used_and_names_real_files():
    texts = [ex.text for ex in EXAMPLES]
    for rule in DOC.POLICY[:-1]:
        assert any(re.search(rule.pattern, t) for t in texts), (
            f"no documented example matches {rule.pattern!r}: remove the rule"
        )
        for path in re.findall(r"tests/\S+\.py", rule.reason):
            assert (REPO / path).is_file(), f"the rule for {rule.pattern!r} names {path}, which does not exist"
    words = {w for ex in EXAMPLES for w in ex.argv}
    unused = [p for p in DOC.PLACEHOLDERS if p not in words]
    assert not unused, f"PLACEHOLDERS entries no example uses (remove them): {unused}"
    assert DOC.POLICY[-1].pattern == "" and DOC.POLICY[-1].how == DOC.RUN, "the last rule runs everything else"
