#include "scripting/scripting.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "resp/reply_reader.h"

namespace dynakv::scripting {
namespace {

// Answers each command with the reply bytes registered for its name, recording what it ran.
class FakeHost : public ScriptHost {
 public:
  std::map<std::string, std::string> replies;
  std::vector<std::vector<std::string>> calls;
  std::vector<int> protocols;
  std::vector<std::pair<int, std::string>> logs;
  int interrupt_after = -1;  // Interrupt() answers true from this call on

  void Call(const std::vector<std::string_view>& argv, int protocol, std::string* reply) override {
    calls.emplace_back(argv.begin(), argv.end());
    protocols.push_back(protocol);
    auto it = replies.find(std::string(argv[0]));
    *reply = it == replies.end() ? "-ERR Unknown Redis command called from script\r\n" : it->second;
  }
  void Log(int level, std::string_view message) override {
    logs.emplace_back(level, std::string(message));
  }
  bool Interrupt() override { return interrupt_after >= 0 && interrupts++ >= interrupt_after; }
  int interrupts = 0;
};

struct Runner {
  Engine engine;
  FakeHost host;

  // The reply of `body` run with `keys` and `args`, in RESP `protocol`.
  std::string Eval(std::string_view body, std::vector<std::string_view> keys = {},
                   std::vector<std::string_view> args = {}, int protocol = 2) {
    std::string out;
    resp::ReplyWriter writer(&out, protocol);
    std::string error;
    const Script* script = engine.Load(body, &error);
    if (script == nullptr) {
      writer.Error(error);
      return out;
    }
    engine.Run(*script, keys, args, host, writer);
    return out;
  }
};

std::string ErrorWithWhere(std::string_view body, std::string_view message, int line = 1) {
  return "-" + std::string(message) + " script: " + Sha1Hex(body) +
         ", on @user_script:" + std::to_string(line) + ".\r\n";
}

TEST_CASE("Lua values become Redis's replies") {
  Runner r;
  CHECK(r.Eval("return 'abc'") == "$3\r\nabc\r\n");
  CHECK(r.Eval("return 3.99") == ":3\r\n");
  CHECK(r.Eval("return -3.99") == ":-3\r\n");
  CHECK(r.Eval("return true") == ":1\r\n");
  CHECK(r.Eval("return false") == "$-1\r\n");
  CHECK(r.Eval("return false", {}, {}, 3) == "_\r\n");
  CHECK(r.Eval("return nil") == "$-1\r\n");
  CHECK(r.Eval("return {1, 'a', {2}, nil, 5}") == "*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n");
  CHECK(r.Eval("return {ok='fine'}") == "+fine\r\n");
  CHECK(r.Eval("return {ok='a\\r\\nb'}") == "+a  b\r\n");
  CHECK(r.Eval("return {err='MYERR bad'}") == "-MYERR bad\r\n");
  CHECK(r.Eval("return redis.error_reply('My Error')") == "-My Error\r\n");
  CHECK(r.Eval("return redis.error_reply('-X y')") == "-X y\r\n");
  CHECK(r.Eval("return redis.status_reply('PONG')") == "+PONG\r\n");
  CHECK(r.Eval("return redis.status_reply()") == "-ERR wrong number or type of arguments\r\n");
  CHECK(r.Eval("return {double=1.5}") == "$3\r\n1.5\r\n");
  CHECK(r.Eval("return {double=1.5}", {}, {}, 3) == ",1.5\r\n");
  CHECK(r.Eval("return {big_number='123'}", {}, {}, 3) == "(123\r\n");
  CHECK(r.Eval("return {map={a=1}}", {}, {}, 3) == "%1\r\n$1\r\na\r\n:1\r\n");
  CHECK(r.Eval("return {map={a=1}}") == "*2\r\n$1\r\na\r\n:1\r\n");
  CHECK(r.Eval("return {set={x=true}}", {}, {}, 3) == "~1\r\n$1\r\nx\r\n");
  // Under setresp(3) booleans are booleans.
  CHECK(r.Eval("redis.setresp(3) return false", {}, {}, 3) == "#f\r\n");
  CHECK(r.Eval("redis.setresp(3) return false", {}, {}, 2) == ":0\r\n");
  // A table holding itself ends in an error, not a crash.
  const std::string nested = r.Eval("local t = {} t[1] = t return t");
  CHECK(nested.find("-ERR reached lua stack limit") != std::string::npos);
}

TEST_CASE("KEYS and ARGV") {
  Runner r;
  CHECK(r.Eval("return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", {"k1", "k2"}, {"a1", "a2"}) ==
        "*4\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\na1\r\n:2\r\n");
  CHECK(r.Eval("return #KEYS") == ":0\r\n");
}

TEST_CASE("command replies become Lua values (RESP2)") {
  Runner r;
  r.host.replies = {{"int", ":42\r\n"},
                    {"bulk", "$2\r\nhi\r\n"},
                    {"nil", "$-1\r\n"},
                    {"nilarr", "*-1\r\n"},
                    {"status", "+OK\r\n"},
                    {"err", "-WRONGTYPE Operation against a key\r\n"},
                    {"arr", "*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+S\r\n"}};
  CHECK(r.Eval("local v = redis.call('int') return {type(v), v}") ==
        "*2\r\n$6\r\nnumber\r\n:42\r\n");
  CHECK(r.Eval("return redis.call('bulk')") == "$2\r\nhi\r\n");
  CHECK(r.Eval("return type(redis.call('nil')) .. tostring(redis.call('nil'))") ==
        "$12\r\nbooleanfalse\r\n");
  CHECK(r.Eval("return tostring(redis.call('nilarr'))") == "$5\r\nfalse\r\n");
  CHECK(r.Eval("return redis.call('status').ok") == "$2\r\nOK\r\n");
  CHECK(r.Eval("return redis.call('status')") == "+OK\r\n");
  CHECK(r.Eval("return redis.pcall('err').err") == "$33\r\nWRONGTYPE Operation against a key\r\n");
  CHECK(r.Eval("local a = redis.call('arr') return {#a, a[1], a[2], a[3][1].ok}") ==
        "*4\r\n:3\r\n:1\r\n$1\r\nx\r\n$1\r\nS\r\n");
  // An error reply raised by redis.call keeps its code and says where.
  const std::string body = "return redis.call('err')";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "WRONGTYPE Operation against a key"));
  CHECK(r.host.protocols.back() == 2);
}

TEST_CASE("command replies become Lua values (RESP3 after setresp(3))") {
  Runner r;
  r.host.replies = {{"map", "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n,2.5\r\n"},
                    {"set", "~2\r\n$1\r\nx\r\n$1\r\ny\r\n"},
                    {"null", "_\r\n"},
                    {"true", "#t\r\n"},
                    {"double", ",3.25\r\n"},
                    {"big", "(12345678901234567890\r\n"},
                    {"verb", "=8\r\ntxt:abcd\r\n"},
                    {"attr", "|1\r\n$1\r\nk\r\n$1\r\nv\r\n:7\r\n"}};
  CHECK(r.Eval("redis.setresp(3) local m = redis.call('map').map "
               "return {m.a, m.b.double * 2}") == "*2\r\n:1\r\n:5\r\n");
  CHECK(r.host.protocols.back() == 3);
  CHECK(r.Eval("redis.setresp(3) local s = redis.call('set').set "
               "return {tostring(s.x), tostring(s.y), tostring(s.z)}") ==
        "*3\r\n$4\r\ntrue\r\n$4\r\ntrue\r\n$3\r\nnil\r\n");
  CHECK(r.Eval("redis.setresp(3) return type(redis.call('null'))") == "$3\r\nnil\r\n");
  CHECK(r.Eval("redis.setresp(3) return redis.call('true')", {}, {}, 3) == "#t\r\n");
  CHECK(r.Eval("redis.setresp(3) return redis.call('double')", {}, {}, 3) == ",3.25\r\n");
  CHECK(r.Eval("redis.setresp(3) return redis.call('big')", {}, {}, 3) ==
        "(12345678901234567890\r\n");
  CHECK(r.Eval("redis.setresp(3) local v = redis.call('verb').verbatim_string "
               "return v.format .. '|' .. v.string") == "$8\r\ntxt|abcd\r\n");
  CHECK(r.Eval("redis.setresp(3) return redis.call('attr')") == ":7\r\n");
  // The map round-trips as a map to a RESP3 caller.
  CHECK(r.Eval("redis.setresp(3) return redis.call('set')", {}, {}, 3).substr(0, 4) == "~2\r\n");
  // A new script starts in RESP2 again.
  r.Eval("return redis.call('set')");
  CHECK(r.host.protocols.back() == 2);
}

TEST_CASE("redis.call's arguments") {
  Runner r;
  r.host.replies = {{"echo", "+OK\r\n"}};
  r.Eval("return redis.call('echo', 'a', 7, 1.5, 0.1)");
  REQUIRE(r.host.calls.size() == 1);
  CHECK(r.host.calls[0] ==
        std::vector<std::string>{"echo", "a", "7", "1.5", "0.10000000000000001"});
  std::string body = "return redis.call()";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR Please specify at least one argument for this redis lib call"));
  body = "return redis.call('echo', {})";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR Lua redis lib command arguments must be strings or integers"));
  CHECK(r.Eval("return redis.pcall('echo', {})") ==
        "-ERR Lua redis lib command arguments must be strings or integers\r\n");
  body = "return redis.call('nosuch')";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR Unknown Redis command called from script"));
}

TEST_CASE("script errors are reported as Redis 7.0 reports them") {
  Runner r;
  std::string body = "return 1 + nil";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR user_script:1: attempt to perform arithmetic on a nil value"));
  body = "\n\nerror('boom')";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR user_script:3: boom", 3));
  body = "error({err='CUSTOM boom'})";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "CUSTOM boom"));
  CHECK(r.Eval("return end") ==
        "-ERR Error compiling script (new function): user_script:1: '<eof>' expected near "
        "'end'\r\n");
  body = "return redis.setresp(4)";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR RESP version must be 2 or 3."));
  // pcall catches a redis.call error (an error table) as its message, as Redis 7.0's pcall does.
  CHECK(r.Eval("local ok, e = pcall(redis.call, 'nosuch') return e") ==
        "$44\r\nERR Unknown Redis command called from script\r\n");
  CHECK(r.Eval("local ok, e = pcall(error, {err='X y'}) return {tostring(ok), e}") ==
        "*2\r\n$5\r\nfalse\r\n$3\r\nX y\r\n");
}

TEST_CASE("the sandbox") {
  Runner r;
  std::string body = "x = 1";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR user_script:1: Attempt to modify a readonly table"));
  body = "return y";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body,
                       "ERR user_script:1: Script attempted to access nonexistent global "
                       "variable 'y'"));
  for (const char* name : {"os", "io", "debug", "require", "loadfile", "dofile", "getfenv",
                           "setfenv", "print", "package"}) {
    body = std::string("return ") + name;
    CHECK(r.Eval(body) ==
          ErrorWithWhere(body, std::string("ERR user_script:1: Script attempted to access "
                                           "nonexistent global variable '") +
                                   name + "'"));
  }
  body = "string.x = 1";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR user_script:1: Attempt to modify a readonly table"));
  body = "redis.call = nil";
  CHECK(r.Eval(body) ==
        ErrorWithWhere(body, "ERR user_script:1: Attempt to modify a readonly table"));
  body = "rawset(_G, 'x', 1)";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR Attempt to modify a readonly table"));
  body = "rawset(cjson, 'x', 1)";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR Attempt to modify a readonly table"));
  // Code compiled at run time sees the same protected globals.
  body = "loadstring('z = 1')()";
  CHECK(r.Eval(body).find("Attempt to modify a readonly table") != std::string::npos);
  body = "setmetatable(_G, nil)";
  CHECK(r.Eval(body)[0] == '-');
  // Local tables and locals are the script's own.
  CHECK(r.Eval("local t = {} t.x = 5 rawset(t, 'y', 6) return t.x + t.y") == ":11\r\n");
  CHECK(r.Eval("return string.format('%d-%s', 4, 'x')") == "$3\r\n4-x\r\n");
  CHECK(r.Eval("return ('abc'):upper()") == "$3\r\nABC\r\n");
}

TEST_CASE("the libraries cannot be changed through strings' metatable") {
  Runner r;
  CHECK(r.Eval("getmetatable('').__index.x = 1").find("Attempt to modify a readonly table") !=
        std::string::npos);
  CHECK(r.Eval("getmetatable('').__index = nil").find("Attempt to modify a readonly table") !=
        std::string::npos);
  // Nothing of it reached the next script.
  CHECK(r.Eval("return tostring(string.x) .. ('ab'):upper()") == "$5\r\nnilAB\r\n");
  CHECK(r.Eval("return getmetatable('a').__index == string") == ":1\r\n");
}

TEST_CASE("next, pairs and rawget see the libraries' functions") {
  Runner r;
  CHECK(r.Eval("local n = 0 for k, v in pairs(bit) do n = n + 1 end return n") == ":12\r\n");
  CHECK(r.Eval("return type(rawget(string, 'format'))") == "$8\r\nfunction\r\n");
  CHECK(r.Eval("return next(struct) ~= nil") == ":1\r\n");
  CHECK(r.Eval("return getmetatable(string)") == "$-1\r\n");
  CHECK(r.Eval("return setmetatable(string, {})").find("Attempt to modify a readonly table") !=
        std::string::npos);
  // table.insert writes raw, so it checks too; nothing reaches the next script.
  CHECK(r.Eval("table.insert(math, 'x')").find("Attempt to modify a readonly table") !=
        std::string::npos);
  CHECK(r.Eval("return math[1]") == "$-1\r\n");
  CHECK(r.Eval("local t = {1} table.insert(t, 2) table.insert(t, 1, 0) return t") ==
        "*3\r\n:0\r\n:1\r\n:2\r\n");
}

TEST_CASE("sha1hex, cjson and bit") {
  Runner r;
  CHECK(r.Eval("return redis.sha1hex('')") ==
        "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n");
  CHECK(r.Eval("return redis.sha1hex('abc')") ==
        "$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n");
  CHECK(Sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(r.Eval("return cjson.encode({1, 2, 'x'})") == "$9\r\n[1,2,\"x\"]\r\n");
  CHECK(r.Eval("local t = cjson.decode('{\"a\":[1,2,{\"b\":true}]}') "
               "return {t.a[1], t.a[2], tostring(t.a[3].b)}") ==
        "*3\r\n:1\r\n:2\r\n$4\r\ntrue\r\n");
  CHECK(r.Eval("return {bit.band(12, 10), bit.bor(12, 10), bit.bxor(12, 10), bit.lshift(1, 4), "
               "bit.tohex(255)}") == "*5\r\n:8\r\n:14\r\n:6\r\n:16\r\n$8\r\n000000ff\r\n");
}

TEST_CASE("redis.log and constants") {
  Runner r;
  r.Eval("redis.log(redis.LOG_WARNING, 'hello', 'world')");
  REQUIRE(r.host.logs.size() == 1);
  CHECK(r.host.logs[0] == std::make_pair(3, std::string("hello world")));
  std::string body = "redis.log(9, 'x')";
  CHECK(r.Eval(body) == ErrorWithWhere(body, "ERR Invalid debug level."));
  CHECK(r.Eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.REPL_ALL}") ==
        "*4\r\n:0\r\n:1\r\n:2\r\n:3\r\n");
}

TEST_CASE("the script cache") {
  Engine engine;
  std::string error;
  const Script* a = engine.Load("return 1", &error);
  REQUIRE(a != nullptr);
  CHECK(a->sha == Sha1Hex("return 1"));
  CHECK(a->flags == kFlagEvalCompat);
  CHECK(engine.Load("return 1", &error) == a);
  std::string upper = a->sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(engine.Find(upper) == a);
  CHECK(engine.script_count() == 1);
  CHECK(engine.Load("return (", &error) == nullptr);
  CHECK(error.rfind("ERR Error compiling script (new function): user_script:1:", 0) == 0);
  engine.Flush();
  CHECK(engine.script_count() == 0);
  CHECK(engine.Find(Sha1Hex("return 1")) == nullptr);
  const Script* flagged = engine.Load("#!lua flags=no-writes,allow-oom\nreturn 2", &error);
  REQUIRE(flagged != nullptr);
  CHECK(flagged->flags == (kFlagNoWrites | kFlagAllowOom));
}

TEST_CASE("shebang flags") {
  std::uint32_t flags = 0;
  std::size_t len = 0;
  std::string error;
  CHECK(ParseShebang("return 1", &flags, &len, &error));
  CHECK(flags == kFlagEvalCompat);
  CHECK(ParseShebang("#!lua\nreturn 1", &flags, &len, &error));
  CHECK(flags == 0);
  CHECK(len == 5);
  CHECK(ParseShebang("#!lua flags=no-writes,allow-stale,no-cluster,allow-cross-slot-keys\nx",
                     &flags, &len, &error));
  CHECK(flags == (kFlagNoWrites | kFlagAllowStale | kFlagNoCluster | kFlagAllowCrossSlot));
  CHECK_FALSE(ParseShebang("#!lua flags=bogus\n", &flags, &len, &error));
  CHECK(error == "Unexpected flag in script shebang: bogus");
  CHECK_FALSE(ParseShebang("#!luax\n", &flags, &len, &error));
  CHECK(error == "Unexpected engine in script shebang: #!luax");
  CHECK_FALSE(ParseShebang("#!lua foo=bar\n", &flags, &len, &error));
  CHECK(error == "Unknown lua shebang option: foo=bar");
}

TEST_CASE("an interrupted script stops, even one catching errors") {
  Runner r;
  r.host.interrupt_after = 2;
  const std::string body = "while true do pcall(function() while true do end end) end";
  const std::string reply = r.Eval(body);
  CHECK(reply.rfind("-ERR Script killed by user with SCRIPT KILL... script: ", 0) == 0);
  // The engine runs the next script normally.
  r.host.interrupt_after = -1;
  CHECK(r.Eval("return 5") == ":5\r\n");
}

}  // namespace
}  // namespace dynakv::scripting

namespace dynakv::scripting {
namespace {

TEST_CASE("function libraries: load, call, replace, delete") {
  Engine engine;
  FakeHost host;
  host.replies = {{"get", "$1\r\nv\r\n"}};
  std::string name;
  std::string error;
  REQUIRE(
      engine.LoadLibrary("#!lua name=lib\n"
                         "redis.register_function('f', function(keys, args) "
                         "return {keys[1], args[1], redis.call('get', keys[1])} end)\n"
                         "redis.register_function{function_name='g', callback=function() "
                         "return 2 end, flags={'no-writes'}, description='d'}",
                         false, &name, &error));
  CHECK(name == "lib");
  const Function* f = engine.FindFunction("f");
  REQUIRE(f != nullptr);
  std::string out;
  resp::ReplyWriter writer(&out);
  engine.RunFunction(*f, {"k"}, {"a"}, host, writer);
  CHECK(out == "*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\nv\r\n");
  const Function* g = engine.FindFunction("g");
  REQUIRE(g != nullptr);
  CHECK(g->flags == kFlagNoWrites);
  CHECK(g->description == "d");
  CHECK(engine.function_count() == 2);

  CHECK_FALSE(engine.LoadLibrary("#!lua name=lib\nredis.register_function('h', function() end)",
                                 false, &name, &error));
  CHECK(error == "ERR Library 'lib' already exists");
  CHECK_FALSE(engine.LoadLibrary("#!lua name=other\nredis.register_function('f', function() end)",
                                 false, &name, &error));
  CHECK(error == "ERR Function f already exists");
  REQUIRE(engine.LoadLibrary("#!lua name=lib\nredis.register_function('h', function() end)", true,
                             &name, &error));
  CHECK(engine.FindFunction("f") == nullptr);
  CHECK(engine.FindFunction("h") != nullptr);
  // SCRIPT FLUSH leaves the functions alone.
  engine.Flush();
  CHECK(engine.FindFunction("h") != nullptr);
  CHECK(engine.DeleteLibrary("lib"));
  CHECK_FALSE(engine.DeleteLibrary("lib"));
  CHECK(engine.function_count() == 0);
}

TEST_CASE("function library errors") {
  Engine engine;
  std::string name;
  std::string error;
  auto load = [&](const std::string& code) {
    CHECK_FALSE(engine.LoadLibrary(code, false, &name, &error));
    return error;
  };
  CHECK(load("return 1") == "ERR Missing library metadata");
  CHECK(load("#!lua\nreturn 1") == "ERR Library name was not given");
  CHECK(load("#!lua name=x\nreturn 1") == "ERR No functions registered");
  CHECK(load("#!lua name=x\nredis.call('ping')") ==
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable 'call'");
  CHECK(load("#!lua name=x\nlocal i = 0 while true do i = i + 1 end") ==
        "ERR Error registering functions: ERR FUNCTION LOAD timeout");
  // The globals are the scripts' again after a failed load.
  FakeHost host;
  std::string out;
  resp::ReplyWriter writer(&out);
  const Script* script = engine.Load("return type(redis.call)", &error);
  REQUIRE(script != nullptr);
  engine.Run(*script, {}, {}, host, writer);
  CHECK(out == "$8\r\nfunction\r\n");
}

}  // namespace
}  // namespace dynakv::scripting

namespace dynakv::scripting {
namespace {

TEST_CASE("an error value with metamethods is read raw, outside any pcall") {
  Runner r;
  const std::string body = "error(setmetatable({}, {__index = function() error('inner') end}))";
  // No err field: an error reply that says where, and no panic of the Lua state.
  const std::string reply = r.Eval(body);
  CHECK(reply[0] == '-');
  CHECK(reply.find("on @user_script:1.") != std::string::npos);
  CHECK(r.Eval("return 1") == ":1\r\n");
}

}  // namespace
}  // namespace dynakv::scripting
