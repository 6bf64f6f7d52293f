#!/usr/bin/env python3
"""SERIAL MULTI/EXEC latency for bench/serial.sh: CLIENTS connections (threads) to PORT, each
sets its CONSISTENCY, then runs MULTI / SET {t<rand>}:a v / SET {t<rand>}:b v / EXEC as one
pipelined round trip (the four requests sent together, the four replies read), REQUESTS in all.
Prints "ops/s p50_ms p99_ms errors". Raw RESP over a socket: no client library needed.

  serial_multi.py PORT CLIENTS REQUESTS LEVEL
"""
import random
import socket
import sys
import threading
import time


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind = line[:1]
        if kind == b"*":
            n = int(line[1:])
            return [self.reply() for _ in range(max(n, 0))] if n >= 0 else None
        if kind == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        return line  # +OK, :1, -ERR ...


def client(port, count, level, latencies, errors):
    conn = Conn(port)
    conn.sock.sendall(encode("CONSISTENCY", level))
    conn.reply()
    rng = random.Random()
    for _ in range(count):
        tag = "{t%d}" % rng.randrange(100000)
        start = time.perf_counter()
        conn.sock.sendall(encode("MULTI") + encode("SET", tag + ":a", "v") +
                          encode("SET", tag + ":b", "v") + encode("EXEC"))
        replies = [conn.reply() for _ in range(4)]
        latencies.append(time.perf_counter() - start)
        if not isinstance(replies[3], list):
            errors.append(replies[3])


def main():
    port, clients, requests, level = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    latencies, errors = [], []
    per = max(1, requests // clients)
    threads = [threading.Thread(target=client, args=(port, per, level, latencies, errors))
               for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print("%.0f %.3f %.3f %d" % (len(latencies) / elapsed, pick(0.5), pick(0.99), len(errors)))


if __name__ == "__main__":
    main()
