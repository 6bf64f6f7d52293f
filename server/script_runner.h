// Runs Lua scripts for EVAL and its family: owns the scripting engine (scripting/) and the
// connection-less client a script's commands run as, and is the ScriptHost that takes
// redis.call through the server's one command path (command_call.h) with Redis's script rules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_writer.h"
#include "scripting/scripting.h"

namespace dynakv::server {

class Server;
class Client;
class Keyspace;
struct CommandContext;

// Redis's scriptPrepareForRun: what a script's or function's flags forbid before it starts
// (scripts without a shebang are checked command by command instead). The error, or "".
std::string RefusalByFlags(Server& server, std::uint32_t flags, bool read_only_command);
// Redis's getCommandFlags: the command flags (kCmd*) of EVAL, EVALSHA, FCALL and their _RO
// forms are those the script declares in its shebang when it has one (deny-oom unless
// allow-oom or no-writes; write unless no-writes), so that -OOM, MULTI and the rest see what
// the script may do. Any other command, or a script without flags or not found: spec_flags.
// `first_arg` is the script's body, SHA1 or function name (argv[1]).
std::uint32_t ScriptCommandFlags(Server& server, std::string_view command_name,
                                 std::string_view first_arg, std::uint32_t spec_flags);
// EVAL's and FCALL's numkeys (argv[2]), checked against the arguments; false when it replied
// the error.
bool ParseNumKeys(CommandContext& ctx, long long* numkeys);

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
  // `snapshot`: cluster mode, the keyspace of the declared `keys` as the coordinator read them
  // (cluster_scripts.h); the script's commands run against it, may touch no other key (Redis
  // Cluster's non-local key error), and what they change is replicated by the coordinator.
  void Run(Client& caller, const scripting::Script& script,
           const std::vector<std::string_view>& keys, const std::vector<std::string_view>& args,
           bool read_only_command, resp::ReplyWriter& reply, Keyspace* snapshot = nullptr);
  // FCALL and FCALL_RO: the same for a function of a loaded library.
  void RunFunction(Client& caller, const scripting::Function& function,
                   const std::vector<std::string_view>& keys,
                   const std::vector<std::string_view>& args, bool read_only_command,
                   resp::ReplyWriter& reply, Keyspace* snapshot = nullptr);

  // FUNCTION LOAD, DELETE and FLUSH change the libraries through these, which keep the file of
  // library code in the data dir (functions.lua) in step: a change is on disk (written, synced,
  // renamed into place) before it is acknowledged, and undone when it cannot be. False with
  // the error reply text.
  bool LoadLibrary(std::string_view code, bool replace, std::string* name, std::string* error);
  bool DeleteLibrary(std::string_view name, std::string* error);
  bool FlushLibraries(std::string* error);
  // At start: loads the libraries the file holds; false (the node does not start) when one
  // does not load or the file cannot be read.
  bool LoadFunctionsFile(std::string* error);

  // Whether a script is running now (a command of a script is running).
  bool running() const { return engine_.running(); }

  // Whether `error`, the error reply of the script that just ran, is the error of one of its
  // calls, counted in the error stats when the call failed: Redis counts it once, not again as
  // the script's (its ERR_REPLY_FLAG_NO_STATS_UPDATE). Asked once per script.
  bool ErrorCountedByCall(std::string_view error);

  // A request of another client while the running script is past busy-reply-threshold
  // (Client::ServeWhileBusy): SCRIPT KILL stops a script that has not written (+OK), or is
  // refused with UNKILLABLE; anything else gets Redis's -BUSY.
  void AnswerWhileBusy(Client& client, const std::vector<std::string_view>& argv,
                       resp::ReplyWriter& reply);

 private:
  class Host;
  // Runs `call` (which runs the script or function through the host) as `name`, whose flags
  // (scripting::kFlag*) are `flags`.
  template <typename Call>
  void RunWith(Client& caller, const std::string& name, std::uint32_t flags, bool read_only,
               Keyspace* snapshot, const std::vector<std::string_view>& keys, Call call);
  // Writes every library's code to the functions file; false with *error when it cannot.
  bool SaveFunctions(std::string* error);
  // Replaces the libraries by those of `codes` (undoing a change that could not be saved).
  void RestoreLibraries(const std::vector<std::string>& codes);
  std::vector<std::string> LibraryCodes() const;

  Server& server_;
  scripting::Engine engine_;
  std::unique_ptr<Client> lua_client_;  // never connected: the "lua" client of Redis
  Host* running_ = nullptr;             // the running script's, during Run
  std::string counted_call_error_;      // the last script's last failed call's error
};

}  // namespace dynakv::server
