// The script cache and the running of a script (Redis 7.0's eval.c and luaCallFunction).

#include "engine_state.h"

namespace dynakv::scripting {
namespace {

// Redis's LUA_GC_CYCLE_PERIOD: an incremental collection step every this many scripts.
constexpr int kGcCyclePeriod = 50;

RunContext& ContextOf(lua_State* lua) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kContextKey);
  auto* context = static_cast<RunContext*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  return *context;
}

bool InterruptRequested(RunContext& context) {
  if (context.killed) return true;
  if (context.load_deadline_ns != 0 && NowNs() > context.load_deadline_ns) {
    context.killed = true;  // FUNCTION LOAD's code ran too long
    return true;
  }
  if (context.host != nullptr && context.host->Interrupt()) context.killed = true;
  return context.killed;
}

}  // namespace

// Runs every kHookInstructions instructions. Once the script is killed it runs on every line,
// so that a script catching the error with pcall is stopped again at once (as Redis does).
void CountHook(lua_State* lua, lua_Debug*) {
  RunContext& context = ContextOf(lua);
  if (!InterruptRequested(context)) return;
  lua_sethook(lua, CountHook, LUA_MASKLINE, 0);
  PushErrorTable(lua, context.load_deadline_ns != 0 ? "FUNCTION LOAD timeout"
                                                    : "Script killed by user with SCRIPT KILL...");
  lua_error(lua);
}

namespace {

// The field `name` of the table on the top as a string, if it converts to one.
bool FieldText(lua_State* lua, const char* name, std::string* value) {
  // Raw: the error value is the script's, and a metamethod of its could raise outside any pcall.
  lua_pushstring(lua, name);
  lua_rawget(lua, -2);
  const char* text = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : nullptr;
  if (text != nullptr) value->assign(text);
  lua_pop(lua, 1);
  return text != nullptr;
}

void SetArray(lua_State* lua, const char* name, const std::vector<std::string_view>& values) {
  lua_createtable(lua, static_cast<int>(values.size()), 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    lua_pushlstring(lua, values[i].data(), values[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
  lua_setfield(lua, -2, name);
}

}  // namespace

Engine::Engine() : state_(std::make_unique<State>()) {}
Engine::~Engine() = default;

const Script* Engine::Load(std::string_view body, std::string* error) {
  std::string sha = Sha1Hex(body);
  if (auto it = state_->scripts.find(sha); it != state_->scripts.end()) return &it->second;
  std::uint32_t flags = 0;
  std::size_t shebang_len = 0;
  std::string shebang_error;
  if (!ParseShebang(body, &flags, &shebang_len, &shebang_error)) {
    *error = "ERR " + shebang_error;
    return nullptr;
  }
  lua_State* lua = state_->lua;
  // The shebang line is skipped but not its newline, so line numbers stay the user's.
  const std::string_view code = body.substr(shebang_len);
  if (luaL_loadbuffer(lua, code.data(), code.size(), "@user_script") != 0) {
    *error = "ERR Error compiling script (new function): ";
    const char* message = lua_tostring(lua, -1);
    error->append(message != nullptr ? message : "?");
    lua_pop(lua, 1);
    return nullptr;
  }
  Script script;
  script.sha = sha;
  script.flags = flags;
  script.body_bytes = body.size();
  script.function_ref = luaL_ref(lua, LUA_REGISTRYINDEX);
  state_->body_bytes += body.size();
  return &state_->scripts.emplace(std::move(sha), std::move(script)).first->second;
}

const Script* Engine::Find(std::string_view sha) const {
  if (sha.size() != 40) return nullptr;
  std::string lower(sha);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  auto it = state_->scripts.find(lower);
  return it == state_->scripts.end() ? nullptr : &it->second;
}

void Engine::Flush() {
  // The functions live in the same state, so it stays (Redis gives functions a state of their
  // own); the scripts' compiled functions go, and a full collection frees them.
  for (const auto& [sha, script] : state_->scripts) {
    luaL_unref(state_->lua, LUA_REGISTRYINDEX, script.function_ref);
  }
  state_->scripts.clear();
  state_->body_bytes = 0;
  lua_gc(state_->lua, LUA_GCCOLLECT, 0);
}

std::size_t Engine::script_count() const { return state_->scripts.size(); }

std::size_t Engine::lua_memory_bytes() const {
  lua_State* lua = state_->lua;
  return static_cast<std::size_t>(lua_gc(lua, LUA_GCCOUNT, 0)) * 1024 +
         static_cast<std::size_t>(lua_gc(lua, LUA_GCCOUNTB, 0));
}

std::size_t Engine::scripts_memory_bytes() const {
  return state_->body_bytes + state_->scripts.size() * (sizeof(Script) + 64);
}

bool Engine::running() const { return state_->running; }

void Engine::Run(const Script& script, const std::vector<std::string_view>& keys,
                 const std::vector<std::string_view>& args, ScriptHost& host,
                 resp::ReplyWriter& reply) {
  State& state = *state_;
  lua_State* lua = state.lua;
  lua_getfield(lua, LUA_REGISTRYINDEX, kRealGlobalsKey);
  SetArray(lua, "KEYS", keys);
  SetArray(lua, "ARGV", args);
  lua_pop(lua, 1);
  lua_getfield(lua, LUA_REGISTRYINDEX, kErrorHandlerKey);
  const int handler = lua_gettop(lua);
  lua_rawgeti(lua, LUA_REGISTRYINDEX, script.function_ref);
  state.Call(handler, 0, script.sha, host, reply);
  // KEYS and ARGV belong to this run only.
  lua_getfield(lua, LUA_REGISTRYINDEX, kRealGlobalsKey);
  lua_pushnil(lua);
  lua_setfield(lua, -2, "KEYS");
  lua_pushnil(lua);
  lua_setfield(lua, -2, "ARGV");
  lua_pop(lua, 1);
}

void Engine::RunFunction(const Function& function, const std::vector<std::string_view>& keys,
                         const std::vector<std::string_view>& args, ScriptHost& host,
                         resp::ReplyWriter& reply) {
  lua_State* lua = state_->lua;
  lua_getfield(lua, LUA_REGISTRYINDEX, kErrorHandlerKey);
  const int handler = lua_gettop(lua);
  lua_rawgeti(lua, LUA_REGISTRYINDEX, function.function_ref);
  lua_newtable(lua);
  SetArray(lua, "keys", keys);
  lua_getfield(lua, -1, "keys");
  lua_remove(lua, -2);
  lua_newtable(lua);
  SetArray(lua, "args", args);
  lua_getfield(lua, -1, "args");
  lua_remove(lua, -2);
  state_->Call(handler, 2, function.name, host, reply);
}

void Engine::State::Call(int handler, int nargs, const std::string& name, ScriptHost& host,
                         resp::ReplyWriter& reply) {
  context = RunContext{&host, 2, false, 0};
  running = true;
  lua_sethook(lua, CountHook, LUA_MASKCOUNT, kHookInstructions);
  const int status = lua_pcall(lua, nargs, 1, handler);
  lua_sethook(lua, nullptr, 0, 0);

  if (status == 0) {
    WriteReply(lua, context.resp, reply);
  } else if (lua_istable(lua, -1)) {
    // {err=..., source=..., line=...}: Redis's luaExtractErrorInformation.
    std::string message;
    std::string source;
    std::string line;
    FieldText(lua, "err", &message);
    if (!message.empty() && message[0] == '-') message.erase(0, 1);
    if (FieldText(lua, "source", &source) && FieldText(lua, "line", &line)) {
      message += " script: " + name + ", on " + source + ":" + line + ".";
    }
    reply.Error(message);
    lua_pop(lua, 1);
  } else {
    std::string message = "ERR Error running script " + name + ", ";
    const char* text = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "execution failure";
    message.append(std::string_view(text).substr(0, 100));
    reply.Error(message);
    lua_pop(lua, 1);
  }
  lua_settop(lua, 0);  // the handler
  context.host = nullptr;
  running = false;
  if (++gc_count >= kGcCyclePeriod) {
    lua_gc(lua, LUA_GCSTEP, kGcCyclePeriod);
    gc_count = 0;
  }
}

}  // namespace dynakv::scripting
