#include "script_runner.h"

#include "client.h"
#include "command_call.h"
#include "log.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {

// What one running script's redis.call reaches: Redis's scriptCall checks, in its order and
// words, then the command's own checks and run.
class ScriptRunner::Host : public scripting::ScriptHost {
 public:
  Host(Server& server, Client& lua_client, bool read_only)
      : server_(server), lua_client_(lua_client), read_only_(read_only) {}

  bool wrote() const { return wrote_; }

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
    if (!error.empty()) return Refuse(writer, error);
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
  Client& lua_client_;
  const bool read_only_;
  bool wrote_ = false;
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
  Host host(server_, *lua_client_, read_only);
  engine_.Run(script, keys, args, host, reply);
  // The caller's reply acknowledges the script's writes: it waits for the log to hold them.
  if (host.wrote()) caller.NoteLogWrite(server_.engine().LogEnd());
}

}  // namespace dynakv::server
