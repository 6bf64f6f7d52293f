#!/usr/bin/env python3
"""Prints the metadata fields of command table rows (server/command.h) for Redis commands, as a
real redis-server 7.0 declares them (COMMAND INFO): .flags, .acl (the categories the flags do not
imply), .keys (key specs) and .tips. A new command's row starts from this output; the differential
test (tests/integration/test_command_meta.cc) then checks the row answers COMMAND INFO as Redis.

    redis-server --port 7777 --daemonize yes --save ''
    scripts/command_row.py --port 7777 hset hget 'client|kill'

With --update, rewrites those fields in place on every row of the given files that names a Redis
command (a subcommand's container is read off its table's name: kClientSubcommands -> client),
keeping the rest of each row: dynakv's own flags (kCmdOwnReplication, kCmdLevelOption,
kCmdRefusedOnLogFailure, kCmdClusterCounter, kCmdClusterConvergent, kCmdClusterOnPrimary, kCmdClusterWide), .getkeys, .blind,
.conditional, .handler, .subcommands. Then check the diff.

    scripts/command_row.py --port 7777 --update server/cmd_hash.cc
"""
import argparse
import re
import sys

from redis_resp import Connection

FLAGS = {
    "write": "kCmdWrite", "readonly": "kCmdReadOnly", "denyoom": "kCmdDenyOom",
    "admin": "kCmdAdmin", "pubsub": "kCmdPubSub", "noscript": "kCmdNoScript",
    "blocking": "kCmdBlocking", "loading": "kCmdLoading", "stale": "kCmdStale",
    "skip_monitor": "kCmdSkipMonitor", "skip_slowlog": "kCmdSkipSlowlog",
    "asking": "kCmdAsking", "fast": "kCmdFast", "no_auth": "kCmdNoAuth",
    "no_mandatory_keys": "kCmdNoMandatoryKeys", "no_async_loading": "kCmdNoAsyncLoading",
    "no_multi": "kCmdNoMulti", "allow_busy": "kCmdAllowBusy",
    "movablekeys": None,  # derived from the key specs
}
CATEGORIES = {
    "keyspace": "kAclKeyspace", "read": "kAclRead", "write": "kAclWrite", "set": "kAclSet",
    "sortedset": "kAclSortedSet", "list": "kAclList", "hash": "kAclHash",
    "string": "kAclString", "bitmap": "kAclBitmap", "hyperloglog": "kAclHyperLogLog",
    "geo": "kAclGeo", "stream": "kAclStream", "pubsub": "kAclPubSub", "admin": "kAclAdmin",
    "fast": "kAclFast", "slow": "kAclSlow", "blocking": "kAclBlocking",
    "dangerous": "kAclDangerous", "connection": "kAclConnection",
    "transaction": "kAclTransaction", "scripting": "kAclScripting",
}
KEY_FLAGS = {
    "RO": "kKeyRO", "RW": "kKeyRW", "OW": "kKeyOW", "RM": "kKeyRM", "access": "kKeyAccess",
    "update": "kKeyUpdate", "insert": "kKeyInsert", "delete": "kKeyDelete",
    "not_key": "kKeyNotKey", "incomplete": "kKeyIncomplete",
    "variable_flags": "kKeyVariableFlags",
}


def implied_categories(flags, explicit):
    """Redis's setImplicitACLCategories."""
    implied = set()
    if "write" in flags:
        implied.add("write")
    if "readonly" in flags and "scripting" not in explicit:
        implied.add("read")
    if "admin" in flags:
        implied |= {"admin", "dangerous"}
    if "pubsub" in flags:
        implied.add("pubsub")
    if "fast" in flags:
        implied.add("fast")
    if "blocking" in flags:
        implied.add("blocking")
    return implied


def cpp_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key_spec(spec):
    flags = " | ".join(KEY_FLAGS[f] for f in spec["flags"]) or "0"
    begin, find = spec["begin_search"], spec["find_keys"]
    notes = [cpp_string(spec["notes"])] if "notes" in spec else []
    if begin["type"] == "unknown" and find["type"] == "unknown":
        return "UnknownKeys(%s)" % ", ".join([flags] + notes)
    if begin["type"] == "index":
        head = [str(begin["spec"]["index"])]
        prefix = "Index"
    elif begin["type"] == "keyword":
        head = [cpp_string(begin["spec"]["keyword"]), str(begin["spec"]["startfrom"])]
        prefix = "Keyword"
    else:
        raise ValueError("begin_search %s" % begin)
    fk = find["spec"]
    if find["type"] == "range":
        if prefix == "Index" and (fk["lastkey"], fk["keystep"], fk["limit"]) == (0, 1, 0):
            return "KeyAt(%s)" % ", ".join(head + [flags] + notes)
        args = [str(fk["lastkey"]), str(fk["keystep"]), str(fk["limit"])]
        return "%sRange(%s)" % (prefix, ", ".join(head + args + [flags] + notes))
    if find["type"] == "keynum":
        args = [str(fk["keynumidx"]), str(fk["firstkey"]), str(fk["keystep"])]
        return "%sKeynum(%s)" % (prefix, ", ".join(head + args + [flags] + notes))
    raise ValueError("find_keys %s" % find)


def row_fields(info):
    """The row fields (name -> C++ expression) of one COMMAND INFO entry."""
    name, arity, flags, _, _, _, categories, tips, specs = info[:9]
    categories = [c.lstrip("@") for c in categories]
    explicit = [c for c in categories if c not in implied_categories(flags, categories)]
    if "slow" in explicit and "fast" not in categories:
        explicit.remove("slow")
    fields = {"arity": str(arity)}
    cpp_flags = [FLAGS[f] for f in flags if FLAGS[f]]
    if cpp_flags:
        fields["flags"] = " | ".join(cpp_flags)
    if explicit:
        fields["acl"] = " | ".join(CATEGORIES[c] for c in explicit)
    if specs:
        fields["keys"] = "{" + ", ".join(key_spec(s) for s in specs) + "}"
    if tips:
        fields["tips"] = cpp_string(" ".join(tips))
    return fields


ORDER = ["name", "arity", "flags", "acl", "keys", "tips", "getkeys", "blind", "conditional", "handler",
         "subcommands"]
OWN_FLAGS = {"kCmdOwnReplication", "kOwn", "kCmdLevelOption", "kCmdRefusedOnLogFailure",
             "kCmdClusterCounter", "kCmdClusterConvergent", "kCmdClusterOnPrimary", "kCmdClusterWide"}


def split_top_level(text):
    """`text` split at the commas outside brackets and string literals."""
    parts, depth, current, quoted = [], 0, "", False
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        if not quoted:
            depth += 1 if ch in "({[" else -1 if ch in ")}]" else 0
            if ch == "," and depth == 0:
                parts.append(current.strip())
                current = ""
                continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def split_fields(row):
    """The `.field = value` parts of a row's text (between its braces)."""
    fields = {}
    for part in split_top_level(row):
        key, value = part.split("=", 1)
        fields[key.strip().lstrip(".")] = value.strip()
    return fields


def wrap_keys(item):
    """A `.keys = {...}` item too long for its line: one spec a line, under the first; a spec's
    notes on lines of their own under its builder's first argument, split at spaces to fit."""
    if len(item) + 5 <= 100:
        return item
    specs = split_top_level(item[len(".keys = {"):-1])
    lines = []
    for n, spec in enumerate(specs):
        first = ".keys = {" if n == 0 else " " * len(".keys = {")
        end = "}" if n == len(specs) - 1 else ","
        if len(first + spec + end) + 5 <= 100 or ', "' not in spec:
            lines.append(first + spec + end)
            continue
        indent = " " * (len(first) + spec.index("(") + 1)
        head, notes = spec.split(', "', 1)
        notes, tail = notes.rsplit('"', 1)
        lines.append(first + head + ",")
        current = ""
        for word in notes.split(" "):
            candidate = current + (" " if current else "") + word
            if current and 5 + len(indent) + len(candidate) + 3 + len(tail + end) > 100:
                lines.append('%s"%s "' % (indent, current))
                current = word
            else:
                current = candidate
        lines.append('%s"%s"%s%s' % (indent, current, tail, end))
    return ("\n     ").join(lines)


def format_row(fields):
    """The row, wrapped at 100 columns as the tables are (4 spaces, continuation 5)."""
    items = [".%s = %s" % (k, fields[k]) for k in ORDER if k in fields]
    items = [wrap_keys(item) if item.startswith(".keys") else item for item in items]
    lines, current = [], "    {"
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "},")
        multiline = "\n" in piece  # wrapped notes: aligned for a line of its own
        if current != "    {" and (multiline or len(current) + 1 + len(piece) > 100):
            lines.append(current.rstrip())
            current = "     " + piece
        else:
            current += ("" if current.endswith("{") else " ") + piece
    lines.append(current)
    return "\n".join(lines)


def update_file(conn, path):
    text = open(path).read()
    out, pos = [], 0
    for table in re.finditer(r"(?:const|constexpr) CommandSpec (k\w+)\[\] = \{", text):
        sub = re.fullmatch(r"k(\w+)Subcommands", table.group(1))
        container = sub.group(1).lower() if sub else None
        end = text.index("\n};", table.end())
        i = table.end()
        while True:
            start = text.find("{.name", i, end)
            if start < 0:
                break
            depth, j = 0, start
            while True:
                depth += text[j] == "{"
                depth -= text[j] == "}"
                if depth == 0:
                    break
                j += 1
            fields = split_fields(text[start + 1:j])
            name = fields["name"].strip('"')
            full = container + "|" + name if container else name
            info = conn.call("COMMAND", "INFO", full)[0]
            if info is None:
                print("%s: '%s' is not a Redis command: left as it is" % (path, full),
                      file=sys.stderr)
                i = j + 1
                continue
            redis = row_fields(info)
            if redis["arity"] != fields["arity"]:
                sys.exit("%s: '%s' has arity %s, Redis %s" % (path, full, fields["arity"],
                                                               redis["arity"]))
            own = [f.strip() for f in fields.get("flags", "").split("|") if f.strip() in OWN_FLAGS]
            for key in ("flags", "acl", "keys", "tips"):
                fields.pop(key, None)
                if key in redis:
                    fields[key] = redis[key]
            flags = [f for f in fields.get("flags", "").split(" | ") if f] + own
            if flags:
                fields["flags"] = " | ".join(flags)
            line_start = text.rfind("\n", 0, start) + 1
            out.append((line_start, j + 2 if text[j + 1] == "," else j + 1, format_row(fields)))
            i = j + 1
    for start, stop, row in reversed(out):
        text = text[:start] + row + text[stop:]
    open(path, "w").write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=6379, help="redis-server's port")
    parser.add_argument("--update", action="store_true", help="rewrite the rows of FILEs")
    parser.add_argument("names", nargs="+", metavar="NAME|FILE",
                        help="commands ('client|kill' for a subcommand), or files with --update")
    args = parser.parse_args()
    conn = Connection(args.port)
    if args.update:
        for path in args.names:
            update_file(conn, path)
        return
    for name, info in zip(args.names, conn.call("COMMAND", "INFO", *args.names)):
        if info is None:
            print("%s: no such command" % name, file=sys.stderr)
            continue
        fields = row_fields(info)
        body = ", ".join(".%s = %s" % kv for kv in fields.items())
        print('{.name = "%s", %s},' % (info[0].split("|")[-1], body))


if __name__ == "__main__":
    main()
