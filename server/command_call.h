// The one path every command runs by, whoever asks for it: a connection's request
// (CommandTable::Dispatch), a queued command of a transaction (EXEC), a blocked client re-run by
// a push (BlockedLists), and a command called from a script. It is split as Redis splits
// processCommand and call():
//   ResolveCommand  the command and subcommand named by argv (unknown ones are refused)
//   CheckCommand    arity, authentication, no_multi, ACL, memory and log health, in Redis's order:
//                   what may refuse a command before it runs (or is queued by MULTI)
//   CallCommand     the handler itself, with what every run needs afterwards: the segment
//                   read-error check, the reply's wait for the log, the command counters
// RunCommand is ResolveCommand + CheckCommand + CallCommand for callers that run a command at
// once (scripts: redis.call runs with a client of its own that has no connection, a Client made
// with the server and an id and never Accept()ed; its replies go to the writer it passes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace dynakv::server {

class Server;
class Client;
class Keyspace;

// A command found by name: `spec` is the row to run, `parent` its container for a subcommand.
struct ResolvedCommand {
  const CommandSpec* spec = nullptr;
  const CommandSpec* parent = nullptr;
};

// Who runs the command, which decides what CheckCommand checks and how a refusal is logged.
enum class CallOrigin {
  kClient,  // a connection's own request (and MULTI queuing it)
  kExec,    // a queued command run by EXEC: only ACL is checked again (Redis's execCommand)
  kScript,  // redis.call / redis.pcall: commands flagged noscript are refused too
  kMaster,  // the replication stream of this node's Redis master (replica_link.h): only arity
            // and the log's health are checked (no AUTH, ACL, maxmemory, READONLY, LOADING)
};

// Finds argv[0] (and argv[1] for a container) in the server's table. False with *error set to
// Redis's unknown command / unknown subcommand text.
bool ResolveCommand(Server& server, const std::vector<std::string_view>& argv, ResolvedCommand* cmd,
                    std::string* error);

// The checks Redis makes before running a command, in its order. Returns the error reply ("" when
// the command may run). Sets CLIENT LIST's cmd= as Redis does once the command passed arity and
// authentication. A denied ACL check is logged (ACL LOG) in the context `origin` implies.
// `in_multi`: the client is in a transaction (no_multi commands are refused; under noeviction a
// full memory refuses any command that would be queued, and EXEC when its queue may grow memory;
// EXEC counts as a write for the log-failure check when its queue writes).
std::string CheckCommand(Server& server, Client& client, const ResolvedCommand& cmd,
                         const std::vector<std::string_view>& argv, CallOrigin origin,
                         bool in_multi);

// Runs a command that passed its checks, replying through `reply`: the handler (a write inside an
// atomic group of the engine, so all it logs is one record, storage/engine.h); a segment block
// that could not be read during it replaces the reply with the error (a key read as missing
// would make its answer wrong); a write's reply waits for the log to hold it
// (Client::NoteLogWrite); counts the command and an error reply. Never serves blocked clients:
// callers that run at the top level do that afterwards (BlockedLists::ServeReady), so a push
// inside a transaction or script wakes nobody before it has completed.
// `levels`: cluster mode, the request's own R/W option (stripped from argv), for the handlers
// that talk to the replicas themselves (VGET, VSET).
// `keyspace`: cluster mode, the snapshot a transaction's or script's commands run against
// (cluster_executor.h) instead of the client's database; what they change is replicated by the
// coordinator, so nothing is logged here and the reply does not wait for the local log.
void CallCommand(Server& server, Client& client, const ResolvedCommand& cmd,
                 const std::vector<std::string_view>& argv, resp::ReplyWriter& reply,
                 const RequestLevels* levels = nullptr, Keyspace* keyspace = nullptr);

// The bookkeeping of a command that ran for `ns` nanoseconds (`failed`: it replied an error):
// INFO commandstats and its latency histogram, SLOWLOG, the LATENCY command events and MONITOR.
// CallCommand calls it; a blocked command calls it once it is served or timed out.
void NoteCommandRun(Server& server, Client& client, const ResolvedCommand& cmd,
                    const std::vector<std::string_view>& argv, std::uint64_t ns, bool failed);

// Whether MULTI queues the command rather than running it: all but EXEC, DISCARD, MULTI, WATCH,
// QUIT and RESET (Redis's processCommand), which run at once even inside a transaction.
bool QueuedInMulti(const CommandSpec& spec);

// Whether a deny-oom command must get -OOM now (may evict first, as Redis does before one).
bool OverMemoryLimit(Server& server);

// Resolve, check and call; a refusal is replied as an error (and counted).
void RunCommand(Server& server, Client& client, const std::vector<std::string_view>& argv,
                resp::ReplyWriter& reply, CallOrigin origin);

}  // namespace dynakv::server
