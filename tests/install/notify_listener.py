#!/usr/bin/env python3
"""Plays systemd's side of sd_notify for the install test: binds a NOTIFY_SOCKET, starts the
server under test with it (and WATCHDOG_USEC), and checks the order of its messages: READY=1
only once the client port answers PING, WATCHDOG=1 pings at half the watchdog period, and
STOPPING=1 after SIGTERM, before a clean exit. Usage: notify_listener.py <port> <server argv...>
Exit status 0 when every check passed; the failures are printed."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64) == b"+PONG\r\n"
    except OSError:
        return False


def main():
    port = int(sys.argv[1])
    argv = sys.argv[2:]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            def receive(until, timeout):
                """Messages until one containing `until` (returned last), or None."""
                deadline = time.monotonic() + timeout
                got = []
                while time.monotonic() < deadline:
                    sock.settimeout(max(0.01, deadline - time.monotonic()))
                    try:
                        message = sock.recv(4096).decode()
                    except socket.timeout:
                        break
                    got.append(message)
                    if until in message.split("\n"):
                        return got
                return None

            ready = receive("READY=1", 30)
            if ready is None:
                failures.append("no READY=1 within 30 s")
            else:
                if not ping(port):
                    failures.append("READY=1 came before the client port answered PING")
                if f"MAINPID={proc.pid}" not in ready[-1].split("\n"):
                    failures.append(f"READY=1 without MAINPID={proc.pid}: {ready[-1]!r}")
                if not any(line.startswith("STATUS=") for line in ready[-1].split("\n")):
                    failures.append(f"READY=1 without a STATUS line: {ready[-1]!r}")
            # 400 ms watchdog: a ping every 200 ms, so at least 3 in 1.2 s.
            pings = 0
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    if sock.recv(4096) == b"WATCHDOG=1":
                        pings += 1
                except socket.timeout:
                    break
            if pings < 3:
                failures.append(f"{pings} WATCHDOG=1 pings in 1.2 s, expected at least 3")
            proc.send_signal(signal.SIGTERM)
            if receive("STOPPING=1", 20) is None:
                failures.append("no STOPPING=1 after SIGTERM")
            code = proc.wait(timeout=30)
            if code != 0:
                failures.append(f"exit status {code} after SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for failure in failures:
        print("FAIL: sd_notify: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
