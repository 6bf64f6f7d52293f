// The struct and cmsgpack libraries against their specifications: msgpack's type bytes at each
// boundary, struct's layouts, sizes and alignment; and where scripts and functions see them.
// (tests/integration/test_scripting_packing_differential.cc compares them with Redis itself.)
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "scripting/scripting.h"

namespace dynakv::scripting {
namespace {

class NoCommands : public ScriptHost {
 public:
  void Call(const std::vector<std::string_view>&, int, std::string* reply) override {
    *reply = "-ERR no commands here\r\n";
  }
  void Log(int, std::string_view) override {}
  bool Interrupt() override { return false; }
};

struct Runner {
  Engine engine;
  NoCommands host;

  std::string Eval(std::string_view body) {
    std::string out;
    resp::ReplyWriter writer(&out, 2);
    std::string error;
    const Script* script = engine.Load(body, &error);
    if (script == nullptr) return "compile error: " + error;
    engine.Run(*script, {}, {}, host, writer);
    return out;
  }

  // The bytes a script returns as a bulk string, or its whole reply when it is something else.
  std::string Bytes(std::string_view body) {
    const std::string reply = Eval(body);
    if (reply.empty() || reply[0] != '$') return "not bulk: " + reply;
    const std::size_t start = reply.find("\r\n") + 2;
    return reply.substr(start, reply.size() - start - 2);
  }
};

std::string Hex(std::vector<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

TEST_CASE("cmsgpack.pack picks msgpack's smallest type for each value") {
  Runner r;
  auto pack = [&](const std::string& expr) {
    return r.Bytes("return cmsgpack.pack(" + expr + ")");
  };
  // Integers: fixint, uint 8/16/32/64, negative fixint, int 8/16/32/64.
  CHECK(pack("0") == Hex({0x00}));
  CHECK(pack("127") == Hex({0x7f}));
  CHECK(pack("128") == Hex({0xcc, 0x80}));
  CHECK(pack("255") == Hex({0xcc, 0xff}));
  CHECK(pack("256") == Hex({0xcd, 0x01, 0x00}));
  CHECK(pack("65536") == Hex({0xce, 0x00, 0x01, 0x00, 0x00}));
  CHECK(pack("4294967296") == Hex({0xcf, 0, 0, 0, 1, 0, 0, 0, 0}));
  CHECK(pack("-1") == Hex({0xff}));
  CHECK(pack("-32") == Hex({0xe0}));
  CHECK(pack("-33") == Hex({0xd0, 0xdf}));
  CHECK(pack("-129") == Hex({0xd1, 0xff, 0x7f}));
  CHECK(pack("-32769") == Hex({0xd2, 0xff, 0xff, 0x7f, 0xff}));
  CHECK(pack("-2147483649") == Hex({0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}));
  CHECK(pack("-2^63") == Hex({0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  // -0 is the integer 0; 2^63 is past int64, so a float (exact in 32 bits).
  CHECK(pack("-0.0") == Hex({0x00}));
  CHECK(pack("2^63") == Hex({0xca, 0x5f, 0x00, 0x00, 0x00}));
  // Floats: 32 bits when exact there, else 64.
  CHECK(pack("1.5") == Hex({0xca, 0x3f, 0xc0, 0x00, 0x00}));
  CHECK(pack("0.1") == Hex({0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}));
  CHECK(pack("1/0") == Hex({0xca, 0x7f, 0x80, 0x00, 0x00}));
  // Strings: fixstr up to 31 bytes, then str 8, str 16, str 32.
  CHECK(pack("''") == Hex({0xa0}));
  CHECK(pack("string.rep('x', 31)") == Hex({0xbf}) + std::string(31, 'x'));
  CHECK(pack("string.rep('x', 32)") == Hex({0xd9, 32}) + std::string(32, 'x'));
  CHECK(pack("string.rep('x', 256)") == Hex({0xda, 0x01, 0x00}) + std::string(256, 'x'));
  CHECK(pack("string.rep('x', 65536)") ==
        Hex({0xdb, 0x00, 0x01, 0x00, 0x00}) + std::string(65536, 'x'));
  // nil, booleans, and what msgpack has no type for (a function) as nil.
  CHECK(pack("nil") == Hex({0xc0}));
  CHECK(pack("true, false") == Hex({0xc3, 0xc2}));
  CHECK(pack("tostring") == Hex({0xc0}));
}

TEST_CASE("cmsgpack.pack: arrays are tables keyed 1..n, anything else a map") {
  Runner r;
  auto pack = [&](const std::string& expr) {
    return r.Bytes("return cmsgpack.pack(" + expr + ")");
  };
  CHECK(pack("{}") == Hex({0x90}));
  CHECK(pack("{1, 'a'}") == Hex({0x92, 0x01, 0xa1, 'a'}));
  CHECK(pack("{[2] = 1}") == Hex({0x81, 0x02, 0x01}));
  CHECK(pack("{[0] = 1}") == Hex({0x81, 0x00, 0x01}));
  CHECK(pack("{[1.5] = 1}") == Hex({0x81, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0x01}));
  CHECK(pack("{a = true}") == Hex({0x81, 0xa1, 'a', 0xc3}));
  std::string sixteen = Hex({0xdc, 0x00, 0x10});
  for (int i = 1; i <= 16; ++i) sixteen += static_cast<char>(i);
  CHECK(pack("{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}") == sixteen);
  CHECK(r.Bytes("local t = {} for i = 1, 16 do t['k' .. i] = 0 end "
                "return cmsgpack.pack(t):sub(1, 3)") == Hex({0xde, 0x00, 0x10}));
  CHECK(r.Bytes("local t = {} for i = 1, 65536 do t[i] = 0 end "
                "return cmsgpack.pack(t):sub(1, 5)") == Hex({0xdd, 0x00, 0x01, 0x00, 0x00}));
  // Nesting stops at 16 tables (the 17th packs as nil), which also ends a cycle.
  CHECK(pack("(function() local t = {} t[1] = t return t end)()") ==
        std::string(16, static_cast<char>(0x91)) + Hex({0xc0}));
}

TEST_CASE("cmsgpack.unpack and its offsets") {
  Runner r;
  CHECK(r.Eval("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, {4}}))}") ==
        "*3\r\n:1\r\n$3\r\ntwo\r\n*2\r\n:3\r\n*1\r\n:4\r\n");
  CHECK(r.Eval("local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = 'x'})) "
               "return {t.a, t.b}") == "*2\r\n:1\r\n$1\r\nx\r\n");
  // unpack_one: the offset of the next value first, -1 after the last.
  CHECK(r.Eval("local s = cmsgpack.pack(300, 'ab') "
               "return {cmsgpack.unpack_one(s)}") == "*2\r\n:3\r\n:300\r\n");
  CHECK(r.Eval("local s = cmsgpack.pack(300, 'ab') "
               "return {cmsgpack.unpack_one(s, 3)}") == "*2\r\n:-1\r\n$2\r\nab\r\n");
  CHECK(r.Eval("local s = cmsgpack.pack(1, 2, 3) "
               "return {cmsgpack.unpack_limit(s, 2, 0)}") == "*3\r\n:2\r\n:1\r\n:2\r\n");
  // A uint 64 past 2^63 wraps, as Redis's 64-bit build does.
  CHECK(r.Eval("return cmsgpack.unpack(string.char(0xcf, 255, 255, 255, 255, 255, 255, 255, "
               "255))") == ":-1\r\n");
  const std::string missing = r.Eval("return cmsgpack.unpack(string.char(0x92, 1))");
  CHECK(missing.find("Missing bytes in input.") != std::string::npos);
  const std::string bad = r.Eval("return cmsgpack.unpack(string.char(0xc4, 1, 0))");
  CHECK(bad.find("Bad data format in input.") != std::string::npos);
  const std::string nil_key = r.Eval("return cmsgpack.unpack(string.char(0x81, 0xc0, 1))");
  CHECK(nil_key.find("table index is nil") != std::string::npos);
}

TEST_CASE("struct.pack, unpack and size") {
  Runner r;
  CHECK(r.Bytes("return struct.pack('>i', 1)") == Hex({0, 0, 0, 1}));
  CHECK(r.Bytes("return struct.pack('<h', -2)") == Hex({0xfe, 0xff}));
  CHECK(r.Bytes("return struct.pack('>I3', 0x010203)") == Hex({1, 2, 3}));
  CHECK(r.Bytes("return struct.pack('>b', 255)") == Hex({0xff}));
  CHECK(r.Bytes("return struct.pack('<I16', -1)") ==
        std::string(8, static_cast<char>(0xff)) + std::string(8, '\0'));
  CHECK(r.Bytes("return struct.pack('>d', 1.5)") == Hex({0x3f, 0xf8, 0, 0, 0, 0, 0, 0}));
  CHECK(r.Bytes("return struct.pack('>f', 1.5)") == Hex({0x3f, 0xc0, 0, 0}));
  CHECK(r.Bytes("return struct.pack('sc2c0x', 'ab', 'cd', 'efg')") ==
        std::string("ab\0cdefg\0", 9));
  // '!n' aligns each item to min(its size, n); without '!' nothing is aligned.
  CHECK(r.Bytes("return struct.pack('>!4bi', 1, 2)") == Hex({1, 0, 0, 0, 0, 0, 0, 2}));
  CHECK(r.Bytes("return struct.pack('>!2bi', 1, 2)") == Hex({1, 0, 0, 0, 0, 2}));
  CHECK(r.Bytes("return struct.pack('>bi', 1, 2)") == Hex({1, 0, 0, 0, 2}));
  CHECK(r.Eval("return {struct.size('bd'), struct.size('!bd'), struct.size('!4bd'), "
               "struct.size('bhilTfdxc3')}") == "*4\r\n:9\r\n:16\r\n:12\r\n:39\r\n");
  // unpack returns the values, then where the next item starts.
  CHECK(r.Eval("return {struct.unpack('>Hc0b', string.char(0, 2) .. 'hi' .. string.char(255))}") ==
        "*3\r\n$2\r\nhi\r\n:-1\r\n:6\r\n");
  CHECK(r.Eval("return {struct.unpack('<i', struct.pack('<i', -5) .. 'x', 1)}") ==
        "*2\r\n:-5\r\n:5\r\n");
  CHECK(r.Eval("return {struct.unpack('s', 'ab\\0cd', 1)}") == "*2\r\n$2\r\nab\r\n:4\r\n");
  const std::string short_data = r.Eval("return struct.unpack('i', 'abc')");
  CHECK(short_data.find("bad argument #2 to 'unpack' (data string too short)") !=
        std::string::npos);
  const std::string bad_option = r.Eval("return struct.pack('q', 1)");
  CHECK(bad_option.find("bad argument #1 to 'pack' (invalid format option 'q')") !=
        std::string::npos);
  const std::string missing = r.Eval("return struct.pack('ii', 1)");
  CHECK(missing.find("bad argument #3 to 'pack' (number expected, got nil)") != std::string::npos);
}

TEST_CASE("stack limits end in an error, and the state goes on") {
  Runner r;
  const std::string prelude =
      "local function arr(n, v) local t = {} for i = 1, n do t[i] = v end return t end ";
  const std::pair<const char*, const char*> cases[] = {
      // Fails inside a table's encoding, with the packed bytes so far to drop.
      {"return cmsgpack.pack(unpack(arr(3999, {{}})))", "stack overflow (in function"},
      {"return cmsgpack.pack(unpack(arr(7000, 1)))", "Too many arguments for MessagePack pack."},
      {"return cmsgpack.unpack(string.rep('\\1', 8000))", "stack overflow (too many return"},
      {"return cmsgpack.unpack(string.rep(string.char(0x91), 5000) .. '\\1')",
       "stack overflow (in function mp_decode_to_lua_array)"},
      {"return struct.unpack(string.rep('b', 9000), string.rep('a', 9000))",
       "stack overflow (too many results)"},
  };
  for (const auto& [body, error] : cases) {
    CAPTURE(std::string(body));
    CHECK(r.Eval(prelude + body).find(error) != std::string::npos);
  }
  CHECK(r.Bytes("return cmsgpack.pack(1)") == Hex({0x01}));
}

TEST_CASE("scripts cannot replace struct or cmsgpack") {
  Runner r;
  for (const char* body : {"cmsgpack = nil", "struct = {}", "cmsgpack.pack = nil",
                           "struct.unpack = tostring", "rawset(struct, 'x', 1)"}) {
    CAPTURE(std::string(body));
    CHECK(r.Eval(body).find("Attempt to modify a readonly table") != std::string::npos);
  }
  CHECK(r.Eval("return type(cmsgpack.pack) .. type(struct.size)") == "$16\r\nfunctionfunction\r\n");
}

TEST_CASE("functions see struct and cmsgpack when called, not while their library loads") {
  Engine engine;
  NoCommands host;
  std::string name;
  std::string error;
  CHECK_FALSE(engine.LoadLibrary(
      "#!lua name=early\nlocal s = cmsgpack.pack(1)\nredis.register_function('e', function() end)",
      false, &name, &error));
  CHECK(error ==
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable 'cmsgpack'");
  // Nor any other library: Redis 7.0 gives a library's code only `redis`.
  CHECK_FALSE(engine.LoadLibrary(
      "#!lua name=early\nlocal f = string.format\nredis.register_function('e', function() end)",
      false, &name, &error));
  CHECK(error ==
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable 'string'");
  REQUIRE(
      engine.LoadLibrary("#!lua name=late\nredis.register_function('f', function() "
                         "return cmsgpack.pack(struct.size('>i')) end)",
                         false, &name, &error));
  const Function* f = engine.FindFunction("f");
  REQUIRE(f != nullptr);
  std::string out;
  resp::ReplyWriter writer(&out);
  engine.RunFunction(*f, {}, {}, host, writer);
  CHECK(out == "$1\r\n\x04\r\n");
}

}  // namespace
}  // namespace dynakv::scripting
