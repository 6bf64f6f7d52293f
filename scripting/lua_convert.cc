// RESP <-> Lua, as Redis 7.0's script_lua.c converts: a command's reply becomes the value
// redis.call returns, and a script's return value becomes its reply.

#include <algorithm>
#include <climits>
#include <string>

#include "lua_internal.h"
#include "resp/reply_reader.h"

namespace dynakv::scripting {
namespace {

void SetField(lua_State* lua, const char* name) {  // t[name] = top, popped
  lua_setfield(lua, -2, name);
}

void PushString(lua_State* lua, std::string_view text) {
  lua_pushlstring(lua, text.data(), text.size());
}

// Pushes the value of the next element of `reader` (and of everything it contains).
void PushElement(lua_State* lua, resp::ReplyReader& reader) {
  using resp::ReplyType;
  resp::ReplyElement element = reader.Next();
  // Attributes describe the reply that follows them; scripts never see them (as in Redis).
  while (element.type == ReplyType::kAttribute) {
    for (long long i = 0; i < element.count * 2; ++i) {
      PushElement(lua, reader);
      lua_pop(lua, 1);
    }
    element = reader.Next();
  }
  lua_checkstack(lua, 4);
  switch (element.type) {
    case ReplyType::kStatus:
      lua_newtable(lua);
      PushString(lua, element.text);
      SetField(lua, "ok");
      return;
    case ReplyType::kError: {
      std::string error = "-";
      error.append(element.text);
      PushErrorTable(lua, error);
      return;
    }
    case ReplyType::kInteger:
      lua_pushnumber(lua, static_cast<lua_Number>(element.integer));
      return;
    case ReplyType::kBulk:
      PushString(lua, element.text);
      return;
    case ReplyType::kNullBulk:
    case ReplyType::kNullArray:
      lua_pushboolean(lua, 0);
      return;
    case ReplyType::kNull:
      lua_pushnil(lua);
      return;
    case ReplyType::kBool:
      lua_pushboolean(lua, element.integer != 0);
      return;
    case ReplyType::kDouble:
      lua_newtable(lua);
      lua_pushnumber(lua, element.number);
      SetField(lua, "double");
      return;
    case ReplyType::kBigNumber:
      lua_newtable(lua);
      PushString(lua, element.text);
      SetField(lua, "big_number");
      return;
    case ReplyType::kVerbatim:
      lua_newtable(lua);
      lua_newtable(lua);
      PushString(lua, element.format);
      SetField(lua, "format");
      PushString(lua, element.text);
      SetField(lua, "string");
      SetField(lua, "verbatim_string");
      return;
    case ReplyType::kArray:
    case ReplyType::kPush:
      lua_newtable(lua);
      for (long long i = 1; i <= element.count; ++i) {
        lua_pushnumber(lua, static_cast<lua_Number>(i));
        PushElement(lua, reader);
        lua_settable(lua, -3);
      }
      return;
    case ReplyType::kMap:
      lua_newtable(lua);
      lua_newtable(lua);
      for (long long i = 0; i < element.count; ++i) {
        PushElement(lua, reader);  // key
        PushElement(lua, reader);  // value
        if (lua_isnil(lua, -2)) {
          lua_pop(lua, 2);  // a nil key cannot be stored
        } else {
          lua_settable(lua, -3);
        }
      }
      SetField(lua, "map");
      return;
    case ReplyType::kSet:
      lua_newtable(lua);
      lua_newtable(lua);
      for (long long i = 0; i < element.count; ++i) {
        PushElement(lua, reader);
        if (lua_isnil(lua, -1)) {
          lua_pop(lua, 1);
        } else {
          lua_pushboolean(lua, 1);
          lua_settable(lua, -3);
        }
      }
      SetField(lua, "set");
      return;
    case ReplyType::kAttribute:
    case ReplyType::kInvalid:
      break;
  }
  lua_pushboolean(lua, 0);  // unreachable for replies the server wrote
}

// CR and LF cannot appear inside a status or big number line.
std::string WithoutNewlines(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The string field `name` of the table on the top, if it is one.
bool StringField(lua_State* lua, const char* name, std::string_view* value) {
  lua_pushstring(lua, name);
  lua_rawget(lua, -2);
  const bool found = lua_type(lua, -1) == LUA_TSTRING;
  if (found) {
    std::size_t len = 0;
    const char* text = lua_tolstring(lua, -1, &len);
    *value = std::string_view(text, len);  // stays valid: the table holds the string
  }
  lua_pop(lua, 1);
  return found;
}

void WriteTable(lua_State* lua, int script_resp, resp::ReplyWriter& reply) {
  std::string_view text;
  if (StringField(lua, "err", &text)) {
    std::string error(text);
    if (!error.empty() && error[0] == '-') error.erase(0, 1);
    reply.Error(error);
    return;
  }
  if (StringField(lua, "ok", &text)) {
    reply.Simple(WithoutNewlines(text));
    return;
  }
  lua_pushstring(lua, "double");
  lua_rawget(lua, -2);
  if (lua_type(lua, -1) == LUA_TNUMBER) {
    reply.Double(lua_tonumber(lua, -1));
    lua_pop(lua, 1);
    return;
  }
  lua_pop(lua, 1);
  if (StringField(lua, "big_number", &text)) {
    reply.BigNumber(WithoutNewlines(text));
    return;
  }
  lua_pushstring(lua, "map");
  lua_rawget(lua, -2);
  if (lua_type(lua, -1) == LUA_TTABLE) {
    std::size_t pairs = 0;
    lua_pushnil(lua);
    while (lua_next(lua, -2)) {
      lua_pop(lua, 1);
      ++pairs;
    }
    reply.MapHeader(pairs);
    lua_pushnil(lua);
    while (lua_next(lua, -2)) {
      lua_pushvalue(lua, -2);
      WriteReply(lua, script_resp, reply);  // the key
      WriteReply(lua, script_resp, reply);  // the value
    }
    lua_pop(lua, 1);
    return;
  }
  lua_pop(lua, 1);
  lua_pushstring(lua, "set");
  lua_rawget(lua, -2);
  if (lua_type(lua, -1) == LUA_TTABLE) {
    std::size_t count = 0;
    lua_pushnil(lua);
    while (lua_next(lua, -2)) {
      lua_pop(lua, 1);
      ++count;
    }
    reply.SetHeader(count);
    lua_pushnil(lua);
    while (lua_next(lua, -2)) {
      lua_pop(lua, 1);
      lua_pushvalue(lua, -1);
      WriteReply(lua, script_resp, reply);  // the member; its value is ignored
    }
    lua_pop(lua, 1);
    return;
  }
  lua_pop(lua, 1);
  // An array, up to its first nil.
  std::size_t count = 0;
  for (;;) {
    lua_rawgeti(lua, -1, static_cast<int>(count + 1));
    const bool nil = lua_isnil(lua, -1);
    lua_pop(lua, 1);
    if (nil) break;
    ++count;
  }
  reply.ArrayHeader(count);
  for (std::size_t i = 1; i <= count; ++i) {
    lua_rawgeti(lua, -1, static_cast<int>(i));
    WriteReply(lua, script_resp, reply);
  }
}

}  // namespace

void PushErrorTable(lua_State* lua, std::string_view error) {
  std::string code = "ERR";
  std::string_view message = error;
  if (!error.empty() && error[0] == '-') {
    const std::size_t space = error.find(' ');
    if (space == std::string_view::npos) {
      message = error.substr(1);
    } else {
      code.assign(error.substr(1, space - 1));
      message = error.substr(space + 1);
    }
  }
  while (!message.empty() && (message.back() == '\r' || message.back() == '\n')) {
    message.remove_suffix(1);
  }
  while (!message.empty() && (message.front() == '\r' || message.front() == '\n')) {
    message.remove_prefix(1);
  }
  std::string text = code;
  text += ' ';
  text.append(message);
  lua_newtable(lua);
  PushString(lua, text);
  lua_setfield(lua, -2, "err");
}

void PushReply(lua_State* lua, std::string_view resp) {
  resp::ReplyReader reader(resp);
  PushElement(lua, reader);
}

void WriteReply(lua_State* lua, int script_resp, resp::ReplyWriter& reply) {
  // A table that holds itself would recurse until the C stack ran out: Redis stops at the Lua
  // stack's limit with this error.
  if (!lua_checkstack(lua, 4)) {
    reply.Error("ERR reached lua stack limit");
    lua_pop(lua, 1);
    return;
  }
  switch (lua_type(lua, -1)) {
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* text = lua_tolstring(lua, -1, &len);
      reply.Bulk(std::string_view(text, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(lua, -1)) {
          reply.Integer(1);
        } else {
          reply.Null();
        }
      } else {
        reply.Bool(lua_toboolean(lua, -1) != 0);
      }
      break;
    case LUA_TNUMBER: {
      // Truncated as Redis's (long long) cast; out of range (and NaN) gives what that cast gives
      // on x86-64 instead of undefined behaviour.
      const double number = lua_tonumber(lua, -1);
      const bool fits = number > -9223372036854775808.0 && number < 9223372036854775808.0;
      reply.Integer(fits ? static_cast<long long>(number) : LLONG_MIN);
      break;
    }
    case LUA_TTABLE:
      WriteTable(lua, script_resp, reply);
      break;
    default:
      reply.Null();
      break;
  }
  lua_pop(lua, 1);
}

}  // namespace dynakv::scripting
