// The Lua state scripts run in, sandboxed as Redis 7.0's: only the libraries Redis loads, no
// access to files, the OS or the debug library, and globals that scripts can neither create nor
// change (Redis patches its Lua with read-only tables; Debian's Lua has none, so the globals a
// script sees are an empty proxy whose metatable forwards reads and refuses writes).

#include "lua_internal.h"

// Debian's lua-cjson and lua-bitop (their headers declare these without lua.h or C linkage).
extern "C" {
int luaopen_cjson(lua_State* lua);
int luaopen_bit(lua_State* lua);
}

namespace dynakv::scripting {
namespace {

constexpr const char* kProtectedKey = "dynakv.protected";  // registry: proxy -> true
// Registry: a proxy of strings' metatable, what getmetatable gives scripts for a string.
constexpr const char* kStringMetaKey = "dynakv.string_meta";

constexpr const char* kErrorHandler = R"(
local dbg = debug
return function(err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
)";

int ReadOnlyError(lua_State* lua) {
  // Level 1: where the script wrote, as Redis's VM-raised error names it.
  luaL_where(lua, 1);
  lua_pushstring(lua, "Attempt to modify a readonly table");
  lua_concat(lua, 2);
  return lua_error(lua);
}

int MissingGlobalError(lua_State* lua) {
  luaL_where(lua, 1);
  lua_pushfstring(lua, "Script attempted to access nonexistent global variable '%s'",
                  lua_isstring(lua, 2) ? lua_tostring(lua, 2) : "?");
  lua_concat(lua, 2);
  return lua_error(lua);
}

bool IsProtected(lua_State* lua, int index) {
  if (!lua_istable(lua, index)) return false;
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(lua, index);
  lua_rawget(lua, -2);
  const bool is_protected = lua_toboolean(lua, -1);
  lua_pop(lua, 2);
  return is_protected;
}

// Without a position: in Redis the refusal comes from inside rawset or lua_setmetatable, in C.
int ReadOnlyRefusal(lua_State* lua) {
  lua_pushstring(lua, "Attempt to modify a readonly table");
  return lua_error(lua);
}

// Argument 1, or the table behind it when it is a protected proxy: what Redis's read-only
// tables are themselves, for the functions that look at a table raw.
void ReplaceProxyByTarget(lua_State* lua) {
  // Most tables have no metatable: they cost next() no registry look-up.
  if (!lua_getmetatable(lua, 1)) return;
  if (!IsProtected(lua, 1)) {
    lua_pop(lua, 1);
    return;
  }
  lua_pushstring(lua, "__index");
  lua_rawget(lua, -2);
  if (lua_istable(lua, -1)) {
    lua_replace(lua, 1);
    lua_pop(lua, 1);
  } else {
    lua_pop(lua, 2);
  }
}

// rawset, refusing the protected tables (Redis's read-only flag is checked inside rawset too).
int ProtectedRawSet(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  luaL_checkany(lua, 2);
  luaL_checkany(lua, 3);
  if (IsProtected(lua, 1)) return ReadOnlyRefusal(lua);
  lua_settop(lua, 3);
  lua_rawset(lua, 1);
  return 1;
}

// next, pairs and rawget see through a proxy to its table, as in Redis scripts iterate the
// libraries (pairs(cmsgpack)) and the globals. Otherwise Lua 5.1's luaB_next/pairs/rawget.
int ProxyNext(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  lua_settop(lua, 2);
  ReplaceProxyByTarget(lua);
  if (lua_next(lua, 1)) return 2;
  lua_pushnil(lua);
  return 1;
}

int ProxyPairs(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  lua_pushvalue(lua, lua_upvalueindex(1));  // next
  lua_pushvalue(lua, 1);
  lua_pushnil(lua);
  return 3;
}

int ProxyRawGet(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  luaL_checkany(lua, 2);
  lua_settop(lua, 2);
  ReplaceProxyByTarget(lua);
  lua_rawget(lua, 1);
  return 1;
}

// getmetatable/setmetatable as Lua 5.1's, except that a proxy has no metatable and refuses one,
// as Redis's read-only tables (which have none).
int ProxyGetMetatable(lua_State* lua) {
  luaL_checkany(lua, 1);
  if (lua_type(lua, 1) == LUA_TSTRING) {
    lua_getfield(lua, LUA_REGISTRYINDEX, kStringMetaKey);
    return 1;
  }
  if (IsProtected(lua, 1) || !lua_getmetatable(lua, 1)) {
    lua_pushnil(lua);
    return 1;
  }
  luaL_getmetafield(lua, 1, "__metatable");
  return 1;
}

int ProtectedSetMetatable(lua_State* lua) {
  const int type = lua_type(lua, 2);
  luaL_checktype(lua, 1, LUA_TTABLE);
  luaL_argcheck(lua, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table expected");
  if (IsProtected(lua, 1)) return ReadOnlyRefusal(lua);
  if (luaL_getmetafield(lua, 1, "__metatable")) {
    luaL_error(lua, "cannot change a protected metatable");
  }
  lua_settop(lua, 2);
  lua_setmetatable(lua, 1);
  return 1;
}

// table.insert writes with lua_rawseti, past a proxy's __newindex: it refuses the protected
// tables once its arguments passed Lua's own checks (made here, so errors name 'insert'), then
// runs Lua's (upvalue 1). (table.remove and table.sort write nothing to an empty proxy.)
int CheckedTableInsert(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  const int argc = lua_gettop(lua);
  if (argc != 2 && argc != 3) return luaL_error(lua, "wrong number of arguments to 'insert'");
  if (argc == 3) luaL_checkint(lua, 2);
  if (IsProtected(lua, 1)) return ReadOnlyRefusal(lua);
  lua_pushvalue(lua, lua_upvalueindex(1));
  lua_insert(lua, 1);
  lua_call(lua, argc, 0);
  return 0;
}

// Redis 7.0's pcall (luaRedisPcall): an error table (a failed redis.call, error({err=...}))
// is caught as its `err` message, so scripts see the same string as from any other error.
int RedisPcall(lua_State* lua) {
  const int argc = lua_gettop(lua);
  lua_pushboolean(lua, 1);  // the result, in front of what the call returns
  lua_insert(lua, 1);
  if (lua_pcall(lua, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(lua, 1);
    if (lua_istable(lua, -1)) {
      lua_getfield(lua, -1, "err");
      if (lua_isstring(lua, -1)) {
        lua_replace(lua, -2);
      } else {
        lua_pop(lua, 1);
      }
    }
    lua_pushboolean(lua, 0);
    lua_insert(lua, 1);
  }
  return lua_gettop(lua);
}

// Replaces the table on the top of the stack by an empty proxy that reads through to it and
// refuses writes; `missing` (a C function or nil) answers reads of absent names.
void PushProxy(lua_State* lua) {
  const int target = lua_gettop(lua);
  lua_newtable(lua);  // the proxy
  lua_newtable(lua);  // its metatable
  lua_pushvalue(lua, target);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadOnlyError);
  lua_setfield(lua, -2, "__newindex");
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable");  // no getmetatable/setmetatable on it
  lua_setmetatable(lua, -2);
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_replace(lua, target);
}

void OpenLibrary(lua_State* lua, lua_CFunction open, const char* name) {
  lua_pushcfunction(lua, open);
  lua_pushstring(lua, name);
  lua_call(lua, 1, 1);
  // luaopen_cjson returns its table without setting a global; the others set one too.
  if (lua_istable(lua, -1))
    lua_setglobal(lua, name);
  else
    lua_pop(lua, 1);
}

// The globals FUNCTION LOAD's code runs with (Redis 7.0's library API): nothing but a `redis`
// that only registers functions and logs. Reading any other global (string, cjson, struct,
// cmsgpack, pairs, ...) or anything else of `redis` (redis.call) is the missing-global error, as
// in Redis 7.0; the functions it registers see all the libraries when they are called.
void PushLoadGlobals(lua_State* lua, RunContext* context) {
  lua_newtable(lua);
  const int globals = lua_gettop(lua);
  lua_newtable(lua);  // the load-time redis
  lua_pushlightuserdata(lua, context);
  lua_pushcclosure(lua, RegisterFunction, 1);
  lua_setfield(lua, -2, "register_function");
  lua_getglobal(lua, "redis");
  for (const char* name : {"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING",
                           "REDIS_VERSION", "REDIS_VERSION_NUM"}) {
    lua_getfield(lua, -1, name);
    lua_setfield(lua, -3, name);
  }
  lua_pop(lua, 1);
  lua_newtable(lua);
  lua_pushcfunction(lua, MissingGlobalError);
  lua_setfield(lua, -2, "__index");
  lua_setmetatable(lua, -2);
  PushProxy(lua);
  lua_setfield(lua, globals, "redis");
  lua_newtable(lua);
  lua_pushcfunction(lua, MissingGlobalError);
  lua_setfield(lua, -2, "__index");
  lua_setmetatable(lua, globals);
}

}  // namespace

lua_State* NewSandboxedState(RunContext* context) {
  lua_State* lua = luaL_newstate();
  if (lua == nullptr) return nullptr;
  OpenLibrary(lua, luaopen_base, "");
  OpenLibrary(lua, luaopen_table, LUA_TABLIBNAME);
  OpenLibrary(lua, luaopen_string, LUA_STRLIBNAME);
  OpenLibrary(lua, luaopen_math, LUA_MATHLIBNAME);
  OpenLibrary(lua, luaopen_debug, LUA_DBLIBNAME);  // for the error handler only; removed below
  OpenLibrary(lua, luaopen_cjson, "cjson");
  OpenLibrary(lua, OpenStructLib, "struct");
  OpenLibrary(lua, OpenCmsgpackLib, "cmsgpack");
  OpenLibrary(lua, luaopen_bit, "bit");
  OpenRedisLib(lua, context);
  // Redis's error handler (__redis__err__handler): adds where the error happened to the error
  // table, making one of a plain error message. It keeps the debug library to itself.
  if (luaL_loadstring(lua, kErrorHandler) != 0 || lua_pcall(lua, 0, 1, 0) != 0) {
    lua_close(lua);
    return nullptr;
  }
  lua_setfield(lua, LUA_REGISTRYINDEX, kErrorHandlerKey);

  // What Redis's scripts do not get: files, modules, the environment functions that would let a
  // script reach the unprotected globals, and print (Redis removes it too).
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "module", "require",
                           "newproxy", "package", "debug"}) {
    lua_pushnil(lua);
    lua_setglobal(lua, name);
  }
  lua_pushcfunction(lua, ProtectedRawSet);
  lua_setglobal(lua, "rawset");
  lua_pushcfunction(lua, ProxyRawGet);
  lua_setglobal(lua, "rawget");
  lua_pushcfunction(lua, ProxyNext);
  lua_setglobal(lua, "next");
  lua_pushcfunction(lua, ProxyNext);  // another closure, as Lua's pairs has (pairs{} ~= next)
  lua_pushcclosure(lua, ProxyPairs, 1);
  lua_setglobal(lua, "pairs");
  lua_pushcfunction(lua, ProxyGetMetatable);
  lua_setglobal(lua, "getmetatable");
  lua_pushcfunction(lua, ProtectedSetMetatable);
  lua_setglobal(lua, "setmetatable");
  lua_pushcfunction(lua, RedisPcall);
  lua_setglobal(lua, "pcall");
  lua_getglobal(lua, "table");
  lua_getfield(lua, -1, "insert");
  lua_pushcclosure(lua, CheckedTableInsert, 1);
  lua_setfield(lua, -2, "insert");
  lua_pop(lua, 1);

  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kProtectedKey);
  // The libraries become read-only proxies.
  for (const char* name :
       {"table", "string", "math", "coroutine", "cjson", "struct", "cmsgpack", "bit", "redis"}) {
    lua_getglobal(lua, name);
    if (!lua_istable(lua, -1)) {
      lua_pop(lua, 1);
      continue;
    }
    PushProxy(lua);
    lua_setglobal(lua, name);
  }
  // Strings' metatable (Lua's only metatable of a basic type) reaches the string library: its
  // __index becomes the proxy, and scripts get a proxy of it, so neither can be changed through
  // getmetatable('') (Redis makes both read-only).
  lua_pushliteral(lua, "");
  if (lua_getmetatable(lua, -1)) {
    lua_getglobal(lua, "string");
    lua_setfield(lua, -2, "__index");
    PushProxy(lua);
    lua_setfield(lua, LUA_REGISTRYINDEX, kStringMetaKey);
  }
  lua_pop(lua, 1);
  PushLoadGlobals(lua, context);
  lua_setfield(lua, LUA_REGISTRYINDEX, kLoadGlobalsKey);
  // The real globals table answers reads of missing names with Redis's error...
  lua_pushvalue(lua, LUA_GLOBALSINDEX);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRealGlobalsKey);
  lua_pushvalue(lua, LUA_GLOBALSINDEX);
  lua_newtable(lua);
  lua_pushcfunction(lua, MissingGlobalError);
  lua_setfield(lua, -2, "__index");
  lua_setmetatable(lua, -2);
  // ... and hides behind a proxy that is the globals table from now on: scripts, and what they
  // compile with loadstring, see only the proxy (and _G is the proxy).
  PushProxy(lua);
  lua_pushvalue(lua, -1);
  lua_setfield(lua, LUA_GLOBALSINDEX, "_G");
  lua_getmetatable(lua, -1);  // FUNCTION LOAD points its __index at the load globals
  lua_setfield(lua, LUA_REGISTRYINDEX, kGlobalsMetaKey);
  lua_replace(lua, LUA_GLOBALSINDEX);
  return lua;
}

}  // namespace dynakv::scripting
