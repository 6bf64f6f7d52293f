// Differential test of Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT go to the
// server under test and to the installed redis-server 7 with the same data; every reply must be
// the same, in RESP2 (hiredis) and in RESP3 (byte for byte). The scripts return every Lua type,
// call commands of every reply type (under setresp(2) and setresp(3)), and fail in every way
// Redis reports: bad numkeys, runtime and compile errors, unknown and forbidden commands, writes
// from read-only scripts, the sandbox, errors caught by pcall.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;

namespace {

using Command = std::vector<std::string>;

// The same data on both servers.
const std::vector<Command> kSetup = {
    {"FLUSHALL"},
    {"SET", "s", "abc"},
    {"SET", "n", "5"},
    {"HSET", "h", "a", "1", "b", "2"},
    {"RPUSH", "l", "x", "y", "z"},
    {"SADD", "st", "m"},
    {"ZADD", "z", "1.5", "a", "2", "b"},
};

Command Eval(const std::string& body, std::vector<std::string> keys = {},
             std::vector<std::string> args = {}, const std::string& command = "EVAL") {
  Command argv = {command, body, std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<Command> Cases() {
  std::vector<Command> cases;
  auto add = [&](Command c) { cases.push_back(std::move(c)); };
  // Lua values to replies.
  for (const char* body : {"return 'str'",
                           "return 3.9",
                           "return -3.9",
                           "return -0.5",
                           "return 1e20",
                           "return true",
                           "return false",
                           "return nil",
                           "return {}",
                           "return {1, 2, {3, 'x'}, nil, 4}",
                           "return {ok='fine'}",
                           "return {ok='a\\r\\nb'}",
                           "return {err='E bad'}",
                           "return {err='no code'}",
                           "return {double=1.5}",
                           "return {big_number='12345'}",
                           "return {map={a=1}}",
                           "return {set={a=true}}",
                           "return {1, {ok='x'}, {err='E y'}}",
                           "return redis.status_reply('PONG')",
                           "return redis.error_reply('My Error')",
                           "return redis.error_reply('-CODE msg')",
                           "return redis.status_reply()",
                           "return redis.error_reply(1, 2)",
                           "redis.setresp(3) return true",
                           "redis.setresp(3) return false",
                           "redis.setresp(3) return {double=2.5}",
                           "redis.setresp(3) return {big_number='99'}",
                           "redis.setresp(3) return {map={k='v'}}",
                           "redis.setresp(3) return {set={m=true}}",
                           "return {KEYS[1], ARGV[1], #KEYS, #ARGV}"}) {
    add(Eval(body, {"k1"}, {"a1", "a2"}));
  }
  // Commands' replies to Lua values, and back.
  for (const char* prefix : {"", "redis.setresp(3) "}) {
    const std::string p = prefix;
    for (const std::string& body : {p + "return redis.call('get', KEYS[1])",
                                    p + "return redis.call('get', 'missing')",
                                    p + "return type(redis.call('get', 'missing'))",
                                    p + "return redis.call('incr', 'n')",
                                    p + "return redis.call('hgetall', 'h')",
                                    p + "return redis.call('smembers', 'st')",
                                    p + "return redis.call('zscore', 'z', 'a')",
                                    p + "return redis.call('zrange', 'z', 0, -1, 'WITHSCORES')",
                                    p + "return redis.call('lrange', 'l', 0, -1)",
                                    p + "return redis.call('ping')",
                                    p + "return redis.call('type', 's')",
                                    p + "return redis.call('exists', 's') == 1",
                                    p + "return redis.pcall('incr', 's')",
                                    p + "return redis.pcall('lpush', 's', 'x')",
                                    p + "return redis.call('lpush', 's', 'x')",
                                    p + "return redis.call('hget', 'h', 'zz')",
                                    p + "local v = redis.call('zscore', 'z', 'a') return type(v)",
                                    p + "local m = redis.call('hgetall', 'h') return type(m)",
                                    p + "return redis.call('set', 'w', 'v', 'GET')",
                                    p + "return redis.call('getex', 'nokey')"}) {
      add(Eval(body, {"s"}));
    }
  }
  // Argument conversion.
  add(Eval("return redis.call('set', 'num', 0.1)"));
  add(Eval("return redis.call('get', 'num')"));
  add(Eval("return redis.call('set', 'num', 12345678901234)"));
  add(Eval("return redis.call('get', 'num')"));
  add(Eval("return redis.call('set', KEYS[1], ARGV[1], 'EX', 100)", {"k"}, {"v"}));
  add(Eval("return redis.call('get', KEYS[1])", {"k"}));
  // numkeys.
  add({"EVAL", "return 1", "-1"});
  add({"EVAL", "return 1", "2", "a"});
  add({"EVAL", "return 1", "abc"});
  add({"EVAL", "return 1"});
  add({"EVALSHA", "0123456789012345678901234567890123456789", "0"});
  add({"EVALSHA", "short", "0"});
  add({"EVALSHA", "short", "x"});
  // Runtime and compile errors.
  for (const char* body :
       {"return 1 + nil",
        "error('boom')",
        "error({err='CUSTOM boom'})",
        "error()",
        "return end",
        "return (",
        "\n\nreturn 1 + {}",
        "return redis.call('nosuch')",
        "return redis.call()",
        "return redis.call({})",
        "return redis.call('get')",
        "return redis.call('eval', 'return 1', 0)",
        "return redis.call('script', 'load', 'return 1')",
        "return redis.pcall('nosuch')",
        "return redis.pcall('get')",
        "return redis.call('blpop', 'l', 0)",
        "return redis.call('bzpopmin', 'z', 1)",
        "return redis.call('client', 'list')",
        "return redis.call('shutdown')",
        "return redis.call('hello')",
        "return redis.call('config', 'get', 'maxmemory')",
        "return redis.call('dbsize')",
        "local ok, e = pcall(redis.call, 'nosuch') return e",
        "local ok, e = pcall(redis.call, 'incr', 's') return {ok, e}",
        "local ok, e = pcall(error, {err='x'}) return e",
        "local ok, e = pcall(function() redis.call('nosuch') end) return e",
        "local ok, e = pcall(function() error('x') end) return {tostring(ok), e}",
        "return redis.setresp(4)",
        "return redis.setresp()",
        "return redis.sha1hex()",
        "return redis.log(99, 'x')",
        "return redis.log(redis.LOG_WARNING)",
        "redis.log(redis.LOG_DEBUG, 'quiet') return 1",
        "return redis.replicate_commands()",
        "return redis.set_repl(redis.REPL_ALL)",
        "return redis.set_repl(99)"}) {
    add(Eval(body));
  }
  // The sandbox.
  for (const char* body :
       {"x = 1", "return y", "return os", "return io", "return debug", "return require",
        "return loadfile", "return dofile", "return print", "return getfenv", "string.x = 1",
        "redis.call = nil", "rawset(_G, 'x', 1)", "return type(loadstring)",
        "local t = {} t.a = 1 return t.a", "return string.format('%d', 3)",
        "return cjson.encode({1, 2, 'x'})", "return cjson.decode('[1,2,3]')",
        "return cjson.decode('{\"a\":5}').a", "return bit.band(6, 3)", "return bit.tohex(255)",
        "return redis.sha1hex('x')", "return redis.REDIS_VERSION",
        "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
        "return math.floor(2.5)", "return table.concat({'a', 'b'}, '-')", "return _VERSION",
        "return type(coroutine)",
        // Strings' metatable and the libraries cannot be changed through getmetatable, and
        // next/pairs/rawget see the libraries' functions, as in Redis.
        "getmetatable('').x = 1 return 1", "getmetatable('').__index.x = 1 return 1",
        "getmetatable('').__index = nil return 1", "return string.x",
        "return ('abc'):upper() .. ('%d'):format(5)",
        "return getmetatable('abc').__index == string",
        "return setmetatable(getmetatable(''), nil)", "return setmetatable(string, {})",
        "return setmetatable(bit)", "return getmetatable(cjson)", "return pairs({}) == next",
        "return {next(math, nil) ~= nil, next(string, 'nosuch')}",
        "return type(rawget(string, 'rep'))", "return rawget(table)",
        "local t = {} for k in pairs(string) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(table) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(bit) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t",
        "table.insert(cmsgpack, 'x') return 1", "return cmsgpack[1]",
        "table.insert(_G, 1, 'x') return 1", "table.insert(string) return 1",
        "table.insert(nil, 1) return 1", "table.insert(cjson, 'a', 'b') return 1",
        "local t = {1, 2} table.insert(t, 3) table.insert(t, 1, 0) return t",
        "return {table.remove(bit)}", "table.sort(struct) return 1",
        "local t = {3, 1, 2} table.sort(t, function(a, b) return a > b end) return t",
        "local t = setmetatable({}, {__metatable = 'mine'}) return {getmetatable(t), "
        "pcall(setmetatable, t, {})}"}) {
    add(Eval(body));
  }
  // Read-only scripts and shebang flags.
  add(Eval("return redis.call('set', 'a', '1')", {}, {}, "EVAL_RO"));
  add(Eval("return redis.call('get', 's')", {}, {}, "EVAL_RO"));
  add(Eval("return redis.pcall('del', 's')", {}, {}, "EVAL_RO"));
  add(Eval("#!lua flags=no-writes\nreturn redis.call('set', 'a', 1)"));
  add(Eval("#!lua flags=no-writes\nreturn redis.call('get', 's')", {}, {}, "EVAL_RO"));
  add(Eval("#!lua\nreturn redis.call('get', 's')", {}, {}, "EVAL_RO"));
  add(Eval("#!lua\nreturn redis.call('set', 'a', 2)"));
  add(Eval("#!lua flags=allow-oom,allow-stale\nreturn 1"));
  add(Eval("#!lua flags=bogus\nreturn 1"));
  add(Eval("#!luax\nreturn 1"));
  add(Eval("#!lua foo=bar\nreturn 1"));
  add(Eval("#!lua flags=\nreturn 1"));
  // SCRIPT and EVALSHA.
  add({"SCRIPT", "LOAD", "return 'loaded'"});
  add({"SCRIPT", "LOAD", "return ("});
  add({"SCRIPT", "EXISTS", "a81d5fb1a6b1ea27b9a14aee4a4f1e6cd0e3e5b5", "x"});
  add({"EVALSHA", "2d9e5a9d14e6bd0fd8c9ae1a01b2891b9d2a84a0", "0"});
  add({"SCRIPT", "FLUSH", "bogus"});
  add({"SCRIPT", "FLUSH", "SYNC", "x"});
  add({"SCRIPT", "KILL"});
  add({"SCRIPT", "NOSUCH"});
  add({"SCRIPT"});
  add({"SCRIPT", "LOAD"});
  add({"SCRIPT", "EXISTS"});
  return cases;
}

// Cases that need the SHA of a loaded script: SCRIPT LOAD's reply on the reference.
std::vector<Command> ShaCases(const std::string& sha) {
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"SCRIPT", "EXISTS", sha, upper, "0000"},
          {"EVALSHA", sha, "1", "s"},
          {"EVALSHA", upper, "1", "s"},
          {"EVALSHA_RO", sha, "1", "s"},
          {"EVALSHA", sha, "2", "s"},
          {"SCRIPT", "FLUSH"},
          {"SCRIPT", "EXISTS", sha},
          {"EVALSHA", sha, "1", "s"},
          {"SCRIPT", "FLUSH", "ASYNC"}};
}

// A user allowed EVAL and GET on k* keys only: its scripts' commands are checked as its own.
const std::vector<Command> kAclSetup = {
    {"ACL", "SETUSER", "scripter", "on", ">pw", "+eval", "+get", "+ping", "~k*"},
    {"AUTH", "scripter", "pw"},
};
const std::vector<Command> kAclCases = {
    Eval("return redis.call('get', 'k1')"),       Eval("return redis.call('set', 'k1', 'v')"),
    Eval("return redis.pcall('set', 'k1', 'v')"), Eval("return redis.call('get', 'other')"),
    Eval("return redis.pcall('get', 'other')"),   {"AUTH", "default", "nopass-any"},
};

const char* kShaScript = "return {redis.call('get', KEYS[1]), 'sha'}";

}  // namespace

TEST_CASE("scripts reply as in Redis 7 (RESP2)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client ours_client(ours.port());
  Client reference_client(reference.port());
  dynakv::itest::DifferentialLog log;
  auto compare = [&](const Command& argv) {
    const Reply expected = reference_client.Command(argv);
    const Reply got = ours_client.Command(argv);
    log.Record(dynakv::itest::DescribeCommand(argv), dynakv::itest::ReplyText(expected));
    if (!(got == expected)) log.Mismatch(dynakv::itest::ReplyText(got));
  };
  for (const Command& argv : kSetup) compare(argv);
  for (const Command& argv : Cases()) compare(argv);
  const Reply sha = reference_client.Command({"SCRIPT", "LOAD", kShaScript});
  REQUIRE(sha.type == Reply::Type::kString);
  CHECK(ours_client.Command({"SCRIPT", "LOAD", kShaScript}) == sha);
  for (const Command& argv : ShaCases(sha.str)) compare(argv);
  for (const Command& argv : kAclSetup) compare(argv);
  for (const Command& argv : kAclCases) compare(argv);
  CHECK(log.mismatches() == 0);
}

TEST_CASE("scripts reply as in Redis 7 (RESP3, byte for byte)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  for (const Command& argv : kSetup) raw.Compare(argv);
  for (const Command& argv : Cases()) raw.Compare(argv);
  raw.Compare({"SCRIPT", "LOAD", kShaScript});
  Client reference_client(reference.port());
  const Reply sha = reference_client.Command({"SCRIPT", "LOAD", kShaScript});
  REQUIRE(sha.type == Reply::Type::kString);
  for (const Command& argv : ShaCases(sha.str)) raw.Compare(argv);
  CHECK(raw.mismatches() == 0);
}
