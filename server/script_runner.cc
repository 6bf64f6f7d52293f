#include "script_runner.h"

#include <uv.h>

#include "ascii.h"
#include "client.h"
#include "command_call.h"
#include "log.h"
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

}  // namespace

// What one running script's redis.call reaches: Redis's scriptCall checks, in its order and
// words, then the command's own checks and run.
class ScriptRunner::Host : public scripting::ScriptHost {
 public:
  Host(Server& server, Client& caller, Client& lua_client, const scripting::Script& script,
       bool read_only)
      : server_(server),
        caller_(caller),
        lua_client_(lua_client),
        script_(script),
        read_only_(read_only),
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
                          static_cast<unsigned long long>(elapsed_ms), script_.sha.c_str());
    }
    server_.ServeWhileBusy(caller_);
    if (kill_requested_) {
      dynakv::server::Log(server_.log_level(), LogLevel::kWarning,
                          "Lua script killed by user with SCRIPT KILL.");
    }
    return kill_requested_;
  }

  void Call(const std::vector<std::string_view>& argv, int protocol,
            std::string* reply) override {
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
    error = CheckCommand(server_, lua_client_, cmd, argv, CallOrigin::kScript, false);
    if (!error.empty()) return Refuse(writer, ScriptWording(error));
    CallCommand(server_, lua_client_, cmd, argv, writer);
    if (cmd.spec->flags & kCmdWrite) wrote_ = true;
  }

  void Log(int level, std::string_view message) override {
    static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kVerbose,
                                           LogLevel::kNotice, LogLevel::kWarning};
    dynakv::server::Log(server_.log_level(), kLevels[level], "%.*s",
                        static_cast<int>(message.size()), message.data());
  }

 private:
  void Refuse(resp::ReplyWriter& writer, std::string_view error) {
    writer.Error(error);
    ++server_.stats().total_error_replies;
  }

  Server& server_;
  Client& caller_;
  Client& lua_client_;
  const scripting::Script& script_;
  const bool read_only_;
  const std::uint64_t start_ns_;
  bool wrote_ = false;
  bool busy_ = false;
  bool kill_requested_ = false;
};

ScriptRunner::ScriptRunner(Server& server)
    : server_(server), lua_client_(std::make_unique<Client>(server, 0)) {}

ScriptRunner::~ScriptRunner() = default;

void ScriptRunner::Run(Client& caller, const scripting::Script& script,
                       const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& args, bool read_only_command,
                       resp::ReplyWriter& reply) {
  // Its commands run as the caller's user, authenticated as the caller is.
  lua_client_->set_user(caller.user(), caller.authenticated());
  const bool read_only = read_only_command || (script.flags & scripting::kFlagNoWrites);
  Host host(server_, caller, *lua_client_, script, read_only);
  running_ = &host;
  engine_.Run(script, keys, args, host, reply);
  running_ = nullptr;
  // The caller's reply acknowledges the script's writes: it waits for the log to hold them.
  if (host.wrote()) caller.NoteLogWrite(server_.engine().LogEnd());
}

void ScriptRunner::AnswerWhileBusy(Client& client, const std::vector<std::string_view>& argv,
                                   resp::ReplyWriter& reply) {
  ++server_.stats().total_commands_processed;
  if (running_ != nullptr && argv.size() == 2 && EqualsIgnoreCase(argv[0], "script") &&
      EqualsIgnoreCase(argv[1], "kill")) {
    if (server_.AuthRequired(client)) {
      reply.Error("NOAUTH Authentication required.");
    } else if (running_->wrote()) {
      reply.Error(
          "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
          "can either wait the script termination or kill the server in a hard way using the "
          "SHUTDOWN NOSAVE command.");
    } else {
      running_->RequestKill();
      reply.Ok();
      return;
    }
    ++server_.stats().total_error_replies;
    return;
  }
  reply.Error(
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  ++server_.stats().total_error_replies;
}

}  // namespace dynakv::server
