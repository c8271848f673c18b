"""The phone's log buffers: what logd keeps in memory and `logcat` reads.

Entries are kept structured (time, pid, tid, uid, priority, tag, message, buffer) so that
`logcat` can print them in any of its formats. Like logd's, the buffers live in memory only:
a reboot empties them. Readers that follow the log (`logcat` without -d) wait on `wait()`.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

PRIORITIES = "VDIWEF"  # verbose .. fatal, in increasing order (S, silent, only filters)
BUFFERS = ("main", "radio", "events", "system", "crash", "stats", "security", "kernel")
DEFAULT_BUFFERS = ("main", "system", "crash")  # what logcat reads without -b

# Who writes what: (pid, uid) of the simulated system's processes.
SYSTEM_SERVER = (1503, 1000)
INIT = (1, 0)

MAX_PAYLOAD = 4068  # logd's largest message; longer ones are cut, as liblog cuts them


@dataclass(frozen=True)
class LogEntry:
    seq: int  # order of arrival, for followers
    time: float
    pid: int
    tid: int
    uid: int
    priority: str  # one of PRIORITIES
    tag: str
    message: str
    buffer: str


class LogBuffer:
    """All buffers of one phone, as one ring of `capacity` entries."""

    def __init__(self, capacity: int = 5000):
        self._entries: collections.deque[LogEntry] = collections.deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition()

    def write(
        self,
        priority: str,
        tag: str,
        message: str,
        *,
        buffer: str = "main",
        pid: int = SYSTEM_SERVER[0],
        uid: int = SYSTEM_SERVER[1],
        tid: int | None = None,
    ) -> None:
        if priority not in PRIORITIES:
            raise ValueError(f"log priority {priority!r} is not one of {PRIORITIES}")
        if buffer not in BUFFERS:
            raise ValueError(f"log buffer {buffer!r} is not one of {BUFFERS}")
        with self._cond:
            self._seq += 1
            self._entries.append(
                LogEntry(
                    self._seq,
                    time.time(),
                    pid,
                    pid if tid is None else tid,
                    uid,
                    priority,
                    tag,
                    message[:MAX_PAYLOAD],
                    buffer,
                )
            )
            self._cond.notify_all()

    def entries(self, buffers: tuple[str, ...] | frozenset[str], after: int = 0) -> list[LogEntry]:
        """Entries of these buffers newer than sequence number `after`, oldest first."""
        with self._cond:
            return [e for e in self._entries if e.seq > after and e.buffer in buffers]

    def clear(self, buffers: tuple[str, ...] | frozenset[str]) -> None:
        with self._cond:
            kept = [e for e in self._entries if e.buffer not in buffers]
            self._entries.clear()
            self._entries.extend(kept)

    def last_seq(self) -> int:
        with self._cond:
            return self._seq

    def wait(self, after: int, timeout: float) -> bool:
        """Block until an entry newer than `after` arrives (True) or `timeout` passes."""
        with self._cond:
            return self._cond.wait_for(lambda: self._seq > after, timeout)

    def size_bytes(self, buffer: str) -> int:
        """Bytes the buffer's entries take, as logd counts them (header + tag + message)."""
        with self._cond:
            return sum(28 + len(e.tag) + len(e.message) + 2 for e in self._entries if e.buffer == buffer)
