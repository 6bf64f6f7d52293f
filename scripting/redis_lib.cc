// The `redis` table scripts call (Redis 7.0's script_lua.c): call, pcall, error_reply,
// status_reply, sha1hex, log, setresp, set_repl, replicate_commands, and the constants.
//
// These are C functions under Lua's longjmp-based errors: each does its work in a helper whose
// C++ objects are gone before lua_error runs.

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "lua_internal.h"

namespace dynakv::scripting {
namespace {

constexpr int kLogDebug = 0, kLogVerbose = 1, kLogNotice = 2, kLogWarning = 3;
constexpr int kReplNone = 0, kReplAof = 1, kReplReplica = 2, kReplAll = 3;

RunContext& Context(lua_State* lua) {
  return *static_cast<RunContext*>(lua_touserdata(lua, lua_upvalueindex(1)));
}

// Runs the command the arguments name. Returns the number of results, or -1 with the error to
// raise on the top of the stack.
int GenericCommand(lua_State* lua, bool raise_error) {
  RunContext& context = Context(lua);
  const int argc = lua_gettop(lua);
  auto fail = [&](std::string_view error) {
    PushErrorTable(lua, error);
    return raise_error ? -1 : 1;
  };
  if (context.host == nullptr) {
    return fail("redis.call/pcall can only be called inside a script invocation");
  }
  if (argc == 0) return fail("Please specify at least one argument for this redis lib call");
  std::vector<std::string_view> argv;
  argv.reserve(static_cast<std::size_t>(argc));
  std::deque<std::string> numbers;  // stable addresses for the views
  for (int i = 1; i <= argc; ++i) {
    const int type = lua_type(lua, i);
    if (type == LUA_TNUMBER) {
      // Not lua_tolstring: Lua's "%.14g" loses precision.
      char buf[64];
      const int len = std::snprintf(buf, sizeof(buf), "%.17g", lua_tonumber(lua, i));
      argv.push_back(numbers.emplace_back(buf, static_cast<std::size_t>(len)));
    } else if (type == LUA_TSTRING) {
      std::size_t len = 0;
      const char* text = lua_tolstring(lua, i, &len);
      argv.emplace_back(text, len);
    } else {
      return fail("Lua redis lib command arguments must be strings or integers");
    }
  }
  std::string reply;
  context.host->Call(argv, context.resp, &reply);
  PushReply(lua, reply);
  return raise_error && !reply.empty() && reply[0] == '-' ? -1 : 1;
}

int Call(lua_State* lua) {
  const int results = GenericCommand(lua, true);
  return results < 0 ? lua_error(lua) : results;
}

int PCall(lua_State* lua) { return GenericCommand(lua, false); }

int ErrorReply(lua_State* lua) {
  if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) {
    PushErrorTable(lua, "wrong number or type of arguments");
    return 1;
  }
  std::size_t len = 0;
  const char* text = lua_tolstring(lua, -1, &len);
  std::string error(text, len);
  if (error.empty() || error[0] != '-') error.insert(0, 1, '-');
  PushErrorTable(lua, error);
  return 1;
}

int StatusReply(lua_State* lua) {
  if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) {
    PushErrorTable(lua, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(lua);
  lua_pushvalue(lua, 1);
  lua_setfield(lua, -2, "ok");
  return 1;
}

int RaiseError(lua_State* lua, const char* message) {
  PushErrorTable(lua, message);
  return lua_error(lua);
}

int Sha1HexFunction(lua_State* lua) {
  if (lua_gettop(lua) != 1) return RaiseError(lua, "wrong number of arguments");
  std::size_t len = 0;
  const char* text = lua_tolstring(lua, 1, &len);
  char digest[41];
  {
    const std::string hex = Sha1Hex(std::string_view(text == nullptr ? "" : text, len));
    hex.copy(digest, 40);
  }
  digest[40] = '\0';
  lua_pushstring(lua, digest);
  return 1;
}

// Returns false when the arguments are bad, with the error text in *error.
bool LogMessage(lua_State* lua, const char** error) {
  const int argc = lua_gettop(lua);
  if (argc < 2) {
    *error = "redis.log() requires two arguments or more.";
    return false;
  }
  if (!lua_isnumber(lua, 1)) {
    *error = "First argument must be a number (log level).";
    return false;
  }
  const int level = static_cast<int>(lua_tonumber(lua, 1));
  if (level < kLogDebug || level > kLogWarning) {
    *error = "Invalid debug level.";
    return false;
  }
  std::string message;
  for (int i = 2; i <= argc; ++i) {
    std::size_t len = 0;
    const char* text = lua_tolstring(lua, i, &len);
    if (text == nullptr) continue;
    if (i != 2) message += ' ';
    message.append(text, len);
  }
  RunContext& context = Context(lua);
  if (context.host != nullptr) context.host->Log(level, message);
  return true;
}

int Log(lua_State* lua) {
  const char* error = nullptr;
  if (!LogMessage(lua, &error)) return RaiseError(lua, error);
  return 0;
}

int SetResp(lua_State* lua) {
  if (lua_gettop(lua) != 1) return RaiseError(lua, "redis.setresp() requires one argument.");
  const int resp = static_cast<int>(lua_tonumber(lua, 1));
  if (resp != 2 && resp != 3) return RaiseError(lua, "RESP version must be 2 or 3.");
  Context(lua).resp = resp;
  return 0;
}

// The commit log records a script's effects, whatever it asks: the flags are checked, as Redis
// checks them, and have nothing to change.
int SetRepl(lua_State* lua) {
  if (lua_gettop(lua) != 1) return RaiseError(lua, "redis.set_repl() requires one argument.");
  const int flags = static_cast<int>(lua_tonumber(lua, 1));
  if ((flags & ~kReplAll) != 0) {
    return RaiseError(lua,
                      "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                      "REPL_NONE.");
  }
  return 0;
}

int ReplicateCommands(lua_State* lua) {
  lua_pushboolean(lua, 1);  // always on since Redis 7.0
  return 1;
}

int Breakpoint(lua_State* lua) {
  lua_pushboolean(lua, 0);  // no debugger session
  return 1;
}

int Debug(lua_State*) { return 0; }

void SetFunction(lua_State* lua, RunContext* context, const char* name, lua_CFunction function) {
  lua_pushlightuserdata(lua, context);
  lua_pushcclosure(lua, function, 1);
  lua_setfield(lua, -2, name);
}

void SetNumber(lua_State* lua, const char* name, int value) {
  lua_pushnumber(lua, value);
  lua_setfield(lua, -2, name);
}

}  // namespace

void OpenRedisLib(lua_State* lua, RunContext* context) {
  lua_newtable(lua);
  SetFunction(lua, context, "call", Call);
  SetFunction(lua, context, "pcall", PCall);
  SetFunction(lua, context, "error_reply", ErrorReply);
  SetFunction(lua, context, "status_reply", StatusReply);
  SetFunction(lua, context, "sha1hex", Sha1HexFunction);
  SetFunction(lua, context, "log", Log);
  SetFunction(lua, context, "setresp", SetResp);
  SetFunction(lua, context, "set_repl", SetRepl);
  SetFunction(lua, context, "replicate_commands", ReplicateCommands);
  SetFunction(lua, context, "breakpoint", Breakpoint);
  SetFunction(lua, context, "debug", Debug);
  SetNumber(lua, "LOG_DEBUG", kLogDebug);
  SetNumber(lua, "LOG_VERBOSE", kLogVerbose);
  SetNumber(lua, "LOG_NOTICE", kLogNotice);
  SetNumber(lua, "LOG_WARNING", kLogWarning);
  SetNumber(lua, "REPL_NONE", kReplNone);
  SetNumber(lua, "REPL_AOF", kReplAof);
  SetNumber(lua, "REPL_SLAVE", kReplReplica);
  SetNumber(lua, "REPL_REPLICA", kReplReplica);
  SetNumber(lua, "REPL_ALL", kReplAll);
  // The Redis version dynakv answers as (server/command_util.h kRedisCompatVersion).
  lua_pushstring(lua, "7.0.15");
  lua_setfield(lua, -2, "REDIS_VERSION");
  SetNumber(lua, "REDIS_VERSION_NUM", 0x07000f);
  lua_setglobal(lua, "redis");
}

}  // namespace dynakv::scripting
