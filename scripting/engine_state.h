// The Engine's state, shared by its files (engine.cc: scripts, functions.cc: functions).
#pragma once

#include <chrono>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "lua_internal.h"

namespace dynakv::scripting {

inline constexpr const char* kContextKey = "dynakv.context";
inline constexpr int kHookInstructions = 100000;
// A monotonic clock in nanoseconds (FUNCTION LOAD's deadline).
inline std::uint64_t NowNs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
// The count hook of every run (engine.cc): SCRIPT KILL, and FUNCTION LOAD's time limit.
void CountHook(lua_State* lua, lua_Debug* debug);

struct Engine::State {
  RunContext context;
  lua_State* lua = nullptr;
  std::unordered_map<std::string, Script> scripts;
  std::size_t body_bytes = 0;
  std::map<std::string, Library, std::less<>> libraries;
  std::unordered_map<std::string, Function> functions;
  int gc_count = 0;
  bool running = false;

  State() { Open(); }
  ~State() { Close(); }

  void Open() {
    lua = NewSandboxedState(&context);
    if (lua == nullptr) std::abort();  // out of memory at start
    lua_pushlightuserdata(lua, &context);
    lua_setfield(lua, LUA_REGISTRYINDEX, kContextKey);
  }
  void Close() {
    if (lua != nullptr) lua_close(lua);
    lua = nullptr;
  }
  // Runs what is pushed after the error handler at `handler`: the function and its `nargs`
  // arguments, writing the reply; errors name `name` ("script: <name>, on ...").
  void Call(int handler, int nargs, const std::string& name, ScriptHost& host,
            resp::ReplyWriter& reply);
};

}  // namespace dynakv::scripting
