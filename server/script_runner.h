// Runs Lua scripts for EVAL and its family: owns the scripting engine (scripting/) and the
// connection-less client a script's commands run as, and is the ScriptHost that takes
// redis.call through the server's one command path (command_call.h) with Redis's script rules.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "resp/reply_writer.h"
#include "scripting/scripting.h"

namespace dynakv::server {

class Server;
class Client;

class ScriptRunner {
 public:
  explicit ScriptRunner(Server& server);
  ~ScriptRunner();
  ScriptRunner(const ScriptRunner&) = delete;
  ScriptRunner& operator=(const ScriptRunner&) = delete;

  scripting::Engine& engine() { return engine_; }

  // Runs `script` for `caller` (EVAL, EVALSHA and their _RO forms; `read_only_command` for the
  // latter), replying through `reply`. Its commands run as the caller's user; a script that may
  // not write (read-only command or no-writes flag) has its writes refused. Every write it makes
  // reaches the commit log as one record, and the caller's reply waits for it.
  void Run(Client& caller, const scripting::Script& script,
           const std::vector<std::string_view>& keys, const std::vector<std::string_view>& args,
           bool read_only_command, resp::ReplyWriter& reply);

  // Whether a script is running now (a command of a script is running).
  bool running() const { return engine_.running(); }

  // A request of another client while the running script is past busy-reply-threshold
  // (Client::ServeWhileBusy): SCRIPT KILL stops a script that has not written (+OK), or is
  // refused with UNKILLABLE; anything else gets Redis's -BUSY.
  void AnswerWhileBusy(Client& client, const std::vector<std::string_view>& argv,
                       resp::ReplyWriter& reply);

 private:
  class Host;

  Server& server_;
  scripting::Engine engine_;
  std::unique_ptr<Client> lua_client_;  // never connected: the "lua" client of Redis
  Host* running_ = nullptr;             // the running script's, during Run
};

}  // namespace dynakv::server
