// Differential test of the `struct` and `cmsgpack` libraries scripts see: the same EVAL scripts go
// to the server under test and to the installed redis-server 7, and every reply must be the same
// in RESP2 (hiredis) and in RESP3 (byte for byte). The scripts pack seeded random Lua values
// (nested tables, arrays and maps on both sides of every msgpack length boundary, integers next to
// every integer boundary, floats that are and are not exact as float 32, strings of every length
// class, empty tables, booleans, nil, cycles and nesting past the limit) and return the bytes;
// unpack them again (the round trip packed anew, and the values as a reply); walk them with
// unpack_one and unpack_limit from every offset kind; pack and unpack random struct formats with
// every option; and fail in every way the libraries report. FUNCTION libraries use both too.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;

namespace {

using Command = std::vector<std::string>;

// Helpers every generated script starts with: for what a literal cannot say briefly (big tables,
// deep nesting, a cycle), and `show`, a value as text (numbers to the last digit, tables with
// their keys).
const char* kPrelude =
    "local function arr(n, v) local t = {} for i = 1, n do t[i] = v end return t end\n"
    "local function map(n) local t = {} for i = 1, n do t['k' .. i] = i end return t end\n"
    "local function nest(n, v) local t = v for i = 1, n do t = {t} end return t end\n"
    "local function cyc() local t = {} t[1] = t t.x = t return t end\n"
    "local function show(v, depth)\n"
    "  depth = depth or 0\n"
    "  if type(v) == 'number' then return string.format('%.17g', v) end\n"
    "  if type(v) == 'string' then return string.format('%q', v) end\n"
    "  if type(v) ~= 'table' then return tostring(v) end\n"
    "  if depth > 20 then return '...' end\n"
    "  local out, n = {}, #v\n"
    "  for i = 1, n do out[#out + 1] = show(v[i], depth + 1) end\n"
    "  for k, x in pairs(v) do\n"
    "    if type(k) ~= 'number' or k < 1 or k > n or k % 1 ~= 0 then\n"
    "      out[#out + 1] = '[' .. show(k, depth + 1) .. ']=' .. show(x, depth + 1) end end\n"
    "  return '{' .. table.concat(out, ',') .. '}'\n"
    "end\n";

Command Eval(const std::string& body) { return {"EVAL", kPrelude + body, "0"}; }

std::string Number(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

// A Lua string literal of `bytes` (decimal escapes: any byte, NUL included).
std::string Quote(const std::string& bytes) {
  std::string out = "'";
  for (unsigned char c : bytes) {
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c);
    } else {
      out += "\\" + std::to_string(c);
    }
  }
  return out + "'";
}

// Random Lua values, as the source text of an expression.
class LuaValues : public dynakv::itest::SeededChoices {
 public:
  explicit LuaValues(std::uint64_t seed) : SeededChoices(seed) {}
  using SeededChoices::Pick;

  std::string Value(int depth) {
    switch (Pick(depth < 3 ? 10 : 7)) {
      case 0:
        return Of({"nil", "true", "false", "tostring"});  // a function packs as nil
      case 1:
      case 2:
        return Integer();
      case 3:
        return Float();
      case 4:
      case 5:
        return String();
      case 6:
        return Of({"{}", "cyc()", "nest(15, 1)", "nest(16, 'x')", "nest(17, {})", "nest(20, 2)"});
      default:
        return Table(depth);
    }
  }

  // Whole numbers next to each msgpack integer boundary, and past int64's range.
  std::string Integer() {
    static const long long kEdges[] = {
        0,  127, 128, 255,  256,  65535,  65536,  4294967295LL,  4294967296LL,  1LL << 53,
        -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL, -(1LL << 53)};
    switch (Pick(4)) {
      case 0:
      case 1: {
        const long long edge = kEdges[Pick(sizeof kEdges / sizeof kEdges[0])];
        return "(" + std::to_string(edge + Pick(3) - 1) + ")";
      }
      case 2: {
        const long long magnitude = static_cast<long long>(rng_() >> (11 + Pick(53)));
        return "(" + std::string(Pick(2) ? "-" : "") + std::to_string(magnitude) + ")";
      }
      default:
        return Of({"(2^63)", "(-2^63)", "(2^63 - 1024)", "(-2^63 + 1024)", "(2^64)", "(-2^64)",
                   "(2^62 * 3)", "(2^31)", "(-2^31)", "(2^32 + 0.5)"});
    }
  }

  // Floats exact as float 32 and not, and the special values.
  std::string Float() {
    switch (Pick(4)) {
      case 0: {  // a float-32 value: a small numerator over a power of two
        const double value =
            static_cast<double>(static_cast<long long>(rng_() % 2000001) - 1000000) /
            static_cast<double>(1LL << Pick(30));
        return "(" + Number(value) + ")";
      }
      case 1: {  // almost surely needs 64 bits
        const double value =
            (static_cast<double>(rng_() >> 11) / 9007199254740992.0 - 0.5) * (Pick(2) ? 1e6 : 1e-3);
        return "(" + Number(value) + ")";
      }
      case 2:
        return Of({"(0.1)", "(-0.5)", "(1.5)", "(1e300)", "(-1e300)", "(1e-300)",
                   "(3.4028234663852886e38)", "(3.5e38)", "(1.401298464324817e-45)", "(7e-46)",
                   "(16777217)", "(16777216.5)"});
      default:
        return Of({"(1/0)", "(-1/0)", "(0/0)", "(-0.0)", "(0.0)"});
    }
  }

  // A string of every length class: fixstr, str 8, str 16, on both sides of each (the larger
  // boundaries are rare here, and fixed cases, or the scripts would take seconds).
  std::string String() {
    static const int kLengths[] = {0, 1, 31, 32, 33, 255, 256, 257};
    int length = kLengths[Pick(sizeof kLengths / sizeof kLengths[0])];
    if (Pick(3) == 0) length = Pick(300);
    if (Pick(60) == 0) length = Pick(2) ? 65535 : 65536;
    std::string chunk;
    for (int i = 0, n = std::min(length, 1 + Pick(12)); i < n; ++i) {
      chunk += Pick(2) ? static_cast<char>('a' + Pick(26)) : static_cast<char>(rng_() & 0xff);
    }
    if (length == 0) return "''";
    if (length <= 300 && static_cast<int>(chunk.size()) == length) return Quote(chunk);
    const int repeats = length / static_cast<int>(chunk.size());
    const int rest = length % static_cast<int>(chunk.size());
    return "(string.rep(" + Quote(chunk) + ", " + std::to_string(repeats) + ") .. " +
           Quote(chunk.substr(0, rest)) + ")";
  }

  // Arrays and maps around each length boundary, and the tables that are not arrays.
  std::string Table(int depth) {
    switch (Pick(9)) {
      case 0:
      case 1: {  // an array of random values
        const int n = Pick(3) ? Pick(6) : 15 + Pick(3);
        std::string out = "{";
        for (int i = 0; i < n; ++i) out += Value(depth + 1) + ", ";
        return out + "}";
      }
      case 2:
      case 3: {  // a map of random keys and values
        const int n = Pick(3) ? 1 + Pick(5) : 15 + Pick(3);
        std::string out = "{";
        for (int i = 0; i < n; ++i) {
          out += "[" + Key(i) + "] = " + Value(depth + 1) + ", ";
        }
        return out + "}";
      }
      case 4:  // keys 1..n plus something else, or 1..n with a hole
        return Of({"{1, 2, x = 3}", "{[1] = 'a', [3] = 'c'}", "{[2] = 'b'}", "{[0] = 0, 1}",
                   "{[1.5] = 1}", "{[-1] = 1}", "{[true] = 1}", "{[2147483647] = 1}",
                   "{[2147483648] = 1}", "{1, nil, 3}", "{nil, nil, 3}", "{[1] = 1, [2.0] = 2}"});
      case 5:
        if (Pick(30) == 0) return Of({"arr(65535, 1)", "arr(65536, true)"});
        return Of({"arr(15, 1)", "arr(16, 'x')", "arr(17, {})"});
      case 6:
        if (Pick(30) == 0) return Of({"map(65535)", "map(65536)"});
        return Of({"map(15)", "map(16)", "map(17)"});
      case 7:
        return "nest(" + std::to_string(1 + Pick(18)) + ", " + Value(depth + 1) + ")";
      default:
        return "{" + Value(depth + 1) + ", {" + Value(depth + 1) + "}}";
    }
  }

  std::string Key(int i) {
    switch (Pick(4)) {
      case 0:
        return "'k" + std::to_string(i) + "'";
      case 1:
        return std::to_string(i + 1 + Pick(3));
      case 2:
        return Of({"1.5", "-7", "true", "false", "0", "'1'", "''"});
      default: {
        // Under 32 bytes: Redis's Lua hashes every byte of a string, Debian's only a sample of a
        // long one, so tables keyed by long strings iterate in another order (README).
        std::string key;
        for (int n = Pick(32); n > 0; --n) key += static_cast<char>(rng_() & 0xff);
        return Quote(key);
      }
    }
  }

  // One to four values, as an argument list.
  std::string Values() {
    std::string out;
    for (int i = 0, n = 1 + Pick(4); i < n; ++i) out += (i ? ", " : "") + Value(0);
    return out;
  }
};

std::vector<Command> MsgpackCases(std::uint64_t seed) {
  LuaValues values(seed);
  std::vector<Command> cases;
  for (int round = 0; round < 40; ++round) {
    const std::string args = values.Values();
    const std::string packed = "local s = cmsgpack.pack(" + args + ")\n";
    cases.push_back(Eval("return cmsgpack.pack(" + args + ")"));
    cases.push_back(Eval(packed + "return cmsgpack.pack(cmsgpack.unpack(s))"));
    // The values themselves, as text: a reply of them can be deeper than hiredis reads.
    cases.push_back(Eval(packed + "return show({cmsgpack.unpack(s)})"));
    // Walk the stream value by value, from a random start (maybe inside a value).
    const int start = values.Pick(4) == 0 ? values.Pick(12) : 0;
    cases.push_back(Eval(packed + "local out, off = {}, " + std::to_string(start) +
                         "\n"
                         "repeat local r = {cmsgpack.unpack_one(s, off)} off = r[1]\n"
                         "  out[#out + 1] = off out[#out + 1] = cmsgpack.pack(r[2])\n"
                         "until off == -1 or #out > 40\n"
                         "return out"));
    const int limit = values.Pick(4);
    cases.push_back(Eval(packed + "local out, off = {}, " + std::to_string(start) +
                         "\n"
                         "repeat local r = {cmsgpack.unpack_limit(s, " +
                         std::to_string(limit) +
                         ", off)}\n"
                         "  out[#out + 1] = tostring(r[1]) out[#out + 1] = #r\n"
                         "  if r[1] == nil then break end\n"
                         "  out[#out + 1] = cmsgpack.pack(select(2, unpack(r)), 0) off = r[1]\n"
                         "until off == -1 or #out > 40\n"
                         "return out"));
    // Bytes that are mostly not msgpack: a value's first bytes, or noise.
    std::string noise;
    for (int i = 0, n = values.Pick(24); i < n; ++i) noise += static_cast<char>(values.Pick(256));
    const std::string input =
        values.Pick(2) ? "s:sub(1, " + std::to_string(values.Pick(20)) + ")" : Quote(noise);
    cases.push_back(Eval(packed + "return show({pcall(cmsgpack.unpack, " + input + ")})"));
  }
  return cases;
}

// Random struct formats with values that fit them (and some that do not), packed, sized and
// unpacked again.
class StructFormats : public dynakv::itest::SeededChoices {
 public:
  explicit StructFormats(std::uint64_t seed) : SeededChoices(seed), values_(seed * 7 + 1) {}

  // A format of option characters, digits and anything else, over random bytes.
  Command Garbage() {
    static const char kChars[] = "<>!= xbBhHlLTiIfdcs0123456789zq#";
    std::string format, data;
    for (int i = 0, n = 1 + Pick(10); i < n; ++i) format += kChars[Pick(sizeof kChars - 1)];
    for (int i = 0, n = Pick(40); i < n; ++i) data += static_cast<char>(rng_() & 0xff);
    return Eval("local r = {pcall(struct.unpack, " + Quote(format) + ", " + Quote(data) +
                ")} return show({r, {pcall(struct.size, " + Quote(format) + ")}})");
  }

  Command Next() {
    std::string format, args;
    for (int i = 0, n = 1 + Pick(8); i < n; ++i) Item(&format, &args);
    const std::string f = "'" + format + "'";
    const std::string offset = Pick(4) == 0 ? ", " + std::to_string(1 + Pick(4)) : "";
    return Eval("local s = struct.pack(" + f + args +
                ")\n"
                "local ok, size = pcall(struct.size, " +
                f +
                ")\n"
                "local r = {struct.unpack(" +
                f + ", s" + offset +
                ")}\n"
                "for i = 1, #r do if type(r[i]) == 'number' then\n"
                "  r[i] = string.format('%.17g', r[i]) end end\n"
                "return {s, tostring(size), r}");
  }

 private:
  void Item(std::string* format, std::string* args) {
    switch (Pick(14)) {
      case 0:
        *format += Of({"<", ">", "!", "!1", "!2", "!4", "!8", "!16", " "});
        return;
      case 1:
      case 2:
      case 3: {
        const std::string opt = Of({"b", "B", "h", "H", "l", "L", "T", "i", "I"});
        *format += opt;
        *args += ", " + IntegerFor(opt);
        return;
      }
      case 4: {
        const int size = Pick(33);
        const std::string opt = Of({"i", "I"});
        *format += opt + std::to_string(size);
        *args += ", " + (Pick(2) ? values_.Integer() : IntegerFor("l"));
        return;
      }
      case 5:
        *format += Of({"f", "d"});
        *args += ", " + (Pick(3) ? values_.Float() : values_.Integer());
        return;
      case 6:
        *format += "x";
        return;
      case 7: {  // c<n>: a string at least n long
        const int size = 1 + Pick(20);
        *format += "c" + std::to_string(size);
        *args += ", " + Quote(Bytes(size + Pick(3)));
        return;
      }
      case 8: {  // the length, then c0 (packs the whole string, unpacks that many bytes)
        const std::string text = Bytes(Pick(40));
        *format += Of({"B", "i", ">H"}) + "c0";
        *args += ", " + std::to_string(text.size()) + ", " + Quote(text);
        return;
      }
      case 9: {  // s: zero-terminated, so no zero inside
        std::string text = Bytes(Pick(30));
        for (char& c : text) c = c == 0 ? 'z' : c;
        *format += "s";
        *args += ", " + Quote(text);
        return;
      }
      default: {
        const std::string opt = Of({"b", "h", "i", "l", "i2", "I8", "d"});
        *format += opt;
        *args += ", " + IntegerFor("l");
      }
    }
  }

  // A number for an integer option: in its range usually, sometimes past it or fractional.
  std::string IntegerFor(const std::string& opt) {
    const int bits = opt == "b" || opt == "B"   ? 8
                     : opt == "h" || opt == "H" ? 16
                     : opt == "i" || opt == "I" ? 32
                                                : 63;
    switch (Pick(5)) {
      case 0:
        return values_.Integer();
      case 1:
        return Number((static_cast<double>(rng_() % 100000) - 50000) / 7.0);
      default: {
        const long long magnitude = static_cast<long long>(rng_() >> (64 - bits + Pick(bits)));
        return std::to_string(Pick(2) ? -magnitude : magnitude);
      }
    }
  }

  std::string Bytes(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += static_cast<char>(rng_() & 0xff);
    return out;
  }

  LuaValues values_;
};

// Fixed cases: every error each library reports, edge bytes, the sandbox, and FUNCTION code.
std::vector<Command> FixedCases() {
  std::vector<Command> cases;
  for (const char* body :
       {// struct errors.
        "return struct.pack()", "return struct.pack('i')", "return struct.pack('ii', 1)",
        "return struct.pack('i', 'x')", "return struct.pack('=i', 1)", "return struct.pack('z', 1)",
        "return struct.pack(1, 2)", "return struct.pack('!3', 1)", "return struct.pack('!0')",
        "return struct.pack('i33', 1)", "return struct.pack('i99999999999', 1)",
        "return struct.pack('c99999999999', 'x')", "return struct.pack('c5', 'ab')",
        "return struct.pack('bc5', 1, 'ab')", "return struct.pack('s', {})",
        "return struct.pack('c0', nil)", "return struct.unpack('i')",
        "return struct.unpack('i', 'abc')", "return struct.unpack('i', 'abcd', 0)",
        "return struct.unpack('i', 'abcd', -1)", "return struct.unpack('i', 'abcd', 2)",
        "return struct.unpack('i', 'abcd', 'x')", "return struct.unpack('c0', 'abc')",
        "return struct.unpack('bc0', '\\5abc')", "return struct.unpack('s', 'abc')",
        "return struct.unpack('z', 'abc')", "return struct.unpack('!3b', 'abc')",
        "return struct.size()", "return struct.size('s')", "return struct.size('c0')",
        "return struct.size('z')", "return struct.size('!3i')", "return struct.size('=')",
        "return struct.size('!bhilTdfxc3')", "return struct.size('!4bi3!2bd')",
        "return struct.size('i99999999999')",
        // Stack limits, where Redis's are.
        "return select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 9000)))",
        "return select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 9000), 1))",
        "return struct.unpack(string.rep('b', 9000), string.rep('a', 9000))",
        "return #struct.pack(string.rep('c0', 4000), unpack(arr(4000, string.rep('x', 5))))",
        // Number conversions of values out of range.
        "return struct.pack('>L>l>I16<i16', 2^64, 0/0, -2^70, 2^63)",
        "return struct.pack('>b>B>h>H', 300, -300, 1e10, -1e10)",
        "return {struct.unpack('>i9<i9>i16I16', string.rep('\\255', 9) .. string.rep('\\128', 9)"
        " .. string.rep('\\1\\255', 16))}",
        "return {struct.unpack('>f<d', struct.pack('>f<d', 0/0, 1/0))}",
        "return tostring(struct.unpack('>f', struct.pack('>f', 1e300)))",
        "return tostring(struct.unpack('<I8', string.rep('\\255', 8)))",
        // cmsgpack errors.
        "return cmsgpack.pack()", "return cmsgpack.unpack()", "return cmsgpack.unpack({})",
        "return cmsgpack.unpack('')", "return {cmsgpack.unpack_one('')}",
        "return {cmsgpack.unpack_limit('', 1)}", "return cmsgpack.unpack_one()",
        "return cmsgpack.unpack_one('abc', -1)", "return cmsgpack.unpack_one('abc', 7)",
        "return {cmsgpack.unpack_one('abc', 3)}", "return {cmsgpack.unpack_one('abc', 1.5)}",
        "return cmsgpack.unpack_one('abc', 'x')", "return cmsgpack.unpack_limit('abc')",
        "return cmsgpack.unpack_limit('abc', 'x')", "return cmsgpack.unpack_limit('abc', -1)",
        "return {cmsgpack.unpack_limit('abc', 0)}", "return {cmsgpack.unpack_limit('abc', 0, 1)}",
        "return {cmsgpack.unpack_limit('abc', 2, 1)}",
        "return {cmsgpack.unpack_limit('abc', 5, 0)}",
        "return cmsgpack.unpack(string.char(0x81, 0xc0, 1))",
        "return cmsgpack.unpack(string.char(0x81, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 1))",
        "return cmsgpack.unpack(string.char(0x92, 1))",
        "return {cmsgpack.unpack(string.char(0xcf, 255, 255, 255, 255, 255, 255, 255, 255,"
        " 0xcf, 127, 255, 255, 255, 255, 255, 255, 255, 0xd3, 128, 0, 0, 0, 0, 0, 0, 1))}",
        "return {cmsgpack.unpack(string.char(0x93, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0xca,"
        " 0x7f, 0xc0, 0, 0, 0xca, 0x7f, 0x80, 0, 0))}",
        "return cmsgpack.unpack(string.rep(string.char(0x91), 5000) .. '\\1')",
        // The 16/32-bit length boundaries of str, array and map.
        "return cmsgpack.pack(string.rep('x', 65535), string.rep('\\0', 65536), arr(65535, 1),"
        " arr(65536, 2), map(65535), map(65536))",
        "local s = cmsgpack.pack(string.rep('y', 65536), arr(65536, 'z'), map(65536))"
        " return cmsgpack.pack(cmsgpack.unpack(s))",
        "local v = {cmsgpack.unpack(cmsgpack.pack(string.rep('y', 65535), arr(65535, 'z'),"
        " map(65535)))} return {#v[1], #v[2], v[2][65535], v[3].k65535}",
        // Unpacked values as a reply (floats become integers, a nil ends an array).
        "return {cmsgpack.unpack(cmsgpack.pack({1, {2.5, {-3, 'x', {4.5, true, false}}}},"
        " {a = 1}, 'y', 7.9, -7.9, nil, 1))}",
        "redis.setresp(3) return {cmsgpack.unpack(cmsgpack.pack({1, 2.5, true, false},"
        " {a = 1}, 'y'))}",
        "return select('#', cmsgpack.unpack(string.rep('\\1', 7998)))",
        "return select('#', cmsgpack.unpack(string.rep('\\1', 7998), 'x', 'y'))",
        "return select('#', cmsgpack.unpack_limit(string.rep('\\1', 7998), 7998, 0))",
        "return #cmsgpack.pack(unpack(arr(3997, {{}})))",
        "return cmsgpack.pack(unpack(arr(3999, {{}})))",
        "return cmsgpack.pack(unpack(arr(7000, 1)))",
        // The sandbox: the libraries are read-only globals.
        "cmsgpack = nil", "struct = 1", "cmsgpack.pack = nil", "struct.pack = print",
        "rawset(cmsgpack, 'x', 1)", "rawset(struct, 'x', 1)", "return getmetatable(struct)",
        "return {type(cmsgpack.pack), type(cmsgpack.unpack), type(cmsgpack.unpack_one),"
        " type(cmsgpack.unpack_limit), type(struct.pack), type(struct.unpack),"
        " type(struct.size)}",
        "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}",
        "return cmsgpack.nosuch", "return cmsgpack_safe",
        "local t = {} for k, v in pairs(cmsgpack) do t[#t + 1] = k .. '=' .. type(v) end return t",
        "local t = {} for k, v in pairs(struct) do t[#t + 1] = k end return t",
        "return {next(struct)}", "return type(rawget(cmsgpack, 'unpack_one'))",
        "return setmetatable(struct, {})", "return getmetatable(cmsgpack)"}) {
    cases.push_back(Eval(body));
  }
  // Every type byte alone (complete, or missing what follows), and each one followed by bytes.
  for (int type = 0; type < 256; type += 1 + (type >= 0xc0 ? 0 : 5)) {
    cases.push_back(
        Eval("return {pcall(cmsgpack.unpack, string.char(" + std::to_string(type) + "))}"));
    cases.push_back(Eval("return {pcall(cmsgpack.unpack, string.char(" + std::to_string(type) +
                         ") .. string.rep('\\0', 9))}"));
  }
  // FUNCTION code: the functions see both libraries when called; the library's own code, run by
  // FUNCTION LOAD, sees no global but `redis` in Redis 7.0, so neither.
  const std::string library =
      "#!lua name=packlib\n"
      "redis.register_function('mp', function(keys, args)\n"
      "  return {cmsgpack.pack(struct.size('>i4')), cmsgpack.pack(cmsgpack.unpack(args[1]))} end)\n"
      "redis.register_function('st', function(keys, args)\n"
      "  return {struct.unpack(args[1], args[2])} end)\n"
      "redis.register_function('ro', function(keys, args) cmsgpack.pack = nil end)\n";
  cases.push_back({"FUNCTION", "FLUSH"});
  cases.push_back({"FUNCTION", "LOAD", library});
  cases.push_back({"FCALL", "mp", "0", std::string("\x93\x01\xa1x\xc3", 5)});
  cases.push_back({"FCALL", "mp", "0", std::string("\x92\x01", 2)});
  cases.push_back({"FCALL", "st", "0", ">I2c0", std::string("\x00\x02hi", 4)});
  cases.push_back({"FCALL", "st", "0", ">I2c0", std::string("\x00\x09hi", 4)});
  cases.push_back({"FCALL", "ro", "0"});
  cases.push_back({"FUNCTION", "LOAD", "#!lua name=bad\ncmsgpack = 1"});
  cases.push_back({"FUNCTION", "LOAD", "#!lua name=bad1\nlocal s = cmsgpack.pack(1)"});
  cases.push_back({"FUNCTION", "LOAD",
                   "#!lua name=bad3\nlocal s = string.rep('a', 2)\n"
                   "redis.register_function('f3', function() return 1 end)"});
  cases.push_back({"FUNCTION", "LOAD",
                   "#!lua name=bad4\nfor k in pairs({}) do end\n"
                   "redis.register_function('f4', function() return 1 end)"});
  cases.push_back({"FUNCTION", "LOAD", "#!lua name=bad2\nstruct.pack = 1"});
  cases.push_back({"FUNCTION", "FLUSH"});
  return cases;
}

std::vector<Command> AllCases(std::uint64_t seed) {
  std::vector<Command> cases = FixedCases();
  for (Command& c : MsgpackCases(seed)) cases.push_back(std::move(c));
  StructFormats formats(seed);
  for (int i = 0; i < 60; ++i) cases.push_back(formats.Next());
  for (int i = 0; i < 30; ++i) cases.push_back(formats.Garbage());
  return cases;
}

}  // namespace

TEST_CASE("struct and cmsgpack behave as in Redis 7 (RESP2)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client ours_client(ours.port());
  Client reference_client(reference.port());
  dynakv::itest::DifferentialLog log;
  int successes = 0, total = 0;
  for (std::uint64_t seed : dynakv::itest::RunSeeds({41, 42})) {
    CAPTURE(seed);
    for (const Command& argv : AllCases(seed)) {
      const Reply expected = reference_client.Command(argv);
      const Reply got = ours_client.Command(argv);
      log.Record(dynakv::itest::DescribeCommand(argv), dynakv::itest::ReplyText(expected));
      // hiredis reads replies nested up to 7 deep: the cases stay within that (see show).
      REQUIRE_MESSAGE(expected.type != Reply::Type::kIoError, expected.str);
      if (expected.type != Reply::Type::kError) ++successes;
      ++total;
      if (!(got == expected)) log.Mismatch(dynakv::itest::ReplyText(got));
    }
    // Neither keeps every EVAL'd script forever.
    reference_client.Command({"SCRIPT", "FLUSH"});
    ours_client.Command({"SCRIPT", "FLUSH"});
  }
  CHECK(log.mismatches() == 0);
  // Most generated scripts must run to their end, or the values were not tried at all.
  CHECK(successes * 4 > total * 3);
}

TEST_CASE("struct and cmsgpack behave as in Redis 7 (RESP3, byte for byte)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  for (std::uint64_t seed : dynakv::itest::RunSeeds({43})) {
    CAPTURE(seed);
    for (const Command& argv : AllCases(seed)) raw.Compare(argv);
  }
  CHECK(raw.mismatches() == 0);
}
