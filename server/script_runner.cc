#include "script_runner.h"

#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "ascii.h"
#include "atomic_file.h"
#include "client.h"
#include "command_call.h"
#include "cross_slot.h"
#include "log.h"
#include "number_parse.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// A refusal as Redis words it inside a script: ACL denials name the script's user (Redis's
// scriptVerifyACL), the rest is the command path's own text.
std::string ScriptWording(const std::string& error) {
  if (!error.starts_with("NOPERM")) return error;
  std::string message = "ERR The user executing the script can't ";
  if (error.find("keys") != std::string::npos) {
    message += "access at least one of the keys mentioned in the command arguments";
  } else if (error.find("channels") != std::string::npos) {
    message += "publish to the channel mentioned in the command";
  } else {
    message += "run this command or subcommand";
  }
  return message;
}

constexpr std::string_view kFunctionsHeader = "# dynakv function libraries 1\n";

std::string FunctionsPath(const Server& server) { return server.config().dir + "/functions.lua"; }

}  // namespace

// What one running script's redis.call reaches: Redis's scriptCall checks, in its order and
// words, then the command's own checks and run.
class ScriptRunner::Host : public scripting::ScriptHost {
 public:
  // `oom_at_start`: memory was over maxmemory when the script started, with nothing left to
  // evict, and the script has no allow-oom flag (Redis's pre_command_oom_state).
  Host(Server& server, Client& caller, Client& lua_client, const std::string& name, bool read_only,
       bool oom_at_start, Keyspace* snapshot, const std::vector<std::string_view>& keys)
      : server_(server),
        caller_(caller),
        lua_client_(lua_client),
        name_(name),
        read_only_(read_only),
        oom_at_start_(oom_at_start),
        snapshot_(snapshot),
        keys_(keys),
        start_ns_(uv_hrtime()) {}

  bool wrote() const { return wrote_; }
  void RequestKill() { kill_requested_ = true; }

  // Every 100000 Lua instructions. Past busy-reply-threshold the loop cannot serve the other
  // clients (the script runs inside it, and uv_run is not reentrant), so they are answered from
  // here: -BUSY, and SCRIPT KILL, which sets kill_requested_.
  bool Interrupt() override {
    if (kill_requested_) return true;
    const std::uint64_t elapsed_ms = (uv_hrtime() - start_ns_) / 1000000;
    const long long threshold = server_.config().busy_reply_threshold;
    if (elapsed_ms < static_cast<std::uint64_t>(threshold)) return false;
    if (!busy_) {
      busy_ = true;
      dynakv::server::Log(server_.log_level(), LogLevel::kWarning,
                          "Slow script detected: still in execution after %llu milliseconds. You "
                          "can try killing the script using the SCRIPT KILL command. Script name "
                          "is: %s.",
                          static_cast<unsigned long long>(elapsed_ms), name_.c_str());
    }
    server_.ServeWhileBusy(caller_);
    if (kill_requested_) {
      dynakv::server::Log(server_.log_level(), LogLevel::kWarning,
                          "Lua script killed by user with SCRIPT KILL.");
    }
    return kill_requested_;
  }

  void Call(const std::vector<std::string_view>& argv, int protocol, std::string* reply) override {
    const std::size_t start = reply->size();
    RunCall(argv, protocol, reply);
    if (reply->size() > start && (*reply)[start] == '-') {
      const std::string_view error = std::string_view(*reply).substr(start + 1);
      last_call_error_.assign(error.substr(0, error.find("\r\n")));
    }
  }

  // The error reply of the script's last call that failed (already counted in the error stats),
  // or "".
  const std::string& last_call_error() const { return last_call_error_; }

  void Log(int level, std::string_view message) override {
    static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kVerbose, LogLevel::kNotice,
                                           LogLevel::kWarning};
    dynakv::server::Log(server_.log_level(), kLevels[level], "%.*s",
                        static_cast<int>(message.size()), message.data());
  }

 private:
  void RunCall(const std::vector<std::string_view>& argv, int protocol, std::string* reply) {
    resp::ReplyWriter writer(reply, protocol);
    ResolvedCommand cmd;
    std::string error;
    if (!ResolveCommand(server_, argv, &cmd, &error)) {
      return Refuse(writer, "ERR Unknown Redis command called from script");
    }
    if (!ArityMatches(*cmd.spec, argv.size())) {
      return Refuse(writer, "ERR Wrong number of args calling Redis command from script");
    }
    if ((cmd.spec->flags & kCmdNoScript) || (cmd.parent && (cmd.parent->flags & kCmdNoScript))) {
      return Refuse(writer, "ERR This Redis command is not allowed from script");
    }
    if (read_only_ && (cmd.spec->flags & kCmdWrite)) {
      return Refuse(writer, "ERR Write commands are not allowed from read-only scripts.");
    }
    if (snapshot_ != nullptr) {
      // Cluster mode: the coordinator read the declared keys only (and a command that talks to
      // the replicas itself cannot run inside the script's snapshot).
      if (cmd.spec->flags & kCmdOwnReplication) {
        return Refuse(writer, "ERR This Redis command is not allowed from script");
      }
      if (HasKeys(*cmd.spec)) {
        for (const std::string& key : CommandKeys(*cmd.spec, argv)) {
          if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) {
            return Refuse(writer,
                          "ERR Script attempted to access a non local key in a cluster node");
          }
        }
      }
    }
    error = CheckCommand(server_, lua_client_, cmd, argv, CallOrigin::kScript, false);
    if (!error.empty()) return Refuse(writer, ScriptWording(error));
    // Redis's scriptVerifyOOM: decided by the memory at the script's start, not evicting inside
    // it (that would delete keys under a running script), and only until the first write: a
    // script that changed something must not stop halfway.
    if ((cmd.spec->flags & kCmdDenyOom) && oom_at_start_ && !wrote_) {
      return Refuse(writer, kErrOom);
    }
    CallCommand(server_, lua_client_, cmd, argv, writer, nullptr, snapshot_);
    if (cmd.spec->flags & kCmdWrite) wrote_ = true;
  }

  void Refuse(resp::ReplyWriter& writer, std::string_view error) {
    writer.Error(error);
    server_.NoteErrorReply(error);
  }

  Server& server_;
  Client& caller_;
  Client& lua_client_;
  const std::string& name_;
  const bool read_only_;
  const bool oom_at_start_;
  Keyspace* const snapshot_;
  const std::vector<std::string_view>& keys_;  // declared (KEYS)
  const std::uint64_t start_ns_;
  bool wrote_ = false;
  bool busy_ = false;
  bool kill_requested_ = false;
  std::string last_call_error_;
};

ScriptRunner::ScriptRunner(Server& server)
    : server_(server), lua_client_(std::make_unique<Client>(server, 0)) {}

ScriptRunner::~ScriptRunner() = default;

template <typename Call>
void ScriptRunner::RunWith(Client& caller, const std::string& name, std::uint32_t flags,
                           bool read_only, Keyspace* snapshot,
                           const std::vector<std::string_view>& keys, Call call) {
  // Its commands run as the caller's user, authenticated as the caller is.
  lua_client_->set_user(caller.user(), caller.authenticated());
  // A script starts in its caller's database; a SELECT inside it stays inside it (Redis 7).
  lua_client_->set_db(caller.db());
  // Evicts now if it must, as Redis's processCommand does before any command.
  const bool oom_at_start = !(flags & scripting::kFlagAllowOom) && OverMemoryLimit(server_);
  Host host(server_, caller, *lua_client_, name, read_only, oom_at_start, snapshot, keys);
  running_ = &host;
  {
    // Whatever the script writes reaches the commit log as one record: a crash keeps all of its
    // effects or none, and the log records the effects, never the script.
    std::optional<storage::Engine::AtomicGroup> group;
    if (!read_only && snapshot == nullptr) group.emplace(server_.engine());
    call(host);
  }
  running_ = nullptr;
  counted_call_error_ = host.last_call_error();
  // The caller's reply acknowledges the script's writes: it waits for the log to hold them (in
  // cluster mode, for the replicas: the coordinator's writes).
  if (host.wrote() && snapshot == nullptr) caller.NoteLogWrite(server_.engine().LogEnd());
}

void ScriptRunner::Run(Client& caller, const scripting::Script& script,
                       const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& args, bool read_only_command,
                       resp::ReplyWriter& reply, Keyspace* snapshot) {
  const bool read_only = read_only_command || (script.flags & scripting::kFlagNoWrites);
  RunWith(caller, script.sha, script.flags, read_only, snapshot, keys,
          [&](Host& host) { engine_.Run(script, keys, args, host, reply); });
}

void ScriptRunner::RunFunction(Client& caller, const scripting::Function& function,
                               const std::vector<std::string_view>& keys,
                               const std::vector<std::string_view>& args, bool read_only_command,
                               resp::ReplyWriter& reply, Keyspace* snapshot) {
  const bool read_only = read_only_command || (function.flags & scripting::kFlagNoWrites);
  RunWith(caller, function.name, function.flags, read_only, snapshot, keys,
          [&](Host& host) { engine_.RunFunction(function, keys, args, host, reply); });
}

// Redis's scriptPrepareForRun.
std::string RefusalByFlags(Server& server, std::uint32_t flags, bool read_only_command) {
  if (flags & scripting::kFlagEvalCompat) return {};
  if ((flags & scripting::kFlagNoCluster) && server.cluster_executor() != nullptr) {
    return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
  }
  if (!(flags & scripting::kFlagNoWrites)) {
    if (!server.engine().LogStatus().ok()) return LogFailureError(server.engine().LogStatus());
    if (read_only_command)
      return "ERR Can not execute a script with write flag using *_ro command.";
  }
  if (!(flags & (scripting::kFlagAllowOom | scripting::kFlagNoWrites)) && OverMemoryLimit(server)) {
    return "OOM allow-oom flag is not set on the script, can not run it when used memory > "
           "'maxmemory'";
  }
  return {};
}

std::uint32_t ScriptCommandFlags(Server& server, std::string_view command_name,
                                 std::string_view first_arg, std::uint32_t spec_flags) {
  std::uint32_t script_flags = scripting::kFlagEvalCompat;
  scripting::Engine& engine = server.scripts().engine();
  if (command_name == "eval" || command_name == "eval_ro") {
    std::size_t shebang_len = 0;
    std::string ignored;
    if (!scripting::ParseShebang(first_arg, &script_flags, &shebang_len, &ignored)) {
      return spec_flags;
    }
  } else if (command_name == "evalsha" || command_name == "evalsha_ro") {
    const scripting::Script* script = engine.Find(first_arg);
    if (script == nullptr) return spec_flags;
    script_flags = script->flags;
  } else if (command_name == "fcall" || command_name == "fcall_ro") {
    const scripting::Function* function = engine.FindFunction(first_arg);
    if (function == nullptr) return spec_flags;
    script_flags = function->flags;
  } else {
    return spec_flags;
  }
  if (script_flags & scripting::kFlagEvalCompat) return spec_flags;
  std::uint32_t flags = spec_flags & ~(kCmdStale | kCmdDenyOom | kCmdWrite);
  if (!(script_flags & (scripting::kFlagAllowOom | scripting::kFlagNoWrites))) flags |= kCmdDenyOom;
  if (!(script_flags & scripting::kFlagNoWrites)) flags |= kCmdWrite;
  if (script_flags & scripting::kFlagAllowStale) flags |= kCmdStale;
  return flags;
}

bool ParseNumKeys(CommandContext& ctx, long long* numkeys) {
  const auto& argv = ctx.argv;
  if (!ParseLongLong(argv[2], numkeys)) {
    ctx.reply.Error(kErrNotInteger);
    return false;
  }
  if (*numkeys > static_cast<long long>(argv.size()) - 3) {
    ctx.reply.Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (*numkeys < 0) {
    ctx.reply.Error("ERR Number of keys can't be negative");
    return false;
  }
  return true;
}

bool ScriptRunner::ErrorCountedByCall(std::string_view error) {
  const bool counted = !counted_call_error_.empty() && error.starts_with(counted_call_error_);
  counted_call_error_.clear();
  return counted;
}

std::vector<std::string> ScriptRunner::LibraryCodes() const {
  std::vector<std::string> codes;
  for (const scripting::Library* library : engine_.Libraries()) codes.push_back(library->code);
  return codes;
}

bool ScriptRunner::SaveFunctions(std::string* error) {
  std::string data(kFunctionsHeader);
  for (const std::string& code : LibraryCodes()) {
    data += std::to_string(code.size());
    data += '\n';
    data += code;
    data += '\n';
  }
  AtomicWriteFailure failure;
  if (WriteFileAtomically(FunctionsPath(server_), data, 0644, &failure)) {
    return true;
  }
  const std::string reason = std::strerror(failure.error);
  Log(server_.log_level(), LogLevel::kWarning, "Failed saving the function libraries to %s: %s",
      FunctionsPath(server_).c_str(), reason.c_str());
  *error = "ERR Failed saving the function libraries: " + reason;
  return false;
}

void ScriptRunner::RestoreLibraries(const std::vector<std::string>& codes) {
  engine_.FlushLibraries();
  std::string name;
  std::string error;
  for (const std::string& code : codes) engine_.LoadLibrary(code, false, &name, &error);
}

bool ScriptRunner::LoadLibrary(std::string_view code, bool replace, std::string* name,
                               std::string* error) {
  const std::vector<std::string> before = LibraryCodes();
  if (!engine_.LoadLibrary(code, replace, name, error)) return false;
  if (SaveFunctions(error)) return true;
  RestoreLibraries(before);
  return false;
}

bool ScriptRunner::DeleteLibrary(std::string_view name, std::string* error) {
  const std::vector<std::string> before = LibraryCodes();
  if (!engine_.DeleteLibrary(name)) {
    *error = "ERR Library not found";
    return false;
  }
  if (SaveFunctions(error)) return true;
  RestoreLibraries(before);
  return false;
}

bool ScriptRunner::FlushLibraries(std::string* error) {
  const std::vector<std::string> before = LibraryCodes();
  engine_.FlushLibraries();
  if (SaveFunctions(error)) return true;
  RestoreLibraries(before);
  return false;
}

bool ScriptRunner::LoadFunctionsFile(std::string* error) {
  const std::string path = FunctionsPath(server_);
  std::ifstream in(path, std::ios::binary);
  if (!in) return true;  // none saved yet
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  auto corrupt = [&](const std::string& why) {
    *error = "Can't load the function libraries from " + path + ": " + why;
    return false;
  };
  if (!data.starts_with(kFunctionsHeader)) return corrupt("not a functions file");
  std::size_t pos = kFunctionsHeader.size();
  while (pos < data.size()) {
    const std::size_t newline = data.find('\n', pos);
    if (newline == std::string::npos) return corrupt("cut short");
    std::size_t len = 0;
    try {
      len = std::stoull(data.substr(pos, newline - pos));
    } catch (...) {
      return corrupt("bad length");
    }
    pos = newline + 1;
    if (data.size() - pos < len + 1 || data[pos + len] != '\n') return corrupt("cut short");
    std::string name;
    std::string load_error;
    if (!engine_.LoadLibrary(std::string_view(data).substr(pos, len), false, &name, &load_error)) {
      return corrupt(load_error);
    }
    pos += len + 1;
  }
  return true;
}

void ScriptRunner::AnswerWhileBusy(Client& client, const std::vector<std::string_view>& argv,
                                   resp::ReplyWriter& reply) {
  ++server_.stats().total_commands_processed;
  if (running_ != nullptr && argv.size() == 2 &&
      (EqualsIgnoreCase(argv[0], "script") || EqualsIgnoreCase(argv[0], "function")) &&
      EqualsIgnoreCase(argv[1], "kill")) {
    std::string_view error;
    if (server_.AuthRequired(client)) {
      error = "NOAUTH Authentication required.";
    } else if (running_->wrote()) {
      error =
          "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
          "can either wait the script termination or kill the server in a hard way using the "
          "SHUTDOWN NOSAVE command.";
    } else {
      running_->RequestKill();
      reply.Ok();
      return;
    }
    reply.Error(error);
    server_.NoteErrorReply(error);
    return;
  }
  constexpr std::string_view kBusy =
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
  reply.Error(kBusy);
  server_.NoteErrorReply(kBusy);
}

}  // namespace dynakv::server
