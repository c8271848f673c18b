"""Port forwarding through the phone: the `tcp:PORT` service (`adb forward`) and the
`reverse:` service (`adb reverse`).

The simulated phone's loopback is this host's loopback, so `tcp:PORT` connects to
127.0.0.1:PORT, and a reverse listener listens on 127.0.0.1 only. Replies to `reverse:`
follow adbd's handle_forward_request: "OKAY" (then the port when tcp:0 was asked),
"FAIL" + 4 hex digits of length + message, and for list-forward a length-prefixed listing.
Reverse listeners belong to the connection that asked for them and end with it.
"""

from __future__ import annotations

import socket
import threading

from .transport import Connection, Stream, StreamClosed

HOST = "127.0.0.1"


def connect_local(spec: str) -> socket.socket | None:
    """The phone side of `adb forward`: a connection to `tcp:PORT` (or `tcp:localhost:PORT`)
    on the phone's loopback, or None (the host then sees the service refused)."""
    parts = spec.split(":")
    if len(parts) == 2:
        host, port = HOST, parts[1]
    elif len(parts) == 3 and parts[1] in ("localhost", HOST):
        host, port = HOST, parts[2]
    else:
        return None  # other addresses and socket kinds are not reachable from the simulated phone
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    try:
        return socket.create_connection((host, int(port)), timeout=5)
    except OSError:
        return None


def pump(sock: socket.socket, stream: Stream) -> None:
    """Copy bytes both ways between a TCP socket and an adb stream until either side ends."""
    sock.settimeout(None)

    def to_stream() -> None:
        try:
            while True:
                data = sock.recv(64 * 1024)
                if not data:
                    break
                stream.write(data)
        except (OSError, StreamClosed):
            pass
        finally:
            stream.close()

    reader = threading.Thread(target=to_stream, name=f"{stream.conn.name}-fwd{stream.local_id}", daemon=True)
    reader.start()
    try:
        while True:
            data = stream.read()
            if not data:
                break
            sock.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        reader.join(timeout=5)


class _Listener:
    """One `adb reverse` listener: each connection to it becomes a stream to the host."""

    def __init__(self, conn: Connection, local: str, remote: str, sock: socket.socket):
        self.conn, self.local, self.remote, self.sock = conn, local, remote, sock
        self._thread = threading.Thread(target=self._accept, name=f"{conn.name}-reverse", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            stream = self.conn.open_stream(self.remote)
        except StreamClosed:
            client.close()
            return
        pump(client, stream)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(timeout=5)


class ReverseForwards:
    """The reverse listeners of one phone, per adb connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_conn: dict[Connection, dict[str, _Listener]] = {}

    def serve(self, stream: Stream, request: str) -> None:
        """The `reverse:REQUEST` service."""
        reply = self._handle(stream.conn, request)
        stream.write(reply)

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._by_conn)
        for conn in conns:
            self._drop(conn)

    def _table(self, conn: Connection) -> dict[str, _Listener]:
        with self._lock:
            if conn not in self._by_conn:
                self._by_conn[conn] = {}
                conn.at_close(lambda: self._drop(conn))
            return self._by_conn[conn]

    def _drop(self, conn: Connection) -> None:
        with self._lock:
            table = self._by_conn.pop(conn, {})
        for listener in table.values():
            listener.close()

    def _handle(self, conn: Connection, request: str) -> bytes:
        table = self._table(conn)
        if request == "list-forward":
            with self._lock:
                text = "".join(f"(reverse) {lis.local} {lis.remote}\n" for lis in table.values())
            return _protocol_string(text)
        if request == "killforward-all":
            with self._lock:
                doomed = list(table.values())
                table.clear()
            for each in doomed:
                each.close()
            return b"OKAY"
        if request.startswith("killforward:"):
            local = request[len("killforward:") :]
            with self._lock:
                listener = table.get(local)
                if listener is not None:
                    del table[local]
            if listener is None:
                return _fail(f"listener '{local}' not found")
            listener.close()
            return b"OKAY"
        if request.startswith("forward:"):
            return self._forward(conn, table, request[len("forward:") :])
        return _fail("not a reverse forwarding command")

    def _forward(self, conn: Connection, table: dict[str, _Listener], spec: str) -> bytes:
        norebind = spec.startswith("norebind:")
        spec = spec.removeprefix("norebind:")
        pieces = spec.split(";")
        if len(pieces) != 2 or not pieces[0] or not pieces[1] or pieces[1].startswith("*"):
            return _fail(f"bad forward: {spec}")
        local, remote = pieces
        with self._lock:
            existing = table.get(local)
            if existing is not None:
                if norebind:
                    return _fail("cannot rebind existing socket")
                existing.remote = remote  # rebinding keeps the socket, points it elsewhere
                return b"OKAY"
        kind, _, port = local.partition(":")
        if kind != "tcp" or not port.isdigit() or int(port) > 65535:
            return _fail(f"cannot bind listener: the fermbench phone listens only on tcp:PORT, not '{local}'")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, int(port)))
            sock.listen(8)
        except OSError as exc:
            sock.close()
            return _fail(f"cannot bind listener: {exc.strerror or exc}")
        bound = sock.getsockname()[1]
        name = f"tcp:{bound}"
        with self._lock:
            table[name] = _Listener(conn, name, remote, sock)
        return b"OKAY" + (_protocol_string(str(bound)) if int(port) == 0 else b"")


def _protocol_string(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):04x}".encode() + data


def _fail(message: str) -> bytes:
    return b"FAIL" + _protocol_string(message)
