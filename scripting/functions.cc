// Redis 7.0's functions (function_lua.c, functions.c): FUNCTION LOAD runs a library's code once,
// with a `redis` that only registers functions, and FCALL calls what it registered.

#include "engine_state.h"

namespace dynakv::scripting {
namespace {

// Redis's FUNCTION LOAD time limit for the library's own code.
constexpr std::uint64_t kLoadTimeoutNs = 500ull * 1000000;

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

constexpr const char* kBadName =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one "
    "character long";

bool FlagByName(std::string_view name, std::uint32_t* flag) {
  std::uint32_t flags = 0;
  std::size_t ignored = 0;
  std::string error;
  // The shebang's flag names are the functions' flag names.
  if (!ParseShebang("#!lua flags=" + std::string(name), &flags, &ignored, &error)) return false;
  *flag = flags;
  return true;
}

// Raises the error table of `message` (Redis's luaPushError + luaError).
int Raise(lua_State* lua, const char* message) {
  PushErrorTable(lua, message);
  return lua_error(lua);
}

// Reads the named arguments of redis.register_function{...} onto the stack as name, callback,
// flags (a number), description (or nil). Returns an error message, or nullptr.
const char* ReadNamedArguments(lua_State* lua) {
  const int table = 1;
  lua_pushnil(lua);        // name
  lua_pushnil(lua);        // callback
  lua_pushnumber(lua, 0);  // flags
  lua_pushnil(lua);        // description
  const int base = lua_gettop(lua) - 3;
  lua_pushnil(lua);
  while (lua_next(lua, table)) {
    if (lua_type(lua, -2) != LUA_TSTRING) {
      lua_pop(lua, 2);
      return "named argument key given to redis.register_function is not a string";
    }
    const std::string_view key = lua_tostring(lua, -2);
    if (key == "function_name") {
      if (lua_type(lua, -1) != LUA_TSTRING) {
        lua_pop(lua, 2);
        return "function_name argument given to redis.register_function must be a string";
      }
      lua_replace(lua, base);
    } else if (key == "callback") {
      if (lua_type(lua, -1) != LUA_TFUNCTION) {
        lua_pop(lua, 2);
        return "callback argument given to redis.register_function must be a function";
      }
      lua_replace(lua, base + 1);
    } else if (key == "description") {
      if (lua_type(lua, -1) != LUA_TSTRING) {
        lua_pop(lua, 2);
        return "description argument given to redis.register_function must be a string";
      }
      lua_replace(lua, base + 3);
    } else if (key == "flags") {
      if (lua_type(lua, -1) != LUA_TTABLE) {
        lua_pop(lua, 2);
        return "flags argument to redis.register_function must be a table representing function "
               "flags";
      }
      std::uint32_t flags = 0;
      for (int i = 1;; ++i) {
        lua_rawgeti(lua, -1, i);
        if (lua_isnil(lua, -1)) {
          lua_pop(lua, 1);
          break;
        }
        std::uint32_t flag = 0;
        if (lua_type(lua, -1) != LUA_TSTRING || !FlagByName(lua_tostring(lua, -1), &flag)) {
          lua_pop(lua, 3);
          return "unknown flag given";
        }
        flags |= flag;
        lua_pop(lua, 1);
      }
      lua_pop(lua, 1);
      lua_pushnumber(lua, flags);
      lua_replace(lua, base + 2);
    } else {
      lua_pop(lua, 2);
      return "unknown argument given to redis.register_function";
    }
  }
  if (lua_isnil(lua, base)) return "redis.register_function must get a function name argument";
  if (lua_isnil(lua, base + 1)) return "redis.register_function must get a callback argument";
  return nullptr;
}

}  // namespace

int RegisterFunction(lua_State* lua) {
  const int argc = lua_gettop(lua);
  int base = 0;
  if (argc == 1) {
    if (!lua_istable(lua, 1)) {
      return Raise(lua,
                   "calling redis.register_function with a single argument is only "
                   "applicable to Lua table (representing named arguments).");
    }
    if (const char* error = ReadNamedArguments(lua)) return Raise(lua, error);
    base = lua_gettop(lua) - 3;
  } else if (argc == 2) {
    if (lua_type(lua, 1) != LUA_TSTRING) {
      return Raise(lua, "first argument to redis.register_function must be a string");
    }
    if (lua_type(lua, 2) != LUA_TFUNCTION) {
      return Raise(lua, "second argument to redis.register_function must be a function");
    }
    lua_pushvalue(lua, 1);
    lua_pushvalue(lua, 2);
    lua_pushnumber(lua, 0);
    lua_pushnil(lua);
    base = argc + 1;
  } else {
    return Raise(lua, "wrong number of arguments to redis.register_function");
  }
  if (!ValidName(lua_tostring(lua, base))) return Raise(lua, kBadName);
  lua_getfield(lua, LUA_REGISTRYINDEX, kPendingFunctionsKey);
  if (!lua_istable(lua, -1))
    return Raise(lua, "redis.register_function can only be called on FUNCTION LOAD command");
  const int pending = lua_gettop(lua);
  const int count = static_cast<int>(lua_objlen(lua, pending));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(lua, pending, i);
    lua_getfield(lua, -1, "name");
    const bool same = lua_rawequal(lua, -1, base);
    lua_pop(lua, 2);
    if (same) return Raise(lua, "Function already exists in the library");
  }
  lua_newtable(lua);
  static constexpr const char* kFields[] = {"name", "callback", "flags", "description"};
  for (int i = 0; i < 4; ++i) {
    lua_pushvalue(lua, base + i);
    lua_setfield(lua, -2, kFields[i]);
  }
  lua_rawseti(lua, pending, count + 1);
  return 0;
}

bool Engine::LoadLibrary(std::string_view code, bool replace, std::string* name,
                         std::string* error) {
  State& state = *state_;
  lua_State* lua = state.lua;
  // The metadata line: "#!lua name=<library>".
  if (code.substr(0, 2) != "#!") {
    *error = "ERR Missing library metadata";
    return false;
  }
  const std::string_view line = code.substr(0, code.find('\n'));
  std::vector<std::string_view> parts;
  for (std::size_t start = 0; start <= line.size();) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    if (end > start) parts.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  std::string library;
  bool named = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].substr(0, 5) != "name=") {
      *error = "ERR Invalid metadata value given: " + std::string(parts[i]);
      return false;
    }
    library.assign(parts[i].substr(5));
    named = true;
  }
  if (parts.empty() || parts[0] != "#!lua") {
    *error = "ERR Engine '" + std::string(parts.empty() ? "" : parts[0].substr(2)) + "' not found";
    return false;
  }
  if (!named) {
    *error = "ERR Library name was not given";
    return false;
  }
  if (!ValidName(library)) {
    *error = std::string("ERR ") + kBadName;
    return false;
  }
  const auto existing = state.libraries.find(library);
  if (existing != state.libraries.end() && !replace) {
    *error = "ERR Library '" + library + "' already exists";
    return false;
  }

  const std::string_view body = code.substr(line.size());  // keeps the newline: line numbers
  if (luaL_loadbuffer(lua, body.data(), body.size(), "@user_function") != 0) {
    *error = "ERR Error compiling function: ";
    const char* message = lua_tostring(lua, -1);
    error->append(message != nullptr ? message : "?");
    lua_settop(lua, 0);
    return false;
  }
  // Run it with the load globals and an empty list of registered functions.
  const int chunk = lua_gettop(lua);
  lua_getfield(lua, LUA_REGISTRYINDEX, kErrorHandlerKey);
  lua_insert(lua, chunk);
  const int handler = chunk;
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kPendingFunctionsKey);
  lua_getfield(lua, LUA_REGISTRYINDEX, kGlobalsMetaKey);
  lua_getfield(lua, LUA_REGISTRYINDEX, kLoadGlobalsKey);
  lua_setfield(lua, -2, "__index");
  lua_pop(lua, 1);
  state.context = RunContext{nullptr, 2, false, NowNs() + kLoadTimeoutNs};
  state.running = true;
  lua_sethook(lua, CountHook, LUA_MASKCOUNT, kHookInstructions);
  const int status = lua_pcall(lua, 0, 0, handler);
  lua_sethook(lua, nullptr, 0, 0);
  state.running = false;
  state.context = RunContext{};
  lua_getfield(lua, LUA_REGISTRYINDEX, kGlobalsMetaKey);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRealGlobalsKey);
  lua_setfield(lua, -2, "__index");
  lua_pop(lua, 1);
  if (status != 0) {
    std::string message = "?";
    if (lua_istable(lua, -1)) {
      lua_pushstring(lua, "err");
      lua_rawget(lua, -2);  // raw: no metamethod of the code's may run outside a pcall
      if (lua_isstring(lua, -1)) message = lua_tostring(lua, -1);
      lua_pop(lua, 1);
    } else if (lua_isstring(lua, -1)) {
      message = lua_tostring(lua, -1);
    }
    *error = "ERR Error registering functions: " + message;
    lua_pushnil(lua);
    lua_setfield(lua, LUA_REGISTRYINDEX, kPendingFunctionsKey);
    lua_settop(lua, 0);
    return false;
  }
  lua_settop(lua, 0);
  // What it registered: checked against the other libraries' functions before anything changes.
  lua_getfield(lua, LUA_REGISTRYINDEX, kPendingFunctionsKey);
  lua_pushnil(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kPendingFunctionsKey);
  const int pending = lua_gettop(lua);
  const int count = static_cast<int>(lua_objlen(lua, pending));
  if (count == 0) {
    *error = "ERR No functions registered";
    lua_settop(lua, 0);
    return false;
  }
  std::vector<Function> loaded;
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(lua, pending, i);
    Function function;
    lua_getfield(lua, -1, "name");
    function.name = lua_tostring(lua, -1);
    lua_pop(lua, 1);
    lua_getfield(lua, -1, "flags");
    function.flags = static_cast<std::uint32_t>(lua_tonumber(lua, -1));
    lua_pop(lua, 1);
    lua_getfield(lua, -1, "description");
    if (lua_isstring(lua, -1)) {
      function.description = lua_tostring(lua, -1);
      function.has_description = true;
    }
    lua_pop(lua, 1);
    lua_pop(lua, 1);
    const auto other = state.functions.find(function.name);
    if (other != state.functions.end() && other->second.library != library) {
      *error = "ERR Function " + function.name + " already exists";
      lua_settop(lua, 0);
      return false;
    }
    function.library = library;
    loaded.push_back(std::move(function));
  }
  if (existing != state.libraries.end()) DeleteLibrary(library);
  Library& entry = state.libraries[library];
  entry.name = library;
  entry.code.assign(code);
  for (int i = 1; i <= count; ++i) {
    Function& function = loaded[static_cast<std::size_t>(i - 1)];
    lua_rawgeti(lua, pending, i);
    lua_getfield(lua, -1, "callback");
    function.function_ref = luaL_ref(lua, LUA_REGISTRYINDEX);
    lua_pop(lua, 1);
    entry.functions.push_back(function.name);
    state.functions.emplace(function.name, std::move(function));
  }
  lua_settop(lua, 0);
  *name = library;
  return true;
}

bool Engine::DeleteLibrary(std::string_view name) {
  State& state = *state_;
  const auto it = state.libraries.find(name);
  if (it == state.libraries.end()) return false;
  for (const std::string& function : it->second.functions) {
    const auto found = state.functions.find(function);
    if (found == state.functions.end()) continue;
    luaL_unref(state.lua, LUA_REGISTRYINDEX, found->second.function_ref);
    state.functions.erase(found);
  }
  state.libraries.erase(it);
  return true;
}

void Engine::FlushLibraries() {
  while (!state_->libraries.empty()) DeleteLibrary(state_->libraries.begin()->first);
  lua_gc(state_->lua, LUA_GCCOLLECT, 0);
}

const Function* Engine::FindFunction(std::string_view name) const {
  const auto it = state_->functions.find(std::string(name));
  return it == state_->functions.end() ? nullptr : &it->second;
}

std::vector<const Library*> Engine::Libraries() const {
  std::vector<const Library*> out;
  for (const auto& [name, library] : state_->libraries) out.push_back(&library);
  return out;
}

const Function* Engine::FunctionOf(const Library& library, std::string_view name) const {
  const Function* function = FindFunction(name);
  return function != nullptr && function->library == library.name ? function : nullptr;
}

std::size_t Engine::function_count() const { return state_->functions.size(); }

}  // namespace dynakv::scripting
