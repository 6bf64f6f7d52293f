#!/usr/bin/env python3
"""Regenerates server/command_docs_table.cc: the COMMAND DOCS entry of every command and
subcommand dynakv implements, from a real redis-server 7.0's COMMAND DOCS (byte for byte, RESP3)
or, for those Redis lacks, from scripts/command_docs_dynakv.json (in COMMAND DOCS's shape).

Starts both servers on free loopback ports (a freshly built dynakv-server lists the rows) and
stops them when done:

    cmake --build build --target dynakv-server
    scripts/gen_command_docs.py [--redis-server PATH] [--dynakv-server PATH]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from redis_resp import Connection, map_entries

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "server", "command_docs_table.cc")
OWN_DOCS = os.path.join(ROOT, "scripts", "command_docs_dynakv.json")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv, port):
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            return process, Connection(port)
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("%s did not start" % argv[0])


def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def encode(key, value):
    """A field of a command's or argument's documentation, typed as Redis 7.0 sends it."""
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, str):
        return bulk(value)
    if key in ("flags", "doc_flags"):
        return b"~%d\r\n" % len(value) + b"".join(b"+%s\r\n" % f.encode() for f in value)
    if key == "history":
        return b"~%d\r\n" % len(value) + b"".join(
            b"*2\r\n" + bulk(version) + bulk(text) for version, text in value)
    if key == "arguments":
        out = b"*%d\r\n" % len(value)
        for arg in value:
            out += b"%%%d\r\n" % len(arg)
            out += b"".join(bulk(k) + encode(k, v) for k, v in arg.items())
        return out
    raise ValueError("cannot encode %s" % key)


def escape(line):
    return line.decode().replace("\\", "\\\\").replace('"', '\\"')


def cpp_literal(raw, indent=9, width=100):
    """A C++ string literal of `raw`, RESP lines packed onto source lines of `width` columns."""
    pieces = []
    lines = raw.split(b"\r\n")[:-1]
    i = 0
    while i < len(lines):
        line = lines[i]
        text = escape(line) + "\\r\\n"
        if line[:1] == b"$" and i + 1 < len(lines):  # a bulk string: its header and payload
            text += escape(lines[i + 1]) + "\\r\\n"
            i += 1
        pieces.append(text)
        i += 1
    out, current = [], ""
    for piece in pieces:
        if current and indent + len(current) + len(piece) + 2 > width:
            out.append('"%s"' % current)
            current = ""
        current += piece
    out.append('"%s"' % current)
    return ("\n" + " " * indent).join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-server", default="redis-server")
    parser.add_argument("--dynakv-server",
                        default=os.path.join(ROOT, "build", "server", "dynakv-server"))
    args = parser.parse_args()
    own_docs = json.load(open(OWN_DOCS))
    with tempfile.TemporaryDirectory() as tmp:
        redis_port, dynakv_port = free_port(), free_port()
        redis, rconn = start([args.redis_server, "--port", str(redis_port), "--save", "",
                              "--appendonly", "no", "--dir", tmp], redis_port)
        dynakv, dconn = start([args.dynakv_server, "--port", str(dynakv_port), "--dir", tmp],
                              dynakv_port)
        try:
            version = rconn.call("HELLO", "3")["version"]
            names = []
            for info in dconn.call("COMMAND"):
                names.append(info[0])
                names.extend(sub[0] for sub in info[9])
            docs = {}
            for name in sorted(names):
                raw = rconn.call_raw("COMMAND", "DOCS", name)
                entries = map_entries(raw)
                if entries:
                    fields = [(k, v) for k, v in map_entries(entries[0][1]) if k != "subcommands"]
                    source = "redis-server " + version
                elif name in own_docs:
                    fields = [(k, encode(k, v)) for k, v in own_docs[name].items()]
                    source = "command_docs_dynakv.json"
                else:
                    sys.exit("no documentation for '%s': add it to %s" % (name, OWN_DOCS))
                docs[name] = (fields, source)
        finally:
            for process in (redis, dynakv):
                process.terminate()
                process.wait(timeout=10)
    out = ["// Generated by scripts/gen_command_docs.py: the COMMAND DOCS entries of dynakv's "
           "commands,",
           "// from redis-server %s's COMMAND DOCS and scripts/command_docs_dynakv.json. "
           "Do not edit." % version,
           "",
           '#include "command_docs.h"',
           "",
           "namespace dynakv::server {",
           "namespace {",
           "",
           "// clang-format off",
           "constexpr CommandDoc kDocs[] = {"]
    for name, (fields, source) in docs.items():
        raw = b"".join(bulk(k) + v for k, v in fields)
        out.append("    // %s" % source)
        out.append('    {"%s", %d,\n         %s},' % (name, len(fields), cpp_literal(raw)))
    out += ["};",
            "// clang-format on",
            "",
            "}  // namespace",
            "",
            "std::span<const CommandDoc> CommandDocTable() { return kDocs; }",
            "",
            "}  // namespace dynakv::server",
            ""]
    with open(OUTPUT, "w") as f:
        f.write("\n".join(out))
    print("wrote %s: %d entries" % (OUTPUT, len(docs)))


if __name__ == "__main__":
    main()
