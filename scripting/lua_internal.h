// What the scripting library's files share; not part of its public header.
#pragma once

#include <cstdint>
#include <lua.hpp>
#include <string>
#include <string_view>

#include "resp/reply_writer.h"
#include "scripting/scripting.h"

namespace dynakv::scripting {

// The state of the script running now, reached by the `redis` library's C functions through an
// upvalue. Outlives every Lua state the Engine creates.
struct RunContext {
  ScriptHost* host = nullptr;  // nullptr: no script is running
  int resp = 2;                // redis.setresp
  bool killed = false;         // SCRIPT KILL was honoured; the hook fires on every line since
  std::uint64_t load_deadline_ns = 0;  // FUNCTION LOAD: its code's time limit (NowNs)
};

// Registry keys: the script error handler, and the globals table behind the read-only proxy
// (where KEYS and ARGV are set).
inline constexpr const char* kErrorHandlerKey = "dynakv.error_handler";
inline constexpr const char* kRealGlobalsKey = "dynakv.real_globals";
// FUNCTION LOAD: the globals its code sees, the metatable of the globals proxy (whose __index is
// pointed at them during a load), and the functions registered so far (an array of
// {name=, callback=, flags=, description=}).
inline constexpr const char* kLoadGlobalsKey = "dynakv.load_globals";
inline constexpr const char* kGlobalsMetaKey = "dynakv.globals_meta";
inline constexpr const char* kPendingFunctionsKey = "dynakv.pending_functions";

// A new Lua state with Redis's libraries (base, table, string, math, coroutine, cjson, struct,
// cmsgpack, bit, redis) and its sandbox: no io, os, debug, loadfile, dofile, require; the globals
// and the libraries read-only; reading a missing global is an error. lua_sandbox.cc.
lua_State* NewSandboxedState(RunContext* context);
// redis.register_function, as FUNCTION LOAD's code calls it. functions.cc.
int RegisterFunction(lua_State* lua);
// The `struct` and `cmsgpack` libraries Redis loads (lua_struct.cc, lua_cmsgpack.cc): each
// pushes its table (struct also sets its global, as luaL_register does).
int OpenStructLib(lua_State* lua);
int OpenCmsgpackLib(lua_State* lua);
// Installs the `redis` table into the (still writable) globals. redis_lib.cc.
void OpenRedisLib(lua_State* lua, RunContext* context);

// Pushes the error table Redis builds from an error text (luaPushErrorBuff): "-CODE msg" or
// "CODE msg" keep their code, a text without a space gets "ERR ", a trailing CRLF goes.
void PushErrorTable(lua_State* lua, std::string_view error);
// Pushes the Lua value of one complete RESP reply (`resp` bytes), as Redis's
// redisProtocolToLuaType converts it.
void PushReply(lua_State* lua, std::string_view resp);
// Writes the Lua value on the top of the stack as a reply and pops it (luaReplyToRedisReply);
// `script_resp` is the script's redis.setresp, which decides how booleans are written.
void WriteReply(lua_State* lua, int script_resp, resp::ReplyWriter& reply);

}  // namespace dynakv::scripting
