// The `cmsgpack` library Redis 7.0 loads into scripts (lua-cmsgpack 0.4.0): pack(...),
// unpack(s), unpack_one(s [, offset]), unpack_limit(s, limit [, offset]). Written from its
// documented behaviour and checked byte for byte against redis-server 7.0:
//   - a table whose keys are exactly 1..n (n >= 0, so {} too) is an array, any other a map (in
//     lua_next's order); tables nested 16 deep are packed as nil, which also ends cycles;
//   - a number that is a whole value in [-2^63, 2^63) is the smallest msgpack integer holding
//     it, any other a float 32 when that loses nothing, else a float 64;
//   - strings are str (fixstr, str 8/16/32), never bin; other Lua types are nil;
//   - unpacking reads nil, booleans, every integer and float, str and arrays and maps of them;
//     bin, ext and 0xc1 are "Bad data format in input."; an uint 64 past 2^63 comes back
//     negative, as Redis's lua_pushinteger makes it.
// Stack use follows Redis's (the same lua_checkstack sizes at the same points), so a pack of
// thousands of values or an unpack of thousands of results fails where Redis's does, with its
// texts.

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "lua_internal.h"

namespace dynakv::scripting {
namespace {

constexpr int kMaxNesting = 16;

// ---- Packing: into a std::string. No call below raises a Lua error (lua_checkstack is asked,
// not luaL_checkstack), so the string is destroyed before Pack raises what went wrong.

class Encoder {
 public:
  Encoder(lua_State* lua, std::string* out) : lua_(lua), out_(out) {}

  // Appends the value on the top of the stack and pops it. False when the stack would
  // overflow; overflow() then says where, in Redis's words.
  bool Value(int level);
  const char* overflow() const { return overflow_; }

 private:
  void Byte(unsigned value) { out_->push_back(static_cast<char>(value & 0xff)); }
  void BigEndian(std::uint64_t value, int bytes) {
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) Byte(value >> shift);
  }
  bool Room(int slots, const char* where) {
    if (lua_checkstack(lua_, slots)) return true;
    overflow_ = where;
    return false;
  }
  void String();
  void Integer(std::int64_t n);
  void Float(double d);
  void Header(std::uint64_t n, unsigned fix, unsigned code16);  // array/map length
  bool IsArray();
  bool Table(int level);

  lua_State* lua_;
  std::string* out_;
  const char* overflow_ = nullptr;
};

void Encoder::String() {
  std::size_t length = 0;
  const char* text = lua_tolstring(lua_, -1, &length);
  if (length < 32) {
    Byte(0xa0 | length);
  } else if (length <= 0xff) {
    Byte(0xd9);
    Byte(length);
  } else if (length <= 0xffff) {
    Byte(0xda);
    BigEndian(length, 2);
  } else {
    Byte(0xdb);
    BigEndian(length, 4);
  }
  out_->append(text, length);
}

void Encoder::Integer(std::int64_t n) {
  const auto bits = static_cast<std::uint64_t>(n);
  if (n >= 0) {
    if (n <= 127) {
      Byte(bits);  // positive fixint
    } else if (n <= 0xff) {
      Byte(0xcc);
      Byte(bits);
    } else if (n <= 0xffff) {
      Byte(0xcd);
      BigEndian(bits, 2);
    } else if (n <= 0xffffffffLL) {
      Byte(0xce);
      BigEndian(bits, 4);
    } else {
      Byte(0xcf);
      BigEndian(bits, 8);
    }
  } else if (n >= -32) {
    Byte(bits);  // negative fixint
  } else if (n >= -128) {
    Byte(0xd0);
    Byte(bits);
  } else if (n >= -32768) {
    Byte(0xd1);
    BigEndian(bits, 2);
  } else if (n >= -2147483648LL) {
    Byte(0xd2);
    BigEndian(bits, 4);
  } else {
    Byte(0xd3);
    BigEndian(bits, 8);
  }
}

void Encoder::Float(double d) {
  const auto single = static_cast<float>(d);
  if (d == static_cast<double>(single)) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &single, sizeof bits);
    Byte(0xca);
    BigEndian(bits, 4);
  } else {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    Byte(0xcb);
    BigEndian(bits, 8);
  }
}

void Encoder::Header(std::uint64_t n, unsigned fix, unsigned code16) {
  if (n <= 15) {
    Byte(fix | n);
  } else if (n <= 0xffff) {
    Byte(code16);
    BigEndian(n, 2);
  } else {
    Byte(code16 + 1);  // the 32-bit form follows the 16-bit one (0xdd, 0xdf)
    BigEndian(n, 4);
  }
}

// Whether the table on the top of the stack has exactly the keys 1..n: positive whole numbers
// that fit an int, as many as the largest of them.
bool Encoder::IsArray() {
  const int top = lua_gettop(lua_);
  if (!Room(2, "in function table_is_an_array")) return false;
  int count = 0, max = 0;
  lua_pushnil(lua_);
  while (lua_next(lua_, -2)) {
    lua_pop(lua_, 1);
    if (lua_type(lua_, -1) != LUA_TNUMBER) {
      lua_settop(lua_, top);
      return false;
    }
    const lua_Number n = lua_tonumber(lua_, -1);
    if (!(n > 0 && n <= INT_MAX && std::trunc(n) == n)) {
      lua_settop(lua_, top);
      return false;
    }
    if (n > max) max = static_cast<int>(n);
    ++count;
  }
  lua_settop(lua_, top);
  return max == count;
}

bool Encoder::Table(int level) {
  const bool is_array = IsArray();
  if (overflow_ != nullptr) return false;
  if (is_array) {
    const std::size_t length = lua_objlen(lua_, -1);
    Header(length, 0x90, 0xdc);
    if (!Room(1, "in function mp_encode_lua_table_as_array")) return false;
    for (std::size_t i = 1; i <= length; ++i) {
      lua_pushnumber(lua_, static_cast<lua_Number>(i));
      lua_gettable(lua_, -2);  // keys 1..n exist: no metamethod runs
      if (!Value(level + 1)) return false;
    }
    return true;
  }
  if (!Room(3, "in function mp_encode_lua_table_as_map")) return false;
  std::uint64_t pairs = 0;
  lua_pushnil(lua_);
  while (lua_next(lua_, -2)) {
    lua_pop(lua_, 1);
    ++pairs;
  }
  Header(pairs, 0x80, 0xde);
  lua_pushnil(lua_);
  while (lua_next(lua_, -2)) {  // ... key value
    lua_pushvalue(lua_, -2);    // ... key value key
    if (!Value(level + 1) || !Value(level + 1)) return false;
  }
  return true;
}

bool Encoder::Value(int level) {
  int type = lua_type(lua_, -1);
  if (type == LUA_TTABLE && level == kMaxNesting) type = LUA_TNIL;
  bool ok = true;
  switch (type) {
    case LUA_TSTRING:
      String();
      break;
    case LUA_TBOOLEAN:
      Byte(lua_toboolean(lua_, -1) ? 0xc3 : 0xc2);
      break;
    case LUA_TNUMBER: {
      // A whole number inside int64's range (what x86-64's conversion keeps) is an integer.
      const lua_Number n = lua_tonumber(lua_, -1);
      if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && std::trunc(n) == n) {
        Integer(static_cast<std::int64_t>(n));
      } else {
        Float(n);
      }
      break;
    }
    case LUA_TTABLE:
      ok = Table(level);
      break;
    default:
      Byte(0xc0);
  }
  if (ok) lua_pop(lua_, 1);
  return ok;
}

// Pushes the encoding of argument `arg`, or returns why the stack would overflow.
const char* PackArgument(lua_State* lua, int arg) {
  if (!lua_checkstack(lua, 1)) return "in function mp_check";
  lua_pushvalue(lua, arg);
  std::string out;
  Encoder encoder(lua, &out);
  if (!encoder.Value(0)) return encoder.overflow();
  lua_pushlstring(lua, out.data(), out.size());
  return nullptr;
}

int Pack(lua_State* lua) {
  const int argc = lua_gettop(lua);
  if (argc == 0) return luaL_argerror(lua, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(lua, argc)) {
    return luaL_argerror(lua, 0, "Too many arguments for MessagePack pack.");
  }
  for (int arg = 1; arg <= argc; ++arg) {
    const char* overflow = PackArgument(lua, arg);
    if (overflow != nullptr) return luaL_error(lua, "stack overflow (%s)", overflow);
  }
  lua_concat(lua, argc);
  return 1;
}

// ---- Unpacking: straight onto the Lua stack; Lua errors (a nil or NaN map key, a full stack)
// may raise from anywhere below, so nothing here owns memory.

enum class CursorError { kNone, kEof, kBadFormat };

struct Cursor {
  const unsigned char* p;
  std::size_t left;
  CursorError error = CursorError::kNone;

  bool Need(std::size_t bytes) {
    if (left >= bytes) return true;
    error = CursorError::kEof;
    return false;
  }
  void Consume(std::size_t bytes) {
    p += bytes;
    left -= bytes;
  }
  std::uint64_t BigEndian(int offset, int bytes) const {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = value << 8 | p[offset + i];
    return value;
  }
};

void DecodeValue(lua_State* lua, Cursor* c);

void DecodeArray(lua_State* lua, Cursor* c, std::size_t length) {
  lua_newtable(lua);
  luaL_checkstack(lua, 1, "in function mp_decode_to_lua_array");
  int index = 1;
  while (length-- > 0) {
    lua_pushnumber(lua, index++);
    DecodeValue(lua, c);
    if (c->error != CursorError::kNone) return;
    lua_settable(lua, -3);
  }
}

void DecodeMap(lua_State* lua, Cursor* c, std::size_t length) {
  lua_newtable(lua);
  while (length-- > 0) {
    DecodeValue(lua, c);  // the key
    if (c->error != CursorError::kNone) return;
    DecodeValue(lua, c);
    if (c->error != CursorError::kNone) return;
    lua_settable(lua, -3);  // raises for a nil or NaN key, as Redis's does
  }
}

// Redis pushes unsigned values with lua_pushinteger (a signed 64-bit integer on LP64).
void PushUnsigned(lua_State* lua, std::uint64_t value) {
  lua_pushinteger(lua, static_cast<lua_Integer>(value));
}

// A str whose length is the `bytes`-byte big-endian number after the type byte.
void DecodeString(lua_State* lua, Cursor* c, int bytes) {
  if (!c->Need(1 + bytes)) return;
  const std::size_t length = c->BigEndian(1, bytes);
  c->Consume(1 + bytes);
  if (!c->Need(length)) return;
  lua_pushlstring(lua, reinterpret_cast<const char*>(c->p), length);
  c->Consume(length);
}

// Decodes one value and leaves it on the stack, or sets c->error.
void DecodeValue(lua_State* lua, Cursor* c) {
  if (!c->Need(1)) return;
  // Top-level values are all returned at once: each needs a slot.
  luaL_checkstack(lua, 1,
                  "too many return values at once; use unpack_one or unpack_limit instead.");
  const unsigned char type = c->p[0];
  switch (type) {
    case 0xcc:  // uint 8, 16, 32, 64
    case 0xcd:
    case 0xce:
    case 0xcf: {
      const int bytes = 1 << (type - 0xcc);
      if (!c->Need(1 + bytes)) return;
      PushUnsigned(lua, c->BigEndian(1, bytes));
      c->Consume(1 + bytes);
      return;
    }
    case 0xd0:  // int 8, 16, 32, 64
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const int bytes = 1 << (type - 0xd0);
      if (!c->Need(1 + bytes)) return;
      const std::uint64_t raw = c->BigEndian(1, bytes);
      const int unused = 64 - bytes * 8;  // sign-extend from the top bit read
      const auto value = static_cast<std::int64_t>(raw << unused) >> unused;
      lua_pushnumber(lua, static_cast<lua_Number>(value));
      c->Consume(1 + bytes);
      return;
    }
    case 0xc0:
      lua_pushnil(lua);
      c->Consume(1);
      return;
    case 0xc2:
    case 0xc3:
      lua_pushboolean(lua, type == 0xc3);
      c->Consume(1);
      return;
    case 0xca: {
      if (!c->Need(5)) return;
      const auto bits = static_cast<std::uint32_t>(c->BigEndian(1, 4));
      float value = 0;
      std::memcpy(&value, &bits, sizeof value);
      lua_pushnumber(lua, value);
      c->Consume(5);
      return;
    }
    case 0xcb: {
      if (!c->Need(9)) return;
      const std::uint64_t bits = c->BigEndian(1, 8);
      double value = 0;
      std::memcpy(&value, &bits, sizeof value);
      lua_pushnumber(lua, value);
      c->Consume(9);
      return;
    }
    case 0xd9:
      DecodeString(lua, c, 1);
      return;
    case 0xda:
      DecodeString(lua, c, 2);
      return;
    case 0xdb:
      DecodeString(lua, c, 4);
      return;
    case 0xdc:  // array 16, 32; map 16, 32
    case 0xdd:
    case 0xde:
    case 0xdf: {
      const int bytes = (type & 1) ? 4 : 2;
      if (!c->Need(1 + bytes)) return;
      const std::size_t length = c->BigEndian(1, bytes);
      c->Consume(1 + bytes);
      if (type <= 0xdd) {
        DecodeArray(lua, c, length);
      } else {
        DecodeMap(lua, c, length);
      }
      return;
    }
    default:
      break;
  }
  if ((type & 0x80) == 0) {  // positive fixint
    PushUnsigned(lua, type);
    c->Consume(1);
  } else if ((type & 0xe0) == 0xe0) {  // negative fixint
    lua_pushinteger(lua, static_cast<signed char>(type));
    c->Consume(1);
  } else if ((type & 0xe0) == 0xa0) {  // fixstr
    const std::size_t length = type & 0x1f;
    if (!c->Need(1 + length)) return;
    lua_pushlstring(lua, reinterpret_cast<const char*>(c->p + 1), length);
    c->Consume(1 + length);
  } else if ((type & 0xf0) == 0x90) {  // fixarray
    c->Consume(1);
    DecodeArray(lua, c, type & 0xf);
  } else if ((type & 0xf0) == 0x80) {  // fixmap
    c->Consume(1);
    DecodeMap(lua, c, type & 0xf);
  } else {  // 0xc1, bin, ext
    c->error = CursorError::kBadFormat;
  }
}

// Decodes up to `limit` values from byte `offset` of argument 1. With neither a limit nor an
// offset (unpack, unpack_limit(s, 0)) returns them all; otherwise returns the offset of the
// next value (-1 at the end of the input) in front of them.
int UnpackFrom(lua_State* lua, lua_Integer limit, lua_Integer offset) {
  std::size_t length = 0;
  const char* input = luaL_checklstring(lua, 1, &length);
  if (offset < 0 || limit < 0) {
    // Redis's text shows the input length where it says limit.
    return luaL_error(lua, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(length));
  }
  if (static_cast<std::size_t>(offset) > length) {
    return luaL_error(lua, "Start offset %d greater than input length %d.",
                      static_cast<int>(offset), static_cast<int>(length));
  }
  const bool decode_all = limit == 0 && offset == 0;
  if (decode_all) limit = INT_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(input) + offset,
           length - static_cast<std::size_t>(offset)};
  int count = 0;
  for (; c.left > 0 && count < limit; ++count) {
    DecodeValue(lua, &c);
    if (c.error == CursorError::kEof) return luaL_error(lua, "Missing bytes in input.");
    if (c.error == CursorError::kBadFormat) return luaL_error(lua, "Bad data format in input.");
  }
  if (decode_all) return count;
  luaL_checkstack(lua, 1, "in function mp_unpack_full");
  lua_pushinteger(lua, c.left == 0 ? -1 : static_cast<lua_Integer>(length - c.left));
  lua_insert(lua, 2);  // first result, right above the input
  return count + 1;
}

int Unpack(lua_State* lua) { return UnpackFrom(lua, 0, 0); }

int UnpackOne(lua_State* lua) {
  const lua_Integer offset = luaL_optinteger(lua, 2, 0);
  lua_pop(lua, lua_gettop(lua) - 1);  // with no argument at all, none: "got no value" below
  return UnpackFrom(lua, 1, offset);
}

int UnpackLimit(lua_State* lua) {
  const lua_Integer limit = luaL_checkinteger(lua, 2);
  const lua_Integer offset = luaL_optinteger(lua, 3, 0);
  lua_pop(lua, lua_gettop(lua) - 1);
  return UnpackFrom(lua, limit, offset);
}

}  // namespace

int OpenCmsgpackLib(lua_State* lua) {
  lua_newtable(lua);
  const luaL_Reg functions[] = {
      {"pack", Pack}, {"unpack", Unpack}, {"unpack_one", UnpackOne}, {"unpack_limit", UnpackLimit}};
  for (const luaL_Reg& function : functions) {
    lua_pushcfunction(lua, function.func);
    lua_setfield(lua, -2, function.name);
  }
  // The module's metadata, as scripts can read it in Redis.
  const std::pair<const char*, const char*> metadata[] = {
      {"_NAME", "cmsgpack"},
      {"_VERSION", "lua-cmsgpack 0.4.0"},
      {"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"},
      {"_DESCRIPTION", "MessagePack C implementation for Lua"}};
  for (const auto& [name, value] : metadata) {
    lua_pushstring(lua, value);
    lua_setfield(lua, -2, name);
  }
  return 1;
}

}  // namespace dynakv::scripting
