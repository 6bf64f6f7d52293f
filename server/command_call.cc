#include "command_call.h"

#include <time.h>

#include "acl.h"
#include "client.h"
#include "cluster_counters.h"
#include "cluster_scripts.h"
#include "command_table.h"
#include "cross_slot.h"
#include "log.h"
#include "redact.h"
#include "replica_link.h"
#include "script_runner.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {

// Under noeviction a full memtable refuses commands that may grow it, as Redis refuses them when
// used memory is over maxmemory. The policies that delete evict now (Redis's performEvictions),
// and refuse only when nothing they may evict is left (volatile-* without volatile keys);
// offload makes room by itself.
bool OverMemoryLimit(Server& server) {
  const Config& config = server.config();
  if (config.maxmemory == 0) return false;
  if (storage::DeletesVictims(config.maxmemory_policy)) {
    const storage::EvictionResult result = server.engine().PerformEvictions();
    server.NoteMemoryExceeded(result != storage::EvictionResult::kOk);
    return result == storage::EvictionResult::kFail;
  }
  if (config.maxmemory_policy != storage::EvictionPolicy::kNoEviction) return false;
  const bool over = server.engine().Stats().memtable_bytes >= config.maxmemory;
  server.NoteMemoryExceeded(over);
  return over;
}

namespace {

// Redis 7.0: a RESP2 connection with subscriptions reads every reply as a message, so only the
// commands that manage subscriptions (and PING, QUIT, RESET) run on it; RESP3 has no limit.
bool RefusedInSubscribedContext(const Client& client, const CommandSpec& spec) {
  return client.pubsub_mode() && client.protocol() == 2 && !(spec.flags & kCmdSubscribedContext);
}

std::string SubscribedContextError(const CommandSpec& spec, const CommandSpec* parent) {
  return "ERR Can't execute '" + FullName(spec, parent) +
         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
         "context";
}

// Redis refuses PING too while it cannot persist, so health checks see the problem.
bool DeniedByLogFailure(Server& server, const CommandSpec& spec) {
  return (spec.flags & (kCmdWrite | kCmdRefusedOnLogFailure)) && !server.engine().LogStatus().ok();
}

// The ACL check, after authentication as in Redis: a denial is logged (ACL LOG).
AclDenial AclCheck(Server& server, Client& client, const ResolvedCommand& cmd,
                   const std::vector<std::string_view>& argv, AclContext context) {
  const AclUser* user = client.user();
  if (user == nullptr || user->AllowsEverything()) return AclDenial::kNone;
  std::size_t arg = 0;
  const AclDenial denial = user->Check(*cmd.spec, cmd.parent, argv, &arg);
  if (denial == AclDenial::kNone) return denial;
  const std::uint64_t now = uv_now(server.loop());
  std::string info = client.Describe(now);
  info.pop_back();  // its '\n'
  const std::string fullname = FullName(*cmd.spec, cmd.parent);
  server.acl().LogDenial(denial, context,
                         denial == AclDenial::kCommand ? fullname : std::string(argv[arg]),
                         user->name(), now, std::move(info));
  return denial;
}

// Redis execCommand's reasons for a queued command the ACL rules no longer allow.
std::string_view ExecDenialReason(AclDenial denial) {
  switch (denial) {
    case AclDenial::kCommand:
      return "no permission to execute the command or subcommand";
    case AclDenial::kKey:
      return "no permission to touch the specified keys";
    case AclDenial::kChannel:
      return "no permission to access one of the channels used as arguments";
    default:
      return "no permission";
  }
}

std::uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The message of the error reply at `start` of `out` (after its '-', before its CRLF); empty
// when the reply there is not an error.
// The flags of the queued commands together, those of EVAL and FCALL as their scripts declare
// them (Redis adds up getCommandFlags as it queues; here EXEC asks, the scripts being those it
// will run).
std::uint32_t QueuedFlags(Server& server, const Transaction& tx) {
  std::uint32_t flags = tx.queued_flags();
  for (const Transaction::Queued& q : tx.queued()) {
    const CommandSpec& spec = *q.cmd.spec;
    if ((spec.flags & kCmdNoScript) && q.argv.size() > 1) {
      flags |= ScriptCommandFlags(server, spec.name, q.argv[1], spec.flags);
    }
  }
  return flags;
}

std::string_view ErrorReplyAt(const std::string& out, std::size_t start) {
  if (out.size() <= start || out[start] != '-') return {};
  const std::string_view reply = std::string_view(out).substr(start + 1);
  return reply.substr(0, reply.find("\r\n"));
}

}  // namespace

// What Redis's call() does once a command ran: its counters and latency histogram, the slow log,
// the "command" / "fast-command" latency event, and the MONITOR line (admin commands and those
// flagged skip_monitor are not shown; the others are, after they ran, as in Redis 7.0).
void NoteCommandRun(Server& server, Client& client, const ResolvedCommand& cmd,
                    const std::vector<std::string_view>& argv, std::uint64_t ns, bool failed) {
  const Config& config = server.config();
  const CommandSpec& spec = *cmd.spec;
  server.command_stats().Called(server.commands().IdOf(&spec), ns, failed, config.latency_tracking);
  const std::uint64_t us = ns / 1000;
  server.latency_monitor().AddSampleIfNeeded(
      (spec.flags & kCmdFast) ? "fast-command" : "command", us / 1000,
      config.latency_monitor_threshold);
  const bool slow = !(spec.flags & kCmdSkipSlowlog) && config.slowlog_log_slower_than >= 0 &&
                    us >= static_cast<std::uint64_t>(config.slowlog_log_slower_than);
  const bool monitored = !server.monitors().empty() && !(spec.flags & (kCmdSkipMonitor | kCmdAdmin));
  if (!slow && !monitored) return;
  const std::vector<bool> redacted = RedactedArguments(cmd, argv);
  if (slow) {
    // A script's client has no connection: Redis shows its peer as "?:0".
    const std::string_view peer =
        client.address().empty() ? std::string_view("?:0") : std::string_view(client.address());
    server.slowlog().Push(argv, redacted, us, peer, client.name(),
                          config.slowlog_log_slower_than, config.slowlog_max_len);
  }
  if (monitored) server.monitors().Feed(server, client, client.db(), argv, redacted);
}

bool ResolveCommand(Server& server, const std::vector<std::string_view>& argv, ResolvedCommand* cmd,
                    std::string* error) {
  const CommandTable& table = server.commands();
  cmd->spec = table.Find(argv[0]);
  cmd->parent = nullptr;
  if (cmd->spec == nullptr) {
    *error = UnknownCommandError(argv);
    return false;
  }
  if (!cmd->spec->subcommands.empty() && argv.size() >= 2) {
    cmd->parent = cmd->spec;
    cmd->spec = CommandTable::FindSubcommand(*cmd->parent, argv[1]);
    if (cmd->spec == nullptr) {
      *error = UnknownSubcommandError(argv[0], argv[1]);
      return false;
    }
  }
  return true;
}

bool QueuedInMulti(const CommandSpec& spec) {
  static constexpr std::string_view kRunAtOnce[] = {"exec",  "discard", "multi",
                                                    "watch", "quit",    "reset"};
  for (std::string_view name : kRunAtOnce) {
    if (spec.name == name) return false;
  }
  return true;
}

std::string CheckCommand(Server& server, Client& client, const ResolvedCommand& cmd,
                         const std::vector<std::string_view>& argv, CallOrigin origin,
                         bool in_multi) {
  const CommandSpec& spec = *cmd.spec;
  if (origin == CallOrigin::kExec) {
    // Redis's execCommand checks only the permissions again, which may have changed since the
    // command was queued.
    const AclDenial denial = AclCheck(server, client, cmd, argv, AclContext::kMulti);
    if (denial == AclDenial::kNone) return {};
    return "NOPERM ACLs rules changed between the moment the transaction was accumulated and "
           "the EXEC call. This command is no longer allowed for the following reason: " +
           std::string(ExecDenialReason(denial));
  }
  if (!ArityMatches(spec, argv.size())) {
    std::string message = "ERR wrong number of arguments for '";
    message += FullName(spec, cmd.parent);
    message += "' command";
    return message;
  }
  if (origin == CallOrigin::kClient && !(spec.flags & kCmdNoAuth) && server.AuthRequired(client)) {
    return "NOAUTH Authentication required.";
  }
  if (origin == CallOrigin::kScript && (spec.flags & kCmdNoScript)) {
    return "ERR This Redis command is not allowed from script";
  }
  client.set_last_command(cmd.spec, cmd.parent);  // CLIENT LIST's cmd=, as Redis sets it
  if (in_multi && (spec.flags & kCmdNoMulti)) {
    return "ERR Command not allowed inside a transaction";
  }
  const AclContext context = origin == CallOrigin::kScript ? AclContext::kLua
                             : in_multi                    ? AclContext::kMulti
                                                           : AclContext::kToplevel;
  if (const AclDenial denial = AclCheck(server, client, cmd, argv, context);
      denial != AclDenial::kNone) {
    return NoPermError(denial, FullName(spec, cmd.parent));
  }
  // EXEC is refused as what it will run would be (Redis's processCommand).
  std::uint32_t flags = spec.flags;
  // EVAL's and FCALL's are what their script declares (the rows are no-script, as few others).
  if ((flags & kCmdNoScript) && argv.size() > 1) {
    flags = ScriptCommandFlags(server, spec.name, argv[1], flags);
  }
  const bool exec = in_multi && spec.name == "exec";
  if (exec) flags |= QueuedFlags(server, client.transaction()) & (kCmdDenyOom | kCmdWrite);
  // Queuing may take memory without end, so under a full noeviction memory Redis refuses every
  // command but those that end the transaction.
  const bool queued = in_multi && spec.name != "exec" && spec.name != "discard" &&
                      spec.name != "quit" && spec.name != "reset";
  // A replica applies what its master sent whatever its own maxmemory (replica-ignore-maxmemory).
  const bool master = origin == CallOrigin::kMaster;
  // A script's calls are checked by the script (ScriptRunner: against the memory at its start).
  if (!master && origin != CallOrigin::kScript && ((flags & kCmdDenyOom) || queued) &&
      OverMemoryLimit(server)) {
    return std::string(kErrOom);
  }
  if ((flags & kCmdWrite) && !server.engine().LogStatus().ok()) {
    return LogFailureError(server.engine().LogStatus());
  }
  if (DeniedByLogFailure(server, spec)) return LogFailureError(server.engine().LogStatus());
  if (master) return {};
  const ReplicaLink& replica = server.replication();
  if ((flags & kCmdWrite) && replica.active() && server.config().replica_read_only) {
    return "READONLY You can't write against a read only replica.";
  }
  if (origin == CallOrigin::kClient && RefusedInSubscribedContext(client, spec)) {
    return SubscribedContextError(spec, cmd.parent);
  }
  // While a full sync loads the master's RDB, as Redis answers while it loads.
  if (replica.loading() && !(spec.flags & kCmdLoading)) {
    return "LOADING Redis is loading the dataset in memory";
  }
  return {};
}

void CallCommand(Server& server, Client& client, const ResolvedCommand& cmd,
                 const std::vector<std::string_view>& argv, resp::ReplyWriter& reply,
                 const RequestLevels* levels, Keyspace* keyspace) {
  const CommandSpec& spec = *cmd.spec;
  storage::Engine& engine = server.engine();
  ServerStats& stats = server.stats();
  std::string* out = reply.buffer();
  const std::size_t reply_start = out->size();
  CommandContext ctx{
      server, client, argv, reply, keyspace != nullptr ? *keyspace : server.keyspace(client.db()),
      levels};
  engine.TakeReadError();  // one of background work (active expiry) is not this command's
  // A script is shown before the commands it calls: Redis's EVAL and FCALL (flagged
  // skip_monitor, the only ones that are) feed the monitors themselves as they start.
  if ((spec.flags & kCmdSkipMonitor) && !server.monitors().empty()) {
    server.monitors().Feed(server, client, client.db(), argv, {});
  }
  const std::uint64_t start_ns = MonotonicNs();
  if (spec.flags & kCmdWrite) {
    // Whatever a write logs (LMOVE's pop and push, RENAME's put and delete, MSET's keys) is one
    // commit-log record: a crash keeps all of it or none. A single record costs nothing more.
    storage::Engine::AtomicGroup group(engine);
    spec.handler(ctx);
  } else {
    spec.handler(ctx);
  }
  // A transaction's or script's write (cluster mode): the snapshot learns what wrote its keys,
  // so keys only incremented are written as increments. A script command inside MULTI is not
  // a write of its own here: the commands it calls are noted as they run.
  if (keyspace != nullptr && (spec.flags & kCmdWrite) && !IsScriptCommand(spec)) {
    if (auto* snapshot = dynamic_cast<SnapshotKeyspace*>(keyspace)) {
      const SnapshotKeyspace::WriteKind kind = IncrementKindOf(spec, argv);
      for (const std::string& key : CommandKeys(spec, argv)) snapshot->NoteWrite(key, kind);
    }
  }
  if (const storage::Status error = engine.TakeReadError(); !error.ok()) {
    // A segment block that could not be read makes the answer unreliable (a key reads as
    // missing): the reply is replaced by the error, and the engine refused any write to that key.
    reply.Truncate(reply_start);
    reply.Error("ERR data on disk could not be read: " + error.ToString());
    Log(server.log_level(), LogLevel::kWarning, "Command '%s' failed reading the data: %s",
        std::string(spec.name).c_str(), error.ToString().c_str());
  }
  // Client-side caching (default mode) remembers the keys a read-only command read.
  if ((spec.flags & kCmdReadOnly) && server.tracking().clients() != 0) {
    std::vector<KeyRef> refs;
    if (KeysFromSpecs(spec.keys, spec.arity, argv, &refs) > 0) {
      std::vector<std::string_view> keys;
      for (const KeyRef& ref : refs) keys.push_back(argv[static_cast<std::size_t>(ref.pos)]);
      server.tracking().RememberKeys(client, keys);
    }
  }
  // Its reply may acknowledge what it wrote: it waits for the log to hold that.
  if ((spec.flags & kCmdWrite) && keyspace == nullptr) client.NoteLogWrite(engine.LogEnd());
  ++stats.total_commands_processed;
  // A command's reply is one value, so an error reply is one starting with '-' (EXEC's array
  // counts its commands' errors itself).
  std::string_view error = ErrorReplyAt(*out, reply_start);
  // A script's error that is one of its calls' was counted when the call failed (only EVAL and
  // FCALL are skip_monitor).
  if (!error.empty() && (spec.flags & kCmdSkipMonitor) &&
      server.scripts().ErrorCountedByCall(error)) {
    error = {};
  }
  if (!error.empty()) {
    server.NoteErrorReply(error);
    if (server.replication().IsMasterClient(client)) ++stats.unexpected_error_replies;
  }
  // A command that blocked (no reply, the client waits) is counted once it is served or times
  // out, as Redis counts it on unblocking.
  if (out->size() == reply_start && server.blocked_lists().IsBlocked(client.id())) return;
  NoteCommandRun(server, client, cmd, argv, MonotonicNs() - start_ns, !error.empty());
}

void RunCommand(Server& server, Client& client, const std::vector<std::string_view>& argv,
                resp::ReplyWriter& reply, CallOrigin origin) {
  ResolvedCommand cmd;
  std::string error;
  if (ResolveCommand(server, argv, &cmd, &error)) {
    error = CheckCommand(server, client, cmd, argv, origin, /*in_multi=*/false);
  }
  if (!error.empty()) {
    reply.Error(error);
    server.NoteErrorReply(error);
    if (cmd.spec != nullptr) server.command_stats().Rejected(server.commands().IdOf(cmd.spec));
    return;
  }
  CallCommand(server, client, cmd, argv, reply);
}

}  // namespace dynakv::server
