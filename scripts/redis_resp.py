"""A minimal RESP3 client for the scripts that read a real redis-server (no dependencies).

Replies come back as Python values: maps as dicts (keys in the server's order), sets and arrays
as lists, errors as RespError.
"""
import socket


class RespError(Exception):
    pass


class Connection:
    def __init__(self, port, host="127.0.0.1"):
        self._sock = socket.create_connection((host, port), timeout=10)
        self._buf = b""
        self.call("HELLO", "3")

    def call(self, *args):
        self._send(args)
        reply = self._read()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def call_raw(self, *args):
        """The reply's bytes as the server sent them."""
        self._send(args)
        while True:
            end = value_end(self._buf, 0)
            if end is not None:
                raw, self._buf = self._buf[:end], self._buf[end:]
                return raw
            self._fill(len(self._buf) + 1)

    def _send(self, args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode() if isinstance(arg, str) else arg
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self._sock.sendall(b"".join(out))

    def _fill(self, n):
        while len(self._buf) < n:
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self._buf += chunk

    def _line(self):
        while b"\r\n" not in self._buf:
            self._fill(len(self._buf) + 1)
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = chr(line[0]), line[1:].decode()
        if kind == "+":
            return rest
        if kind == "-":
            return RespError(rest)
        if kind == ":":
            return int(rest)
        if kind == "_":
            return None
        if kind in "$=":
            n = int(rest)
            if n < 0:
                return None
            self._fill(n + 2)
            data, self._buf = self._buf[:n], self._buf[n + 2:]
            return data.decode()
        if kind in "*~>":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        if kind == "%":
            return {self._read(): self._read() for _ in range(int(rest))}
        raise ValueError("unexpected RESP type " + kind)


def value_end(data, pos):
    """Where the RESP value starting at data[pos] ends; None when data ends first."""
    eol = data.find(b"\r\n", pos)
    if eol < 0:
        return None
    kind, rest = chr(data[pos]), data[pos + 1:eol]
    pos = eol + 2
    if kind in "$=!":
        n = int(rest)
        if n < 0:
            return pos
        return pos + n + 2 if len(data) >= pos + n + 2 else None
    if kind in "*~>%|":
        n = int(rest)
        for _ in range(max(n, 0) * (2 if kind in "%|" else 1)):
            pos = value_end(data, pos)
            if pos is None:
                return None
        return pos
    return pos


def map_entries(data):
    """The (key, raw value) entries of the RESP3 map `data`."""
    assert data[:1] == b"%", data[:20]
    eol = data.index(b"\r\n")
    pos = eol + 2
    entries = []
    for _ in range(int(data[1:eol])):
        key_end = value_end(data, pos)
        key_raw = data[pos:key_end]
        end = value_end(data, key_end)
        key = key_raw.split(b"\r\n")[1].decode()  # a bulk string key
        entries.append((key, data[key_end:end]))
        pos = end
    return entries
