// The `struct` library Redis 7.0 loads into scripts (Roberto Ierusalimschy's struct 0.2 with
// Redis's bound checks): struct.pack(fmt, ...), struct.unpack(fmt, s [, i]), struct.size(fmt).
// Written from its documented behaviour and checked byte for byte against redis-server 7.0,
// including the quirks scripts can observe: sizes are those of Redis's LP64 build, numbers
// outside an integer's range wrap as x86-64 converts them, `=` is not an option, unknown letters
// count as size 0 in struct.size, and "string too short" names the argument after the short one.
//
// Everything here is plain Lua API: errors are Lua's longjmp, so no C++ object with a destructor
// is alive across a call that can raise.
//
// Format: `>` big endian, `<` little endian, `![n]` alignment (default 8), `x` a zero byte,
// `b`/`B` char, `h`/`H` short, `l`/`L` long, `T` size_t, `i`/`I[n]` an n-byte integer (default
// 4, at most 32), `f` float, `d` double, `c[n]` n bytes (c0: the whole string when packing, the
// previous number read when unpacking), `s` a zero-terminated string, ` ` ignored. Lower case
// integers are signed.

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lua_internal.h"

namespace dynakv::scripting {
namespace {

constexpr int kMaxIntSize = 32;  // bytes of an `i`/`I` integer
constexpr int kMaxAlign = 8;     // `!` without a number: a double's alignment on x86-64

enum Endian { kBig, kLittle };
constexpr Endian kNativeEndian = std::endian::native == std::endian::little ? kLittle : kBig;

struct Options {
  Endian endian = kNativeEndian;
  int align = 1;  // no padding until `!` says so
};

bool IsPowerOf2(int x) { return x > 0 && (x & (x - 1)) == 0; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The number after an option ("i8", "c20", "!4"), or `fallback` when there is none.
int ReadCount(lua_State* lua, const char** fmt, int fallback) {
  if (!IsDigit(**fmt)) return fallback;
  int count = 0;
  do {
    const int digit = **fmt - '0';
    if (count > INT_MAX / 10 || count * 10 > INT_MAX - digit) {
      luaL_error(lua, "integral size overflow");
    }
    count = count * 10 + digit;
    ++*fmt;
  } while (IsDigit(**fmt));
  return count;
}

// The bytes option `opt` takes (reading its count from `fmt`); 0 for the options that take none
// or whose size depends on the data (`s`, `c0`).
std::size_t OptionSize(lua_State* lua, char opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
      return 1;
    case 'H':
    case 'h':
      return 2;
    case 'L':
    case 'l':
    case 'T':
    case 'd':
      return 8;
    case 'f':
      return 4;
    case 'x':
      return 1;
    case 'c':
      return static_cast<std::size_t>(ReadCount(lua, fmt, 1));
    case 'i':
    case 'I': {
      const int size = ReadCount(lua, fmt, 4);
      if (size > kMaxIntSize) {
        luaL_error(lua, "integral size %d is larger than limit of %d", size, kMaxIntSize);
      }
      return static_cast<std::size_t>(size);
    }
    default:
      return 0;
  }
}

// Padding before an item of `size` bytes at offset `pos`, aligned to min(size, align). The
// arithmetic is Redis's, also for sizes that are not powers of two (`i3`).
std::size_t Padding(std::size_t pos, const Options& options, char opt, std::size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<std::size_t>(options.align)) size = options.align;
  return (size - (pos & (size - 1))) & (size - 1);
}

// The options that change how what follows is laid out; anything else is a bad format.
void ApplyControl(lua_State* lua, char opt, const char** fmt, Options* options) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      options->endian = kBig;
      return;
    case '<':
      options->endian = kLittle;
      return;
    case '!': {
      const int align = ReadCount(lua, fmt, kMaxAlign);
      if (!IsPowerOf2(align)) luaL_error(lua, "alignment %d is not a power of 2", align);
      options->align = align;
      return;
    }
    default: {
      const char* message = lua_pushfstring(lua, "invalid format option '%c'", opt);
      luaL_argerror(lua, 1, message);
    }
  }
}

// A Lua number as Redis's x86-64 build turns it into the 64 bits it packs: cvttsd2si for what
// fits a signed 64-bit integer, gcc's unsigned sequence from 2^63 up (0 from 2^64 up), and the
// "integer indefinite" 2^63 pattern for NaN and what lies below -2^63.
std::uint64_t ToPackedBits(double n) {
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr double kTwo64 = 18446744073709551616.0;
  constexpr std::uint64_t kIndefinite = std::uint64_t{1} << 63;
  if (std::isnan(n)) return kIndefinite;
  if (n >= kTwo63) return n < kTwo64 ? static_cast<std::uint64_t>(n) : 0;
  if (n >= -kTwo63) return static_cast<std::uint64_t>(static_cast<std::int64_t>(n));
  return kIndefinite;
}

void ReverseUnlessNative(char* bytes, std::size_t size, Endian endian) {
  if (endian == kNativeEndian) return;
  for (std::size_t i = 0, j = size - 1; i < j; ++i, --j) {
    const char swap = bytes[i];
    bytes[i] = bytes[j];
    bytes[j] = swap;
  }
}

void AddInteger(lua_State* lua, luaL_Buffer* buffer, int arg, Endian endian, std::size_t size) {
  std::uint64_t value = ToPackedBits(luaL_checknumber(lua, arg));
  char bytes[kMaxIntSize];
  // Bytes past the eighth are zeros (the value is shifted out), as in Redis.
  for (std::size_t i = 0; i < size; ++i) {
    bytes[endian == kLittle ? i : size - 1 - i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  luaL_addlstring(buffer, bytes, size);
}

// An integer read as Redis reads it: of more than eight bytes only the last eight shifted in
// count, and the sign mask's shift is taken modulo 64 as x86-64 does.
lua_Number ReadInteger(const char* data, Endian endian, bool is_signed, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) {
    value <<= 8;
    value |= static_cast<unsigned char>(data[endian == kBig ? i : size - 1 - i]);
  }
  if (!is_signed) return static_cast<lua_Number>(value);
  const unsigned shift = static_cast<unsigned>(static_cast<int>(size) * 8 - 1) & 63;
  const std::uint64_t mask = ~std::uint64_t{0} << shift;
  if (value & mask) value |= mask;  // sign extension
  return static_cast<lua_Number>(static_cast<std::int64_t>(value));
}

// 'f' and 'd': the IEEE bytes of a float or double in the requested byte order.
template <typename Float>
void AddFloat(luaL_Buffer* buffer, lua_Number number, Endian endian) {
  const auto value = static_cast<Float>(number);
  char bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);
  ReverseUnlessNative(bytes, sizeof bytes, endian);
  luaL_addlstring(buffer, bytes, sizeof bytes);
}

template <typename Float>
lua_Number ReadFloat(const char* data, Endian endian) {
  char bytes[sizeof(Float)];
  std::memcpy(bytes, data, sizeof bytes);
  ReverseUnlessNative(bytes, sizeof bytes, endian);
  Float value = 0;
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

int Pack(lua_State* lua) {
  const char* fmt = luaL_checkstring(lua, 1);
  Options options;
  int arg = 2;
  std::size_t total = 0;
  // A nil between the arguments and the buffer's pieces: the first missing argument is a nil.
  lua_pushnil(lua);
  luaL_Buffer buffer;
  luaL_buffinit(lua, &buffer);
  while (*fmt != '\0') {
    const char opt = *fmt++;
    std::size_t size = OptionSize(lua, opt, &fmt);
    std::size_t padding = Padding(total, options, opt, size);
    total += padding;
    while (padding-- > 0) luaL_addchar(&buffer, '\0');
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        AddInteger(lua, &buffer, arg++, options.endian, size);
        break;
      case 'x':
        luaL_addchar(&buffer, '\0');
        break;
      case 'f':
        AddFloat<float>(&buffer, luaL_checknumber(lua, arg++), options.endian);
        break;
      case 'd':
        AddFloat<double>(&buffer, luaL_checknumber(lua, arg++), options.endian);
        break;
      case 'c':
      case 's': {
        std::size_t length = 0;
        const char* text = luaL_checklstring(lua, arg++, &length);
        if (size == 0) size = length;
        // `arg` has moved on: Redis names the argument after the short string.
        luaL_argcheck(lua, length >= size, arg, "string too short");
        luaL_addlstring(&buffer, text, size);
        if (opt == 's') {
          luaL_addchar(&buffer, '\0');
          ++size;
        }
        break;
      }
      default:
        ApplyControl(lua, opt, &fmt, &options);
    }
    total += size;
  }
  luaL_pushresult(&buffer);
  return 1;
}

int Unpack(lua_State* lua) {
  Options options;
  const char* fmt = luaL_checkstring(lua, 1);
  std::size_t data_size = 0;
  const char* data = luaL_checklstring(lua, 2, &data_size);
  // Unsigned, as in Redis: a negative offset passes this check and fails as "too short".
  std::size_t pos = static_cast<std::size_t>(luaL_optinteger(lua, 3, 1));
  luaL_argcheck(lua, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  int results = 0;
  while (*fmt != '\0') {
    const char opt = *fmt++;
    std::size_t size = OptionSize(lua, opt, &fmt);
    pos += Padding(pos, options, opt, size);
    luaL_argcheck(lua, size <= data_size && pos <= data_size - size, 2, "data string too short");
    luaL_checkstack(lua, 2, "too many results");  // an item and the next position
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I': {
        const bool is_signed = opt >= 'a' && opt <= 'z';
        lua_pushnumber(lua, ReadInteger(data + pos, options.endian, is_signed, size));
        ++results;
        break;
      }
      case 'x':
        break;
      case 'f':
        lua_pushnumber(lua, ReadFloat<float>(data + pos, options.endian));
        ++results;
        break;
      case 'd':
        lua_pushnumber(lua, ReadFloat<double>(data + pos, options.endian));
        ++results;
        break;
      case 'c': {
        if (size == 0) {  // the length is the number just read
          if (results == 0 || !lua_isnumber(lua, -1)) {
            luaL_error(lua, "format 'c0' needs a previous size");
          }
          size = static_cast<std::size_t>(ToPackedBits(lua_tonumber(lua, -1)));
          lua_pop(lua, 1);
          --results;
          luaL_argcheck(lua, size <= data_size && pos <= data_size - size, 2,
                        "data string too short");
        }
        lua_pushlstring(lua, data + pos, size);
        ++results;
        break;
      }
      case 's': {
        const void* end = std::memchr(data + pos, '\0', data_size - pos);
        if (end == nullptr) luaL_error(lua, "unfinished string in data");
        size = static_cast<std::size_t>(static_cast<const char*>(end) - (data + pos)) + 1;
        lua_pushlstring(lua, data + pos, size - 1);
        ++results;
        break;
      }
      default:
        ApplyControl(lua, opt, &fmt, &options);
    }
    pos += size;
  }
  lua_pushinteger(lua, static_cast<lua_Integer>(pos + 1));  // where the next item starts
  return results + 1;
}

int Size(lua_State* lua) {
  Options options;
  const char* fmt = luaL_checkstring(lua, 1);
  std::size_t pos = 0;
  while (*fmt != '\0') {
    const char opt = *fmt++;
    const std::size_t size = OptionSize(lua, opt, &fmt);
    pos += Padding(pos, options, opt, size);
    if (opt == 's') {
      luaL_argerror(lua, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(lua, 1, "option 'c0' has no fixed size");
    }
    // Only punctuation is checked: an unknown letter is a size-0 item here (Redis's quirk).
    if (!IsAlnum(opt)) ApplyControl(lua, opt, &fmt, &options);
    pos += size;
  }
  lua_pushinteger(lua, static_cast<lua_Integer>(pos));
  return 1;
}

const luaL_Reg kStructFunctions[] = {
    {"pack", Pack}, {"unpack", Unpack}, {"size", Size}, {nullptr, nullptr}};

}  // namespace

int OpenStructLib(lua_State* lua) {
  luaL_register(lua, "struct", kStructFunctions);
  return 1;
}

}  // namespace dynakv::scripting
