#!/usr/bin/env python3
"""Prints the metadata fields of command table rows (server/command.h) for Redis commands, as a
real redis-server 7.0 declares them (COMMAND INFO): .flags, .acl (the categories the flags do not
imply), .keys (key specs) and .tips. A new command's row starts from this output; the differential
test (tests/integration/test_command_meta.cc) then checks the row answers COMMAND INFO as Redis.

    redis-server --port 7777 --daemonize yes --save ''
    scripts/command_row.py --port 7777 hset hget 'client|kill'
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=6379, help="redis-server's port")
    parser.add_argument("names", nargs="+", help="commands ('client|kill' for a subcommand)")
    args = parser.parse_args()
    conn = Connection(args.port)
    for name, info in zip(args.names, conn.call("COMMAND", "INFO", *args.names)):
        if info is None:
            print("%s: no such command" % name, file=sys.stderr)
            continue
        fields = row_fields(info)
        body = ", ".join(".%s = %s" % kv for kv in fields.items())
        print('{.name = "%s", %s},' % (info[0].split("|")[-1], body))


if __name__ == "__main__":
    main()
