"""One phone, by serial: shell with exit codes and timeouts, verified push/pull, packages, and
`am instrument` streamed as it runs.

    dev = Device("127.0.0.1:15555", adb_port=5037)
    dev.facts().model                                  # "Pixel 7"
    dev.shell(["ls", "-l", path])                       # ShellResult; DeviceCommandError if it fails
    dev.push("models/a.ptl", "/data/local/tmp/fermbench/a.ptl")   # skips an identical file
    run = dev.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=60)   # parsed `am instrument -r`

Commands go to the phone's shell as one string; list arguments are quoted with shlex.quote,
so a file or model name can never become a second command. Retries: a command that never
reached the phone (device offline at open) is retried after the phone comes back, a bounded
number of times; one whose effect is unknown (link broke mid-way) is retried only when the
caller says it is idempotent.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import shlex
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from adbutils import AdbConnection
from adbutils.errors import AdbError

from ..errors import ConfigError
from ..runner.instrument_output import InstrumentRun, parse_instrument_output
from ..threads import Background
from . import command_log, transfer
from .adb import DEFAULT_HOST, DEFAULT_PORT, AdbEndpoint, fix_for, parse_devices_l, translate
from .errors import (
    DeviceCommandError,
    DeviceDisconnected,
    DeviceError,
    DeviceNoPermission,
    DeviceNotFound,
    DeviceOffline,
    DeviceTimeout,
    DeviceUnauthorized,
    DiskFull,
    InstallError,
    InstrumentationCancelled,
    InstrumentationCrashed,
    InstrumentationTimeout,
    RunnerNotInstalled,
    TransferError,
)
from .facts import PROBE, TMP_DIR, DeviceFacts, build_facts, parse_df_available

T = TypeVar("T")
_V2 = struct.Struct("<BI")  # shell_v2 packet header: id, length
_STDOUT, _STDERR, _EXIT = 1, 2, 3
_FAILURE = re.compile(r"Failure \[([A-Z0-9_]+)(?::\s*([^\]]*))?\]")


@dataclass(frozen=True)
class ShellResult:
    command: str
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class PushResult:
    local: Path
    remote: str
    size: int
    digest: str  # of the local file, in `algorithm`
    algorithm: str  # sha256, md5, or "size" where the phone has neither tool
    skipped: bool  # an identical file was already there
    verified: bool
    seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.size / 1e6 / self.seconds if self.seconds > 0 and not self.skipped else 0.0


@dataclass(frozen=True)
class PullResult:
    remote: str
    local: Path
    size: int
    sha256: str
    verified_with: str | None  # sha256, md5, size, or None when not verified
    seconds: float


@dataclass(frozen=True)
class PackageInfo:
    name: str
    version_code: int | None
    version_name: str | None


def join_args(args: Sequence[str]) -> str:
    """One shell command line; every argument quoted, so none can inject a command."""
    return " ".join(shlex.quote(str(a)) for a in args)


class Device:
    """A phone (or emulator, or simulated phone) known to the adb server as `serial`."""

    def __init__(
        self,
        serial: str,
        adb_port: int = DEFAULT_PORT,
        adb_host: str = DEFAULT_HOST,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        retry_wait_s: float = 20.0,
    ):
        if not serial:
            raise ConfigError("no device serial given; pick one from `fermbench devices`")
        self.serial = serial
        self.timeout = timeout  # default for each shell call
        self.retries = retries  # bounded retries for transient transport errors
        self.retry_wait_s = retry_wait_s  # how long one retry waits for the phone to come back
        self._endpoint = AdbEndpoint(adb_host, adb_port)
        self._features: frozenset[str] | None = None
        self._digest_tool: str | None = None  # sha256sum, md5sum, or "" (neither: compare sizes)

    def __repr__(self) -> str:
        return f"Device({self.serial!r}, adb_port={self._endpoint.port})"

    @property
    def server(self) -> str:
        """HOST:PORT of the adb server it is reached through."""
        host = self._endpoint.host
        return f"[{host}]:{self._endpoint.port}" if ":" in host else f"{host}:{self._endpoint.port}"

    # -- state -------------------------------------------------------------------------------

    def state(self) -> str:
        """The server's state for this phone (device, offline, unauthorized, ...); DeviceNotFound if absent."""
        self._endpoint.ensure_server()
        for entry in parse_devices_l(self._endpoint.query("host:devices-l", serial=self.serial)):
            if entry.serial == self.serial:
                return entry.state
        raise translate(AdbError(f"device '{self.serial}' not found"), self.serial, started=False)

    def require_ready(self) -> None:
        """Raise the typed error (with its fix) unless the phone is ready for commands."""
        state = self.state()
        if state == "device":
            return
        if state in ("unauthorized", "authorizing"):
            raise DeviceUnauthorized(f"{state}; {fix_for(state)}", self.serial)
        if state == "offline":
            raise DeviceOffline(f"offline; {fix_for(state)}", self.serial)
        if state == "no permissions":
            raise DeviceNoPermission(f"no permissions; {fix_for(state)}", self.serial)
        raise DeviceError(f"in state '{state}', not ready; {fix_for(state)}", self.serial)

    def wait_ready(self, timeout: float) -> None:
        """Poll until the phone is ready; unauthorized fails at once (waiting will not fix it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.require_ready()
            except (DeviceUnauthorized, DeviceNoPermission):
                raise
            except (DeviceOffline, DeviceNotFound):
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.25)

    def features(self) -> frozenset[str]:
        if self._features is None:
            text = self._query(f"host-serial:{self.serial}:features")
            self._features = frozenset(f for f in text.strip().split(",") if f)
        return self._features

    def facts(self) -> DeviceFacts:
        """Identity and state in one round trip (see fermbench.device.facts)."""
        result = self.shell(PROBE, check=False, retry=True)
        facts = build_facts(self.serial, result.stdout)
        if not facts.model and not facts.abis:
            raise DeviceError(
                f"getprop answered nothing ({result.stderr.strip() or 'empty output'}); is this an Android device?",
                self.serial,
            )
        return facts

    def getprop(self, key: str) -> str:
        return self.shell(["getprop", key], retry=True).stdout.strip()

    def free_bytes(self, path: str = TMP_DIR) -> int | None:
        return parse_df_available(self.shell(["df", "-k", path], retry=True).stdout)

    # -- shell -------------------------------------------------------------------------------

    def shell(
        self, args: str | Sequence[str], timeout: float | None = None, *, check: bool = True, retry: bool = False
    ) -> ShellResult:
        """Run a command in the phone's shell and wait for its exit code.

        args: a list (each item quoted) or one string (used as written: pipes, `;` ...).
        check: raise DeviceCommandError on a non-zero exit. retry: the command is idempotent,
        so it may be repeated if the link breaks mid-way (it is always retried when it never
        reached the phone).
        """
        command = args if isinstance(args, str) else join_args(args)
        timeout = self.timeout if timeout is None else timeout
        t0 = time.monotonic()
        result = self._retrying(lambda: self._run(command, timeout, None), idempotent=retry)
        command_log.finished(self.serial, command, result.exit_code, time.monotonic() - t0)
        if check and result.exit_code != 0:
            raise DeviceCommandError(self.serial, command, result.exit_code, result.stdout, result.stderr)
        return result

    def _run(
        self,
        command: str,
        timeout: float,
        on_output: Callable[[str], None] | None,
        cancel: threading.Event | None = None,
    ) -> ShellResult:
        if "shell_v2" not in self.features():
            return self._run_legacy(command, timeout, on_output)
        deadline = time.monotonic() + timeout
        c = self._open(f"shell,v2,raw:{command}", timeout)
        out, err, buf = bytearray(), bytearray(), bytearray()
        decoders = {
            _STDOUT: codecs.getincrementaldecoder("utf-8")("replace"),
            _STDERR: codecs.getincrementaldecoder("utf-8")("replace"),
        }
        exit_code: int | None = None
        try:
            while exit_code is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError()
                if cancel is not None and cancel.is_set():
                    raise InstrumentationCancelled(
                        f"`{_short(command)}` was stopped by the caller",
                        self.serial,
                        output=out.decode("utf-8", "replace"),
                    )
                # with a cancel event, wake up often enough to notice it
                c.conn.settimeout(remaining if cancel is None else min(remaining, 0.2))
                try:
                    data = c.conn.recv(256 * 1024)
                except TimeoutError:
                    if cancel is not None and time.monotonic() < deadline:
                        continue
                    raise
                if not data:
                    raise EOFError("the stream ended before the exit status")
                buf += data
                while len(buf) >= _V2.size:
                    kind, length = _V2.unpack_from(buf)
                    if len(buf) < _V2.size + length:
                        break
                    payload = bytes(buf[_V2.size : _V2.size + length])
                    del buf[: _V2.size + length]
                    if kind == _EXIT:
                        exit_code = payload[0] if payload else 255
                        break
                    if kind in decoders:
                        (out if kind == _STDOUT else err).extend(payload)
                        if on_output is not None:
                            text = decoders[kind].decode(payload)
                            if text:
                                on_output(text)
        except TimeoutError:
            raise DeviceTimeout(
                f"`{_short(command)}` did not finish within {timeout:g} s and was stopped; "
                "raise the timeout, or check the phone",
                self.serial,
                output=out.decode("utf-8", "replace"),
            ) from None
        except (OSError, EOFError, AdbError) as exc:
            raise translate(
                exc, self.serial, _short(command), started=True, output=out.decode("utf-8", "replace")
            ) from None
        finally:
            _close(c)
        return ShellResult(command, exit_code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def _run_legacy(self, command: str, timeout: float, on_output: Callable[[str], None] | None) -> ShellResult:
        """Phones without shell_v2 (before Android 7): exit code from an echoed marker, stderr merged."""
        marker = "FERMBENCH-EXIT:"
        deadline = time.monotonic() + timeout
        # a child shell, so that an `exit` in the command cannot skip the marker
        c = self._open(f"shell:sh -c {shlex.quote(command)}; echo {marker}$?", timeout)
        data = bytearray()
        try:
            while True:
                c.conn.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = c.conn.recv(256 * 1024)
                if not chunk:
                    break
                data += chunk
                if on_output is not None:
                    on_output(chunk.decode("utf-8", "replace"))
        except TimeoutError:
            raise DeviceTimeout(
                f"`{_short(command)}` did not finish within {timeout:g} s and was stopped",
                self.serial,
                output=data.decode("utf-8", "replace"),
            ) from None
        except OSError as exc:
            raise translate(exc, self.serial, _short(command), started=True) from None
        finally:
            _close(c)
        text = data.decode("utf-8", "replace")
        head, sep, tail = text.rpartition(marker)
        if not sep:
            raise DeviceDisconnected(f"`{_short(command)}` ended without its exit status", self.serial, output=text)
        return ShellResult(command, int(tail.strip() or 255), head, "")

    # -- files -------------------------------------------------------------------------------

    def push(
        self,
        local: str | os.PathLike[str],
        remote: str,
        verify: bool = True,
        mode: int = 0o644,
        timeout: float | None = None,
    ) -> PushResult:
        """Copy a file to the phone, readable by apps (mode 644), its parent folders made.

        verify: compare sha256 (or md5, or the size, whichever the phone offers) after the copy,
        and skip the copy when an identical file is already there.
        """
        src = Path(local)
        if not src.is_file():
            raise ConfigError(f"cannot push {src}: no such file")
        return self._retrying(lambda: self._push_once(src, remote, verify, mode, timeout), idempotent=True)

    def _push_once(self, src: Path, remote: str, verify: bool, mode: int, timeout: float | None) -> PushResult:
        t0 = time.perf_counter()
        size = src.stat().st_size
        parent = posixpath.dirname(remote) or "/"
        # Folders we make under /data/local/tmp must be searchable by apps (o+x), whatever the
        # shell's umask: an app that cannot traverse the folder cannot read the model in it.
        dirs = _dirs_below(TMP_DIR, parent)
        chmod = f" && chmod 755 {join_args(dirs)}" if dirs else ""
        prep = self.shell(
            f"mkdir -p {shlex.quote(parent)}{chmod} && df -k {shlex.quote(parent)}", check=False, retry=True
        )
        if prep.exit_code != 0:
            raise TransferError(
                f"cannot make {parent} on the phone: {(prep.stderr or prep.stdout).strip()}; "
                "choose a writable folder such as /data/local/tmp",
                self.serial,
            )
        existing = self.stat(remote)
        if existing is not None and existing.is_dir:
            raise TransferError(f"cannot push to {remote}: it is a folder on the phone", self.serial)
        if verify and existing is not None and existing.size == size:
            # the local hash while the phone hashes its copy
            local_sha = Background(lambda: transfer.local_digest(src, "sha256"), "fermbench-hash")
            algorithm, remote_digest = self._remote_digest(remote)
            local_digest = {"sha256": local_sha.result(), "size": str(size)}.get(algorithm) or transfer.local_digest(
                src, algorithm
            )
            if remote_digest == local_digest:
                return PushResult(src, remote, size, local_digest, algorithm, True, True, time.perf_counter() - t0)
        room = parse_df_available(prep.stdout)
        if room is not None and size > room + (existing.size if existing else 0):
            raise DiskFull(
                f"no room for {src.name} ({size / 1e6:.1f} MB) in {parent}: {room / 1e6:.1f} MB "
                "free; delete files on the phone (e.g. old models under /data/local/tmp)",
                self.serial,
            )

        # Hash the local file on another thread while it is sent (hashlib releases the GIL),
        # so that verification costs no time on the wire.
        local_hash = Background(lambda: transfer.local_digest(src, "sha256"), "fermbench-hash") if verify else None
        c = self._open("sync:", timeout or self.timeout, f"push {src} -> {remote}")
        try:
            with open(src, "rb") as fh:
                transfer.send(c, fh, remote, mode)
            transfer.quit_(c)
        except transfer.SyncFailure as exc:
            reason = str(exc)
            if "space" in reason.lower():
                raise DiskFull(
                    f"phone ran out of space pushing {src.name} to {remote} ({reason}); delete files on the phone",
                    self.serial,
                ) from None
            raise TransferError(f"push of {src.name} to {remote} failed: {reason}", self.serial) from None
        except (OSError, EOFError, AdbError) as exc:
            raise translate(exc, self.serial, f"push {src.name} -> {remote}", started=True) from None
        finally:
            _close(c)
        # apps read models from here: make sure the mode survived the phone's umask
        self.shell(["chmod", f"{mode:o}", remote], retry=True)
        if local_hash is None:
            return PushResult(src, remote, size, "", "none", False, False, time.perf_counter() - t0)
        algorithm, remote_digest = self._remote_digest(remote)
        digest = {"sha256": local_hash.result(), "size": str(size)}.get(algorithm) or transfer.local_digest(
            src, algorithm
        )
        if remote_digest != digest:
            self.shell(["rm", "-f", remote], check=False, retry=True)
            raise TransferError(
                f"the phone's copy of {src.name} at {remote} differs ({algorithm} "
                f"{remote_digest} != {digest}); it was removed, push again",
                self.serial,
            )
        return PushResult(src, remote, size, digest, algorithm, False, True, time.perf_counter() - t0)

    def pull(
        self, remote: str, local: str | os.PathLike[str], verify: bool = True, timeout: float | None = None
    ) -> PullResult:
        """Copy a file from the phone; written atomically, verified against the phone's digest."""
        return self._retrying(lambda: self._pull_once(remote, Path(local), verify, timeout), idempotent=True)

    def _pull_once(self, remote: str, dst: Path, verify: bool, timeout: float | None) -> PullResult:
        t0 = time.perf_counter()
        dst.parent.mkdir(parents=True, exist_ok=True)
        # the phone hashes its copy while sending it
        theirs = Background(lambda: self._remote_digest(remote), "fermbench-hash") if verify else None
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
        try:
            c = self._open("sync:", timeout or self.timeout, f"pull {remote} -> {dst}")
            try:
                with os.fdopen(fd, "wb") as fh:
                    size, sha = transfer.recv(c, remote, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                transfer.quit_(c)
            except transfer.SyncFailure as exc:
                raise TransferError(f"cannot pull {remote}: {exc}", self.serial) from None
            except (OSError, EOFError, AdbError) as exc:
                raise translate(exc, self.serial, f"pull {remote}", started=True) from None
            finally:
                _close(c)
            verified_with = None
            if theirs is not None:
                algorithm, remote_digest = theirs.result()  # (str, str)
                mine = {"sha256": sha, "size": str(size)}.get(algorithm) or transfer.local_digest(Path(tmp), algorithm)
                if remote_digest != mine:
                    raise TransferError(
                        f"the copy of {remote} differs from the phone's ({algorithm} {mine} != "
                        f"{remote_digest}); pull again",
                        self.serial,
                    )
                verified_with = algorithm
            os.replace(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return PullResult(remote, dst, size, sha, verified_with, time.perf_counter() - t0)

    def stat(self, remote: str) -> transfer.RemoteStat | None:
        """Mode, size and mtime of a path on the phone, or None when nothing is there."""

        def once() -> transfer.RemoteStat | None:
            c = self._open("sync:", self.timeout, f"stat {remote}")
            try:
                st = transfer.stat(c, remote)
                transfer.quit_(c)
                return st
            except (OSError, EOFError, AdbError, transfer.SyncFailure) as exc:
                raise translate(exc, self.serial, f"stat {remote}", started=True) from None
            finally:
                _close(c)

        return self._retrying(once, idempotent=True)

    def _remote_digest(self, remote: str) -> tuple[str, str]:
        """(algorithm, hex digest) of a file on the phone, with whichever tool it has."""
        tools = [self._digest_tool] if self._digest_tool is not None else ["sha256sum", "md5sum", ""]
        for tool in tools:
            if tool == "":
                st = self.stat(remote)
                if st is None:
                    raise TransferError(f"{remote} is not on the phone", self.serial)
                self._digest_tool = ""
                return "size", str(st.size)
            r = self.shell([tool, remote], check=False, retry=True)
            if r.exit_code == 127:
                continue  # no such tool on this phone: try the next
            self._digest_tool = tool
            if r.exit_code != 0:
                raise DeviceCommandError(self.serial, r.command, r.exit_code, r.stdout, r.stderr)
            return tool.removesuffix("sum"), r.stdout.split()[0].lower() if r.stdout.split() else ""
        raise TransferError("cannot verify files: no sha256sum or md5sum on the phone", self.serial)

    # -- packages ----------------------------------------------------------------------------

    def install(self, apk: str | os.PathLike[str], timeout: float = 180.0) -> str:
        """Install (or replace) an APK; returns the package manager's answer ("Success")."""
        src = Path(apk)
        if not src.is_file():
            raise ConfigError(f"cannot install {src}: no such file")
        size = src.stat().st_size
        if "cmd" in self.features():
            output = self._retrying(lambda: self._install_streamed(src, size, timeout), idempotent=False)
        else:  # older phones: push, then `pm install` the pushed copy
            remote = f"{TMP_DIR}/fermbench-install-{src.name}"
            self.push(src, remote, verify=True)
            try:
                output = self.shell(["pm", "install", "-r", "-t", remote], timeout, check=False).stdout
            finally:
                self.shell(["rm", "-f", remote], check=False, retry=True)
        if "Success" in output:
            return "Success"
        m = _FAILURE.search(output)
        code = m.group(1) if m else "unknown"
        detail = f"{code}: {m.group(2)}" if m and m.group(2) else code if m else (output.strip() or "no answer")
        if code == "INSTALL_FAILED_INSUFFICIENT_STORAGE":
            raise DiskFull(f"no room to install {src.name}; delete files or apps on the phone", self.serial)
        raise InstallError(f"installing {src.name} failed: {detail}", self.serial, code)

    def _install_streamed(self, src: Path, size: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        c = self._open(f"exec:cmd package install -r -t -S {size}", timeout, f"< {src}")
        out = bytearray()
        try:
            with open(src, "rb") as fh:
                while chunk := fh.read(transfer.SYNC_DATA_MAX):
                    c.conn.sendall(chunk)
            while True:
                c.conn.settimeout(max(0.01, deadline - time.monotonic()))
                data = c.conn.recv(65536)
                if not data:
                    break
                out += data
        except TimeoutError:
            raise DeviceTimeout(f"installing {src.name} did not finish within {timeout:g} s", self.serial) from None
        except (OSError, EOFError, AdbError) as exc:
            raise translate(exc, self.serial, f"install {src.name}", started=True) from None
        finally:
            _close(c)
        return out.decode("utf-8", "replace")

    def uninstall(self, package: str) -> bool:
        """Remove a package; False when it was not installed."""
        r = self.shell(["pm", "uninstall", package], check=False)
        if "Success" in r.stdout:
            return True
        if self.package_info(package) is None:
            return False
        m = _FAILURE.search(r.stdout + r.stderr)
        raise InstallError(
            f"uninstalling {package} failed: {m.group(0) if m else (r.stderr or r.stdout).strip()}",
            self.serial,
            m.group(1) if m else "unknown",
        )

    def package_info(self, package: str) -> PackageInfo | None:
        """Version of an installed package (from `dumpsys package`), or None."""
        text = self.shell(["dumpsys", "package", package], check=False, retry=True).stdout
        start = text.find(f"Package [{package}]")
        if start < 0:
            return None
        block = text[start:]
        nxt = block.find("\n  Package [", 1)
        block = block if nxt < 0 else block[:nxt]
        code = re.search(r"versionCode=(\d+)", block)
        name = re.search(r"versionName=(\S*)", block)
        return PackageInfo(package, int(code.group(1)) if code else None, name.group(1) if name else None)

    def package_version(self, package: str) -> str | None:
        """versionName of an installed package, or None when it is not installed."""
        info = self.package_info(package)
        return None if info is None else (info.version_name or (str(info.version_code) if info.version_code else ""))

    # -- instrumentation ---------------------------------------------------------------------

    def instrument(
        self,
        component: str,
        extras: dict[str, str],
        timeout: float,
        on_output: Callable[[str], None] | None = None,
        *,
        raise_on_crash: bool = True,
        cancel: threading.Event | None = None,
    ) -> InstrumentRun:
        """`am instrument -w -r -e k v ... component`, parsed; `.text` is what it printed (stdout and
        stderr as they came).

        on_output receives each piece of text as it arrives. A run that outlives `timeout` is
        stopped (its stream closed) and raises InstrumentationTimeout; a crashed runner process
        raises InstrumentationCrashed (unless raise_on_crash=False); a missing runner raises
        RunnerNotInstalled; `cancel`, once set, ends the run with InstrumentationCancelled. All are
        DeviceErrors and RunnerErrors, and carry `.output`.
        """
        args = ["am", "instrument", "-w", "-r"]
        for key, value in extras.items():
            args += ["-e", str(key), str(value)]
        args.append(component)
        command = join_args(args)
        chunks: list[str] = []

        def emit(text: str) -> None:
            chunks.append(text)
            if on_output is not None:
                on_output(text)

        t0 = time.monotonic()
        try:
            result = self._retrying(lambda: self._run(command, timeout, emit, cancel), idempotent=False)
        except DeviceTimeout:
            raise InstrumentationTimeout(
                f"`am instrument` of {component} did not finish within {timeout:g} s and was stopped "
                "(runner hung?); raise the timeout or read `adb logcat -d`",
                self.serial,
                output="".join(chunks),
            ) from None
        except DeviceDisconnected as exc:
            exc.output = "".join(chunks)
            raise
        command_log.finished(self.serial, command, result.exit_code, time.monotonic() - t0)
        text = "".join(chunks)
        run = parse_instrument_output(text)
        if run.not_installed or "Unable to find instrumentation info" in text:
            raise RunnerNotInstalled(
                f"no instrumentation {component} on the phone; install the runner APK first", self.serial, output=text
            )
        if raise_on_crash and run.crashed:
            raise InstrumentationCrashed(
                f"the runner process crashed ({run.crash_message}) during `am instrument` "
                f"of {component}; see `adb -s {self.serial} logcat -d -s AndroidRuntime`",
                self.serial,
                output=text,
            )
        if result.exit_code != 0 and "INSTRUMENTATION_" not in text:
            raise DeviceCommandError(self.serial, command, result.exit_code, result.stdout, result.stderr)
        return run

    # -- plumbing ----------------------------------------------------------------------------

    def _query(self, service: str) -> str:
        try:
            return self._endpoint.query(service, timeout=self.timeout, serial=self.serial)
        except AdbError as exc:
            raise translate(exc, self.serial, started=False) from None

    def _open(self, service: str, timeout: float | None, what: str = "") -> AdbConnection:
        """A stream to `service` on this phone (`what` it is for, in the log). Errors before the
        service opened mean the command never ran: they come back with started=False, so that
        they may be retried."""
        command_log.command(self.serial, f"{service} {what}" if what else service)
        c = self._endpoint.connect(timeout)
        try:
            c.send_command(f"host:transport:{self.serial}")
            c.check_okay()
            c.send_command(service)
            c.check_okay()
        except BaseException as exc:
            _close(c)
            if isinstance(exc, (AdbError, OSError, EOFError)):
                raise translate(exc, self.serial, _short(service), started=False) from None
            raise
        return c

    def _retrying(self, fn: Callable[[], T], idempotent: bool) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except DeviceOffline as exc:
                if attempt >= self.retries or (exc.started and not idempotent):
                    raise
                attempt += 1
                try:
                    self.wait_ready(self.retry_wait_s)
                except (DeviceUnauthorized, DeviceNoPermission):
                    raise  # it came back, but locked: that is the news
                except DeviceError:
                    raise exc from None


def _dirs_below(base: str, path: str) -> list[str]:
    """The folders from just below `base` down to `path` ([] when path is not under base)."""
    base, path = posixpath.normpath(base), posixpath.normpath(path)
    if not path.startswith(base + "/"):
        return []
    parts = path[len(base) + 1 :].split("/")
    return [posixpath.join(base, *parts[: i + 1]) for i in range(len(parts))]


def _short(command: str, limit: int = 120) -> str:
    return command if len(command) <= limit else command[: limit - 3] + "..."


def _close(c: AdbConnection) -> None:
    # Close the socket directly: AdbConnection.close() sleeps 10 ms per call.
    try:
        c.conn.close()
    except (AdbError, OSError):
        pass
