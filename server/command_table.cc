#include "command_table.h"

#include <chrono>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "acl.h"
#include "ascii.h"
#include "client.h"
#include "cluster_blocking.h"
#include "cluster_counters.h"
#include "cluster_executor.h"
#include "cluster_transaction.h"
#include "command_call.h"
#include "consistency_hints.h"
#include "log.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// Redis shows at most this much of a name or of the arguments in an error.
constexpr std::size_t kErrorArgLimit = 128;

void AppendTruncated(std::string* out, std::string_view text, std::size_t limit) {
  out->append(text.substr(0, limit));
}

}  // namespace

storage::Engine& CommandContext::engine() { return server.engine(); }

bool ArityMatches(const CommandSpec& spec, std::size_t argc) {
  const long long n = static_cast<long long>(argc);
  return spec.arity >= 0 ? n == spec.arity : n >= -static_cast<long long>(spec.arity);
}

std::string FullName(const CommandSpec& spec, const CommandSpec* parent) {
  if (parent == nullptr) return std::string(spec.name);
  std::string name(parent->name);
  name += '|';
  name.append(spec.name);
  return name;
}

namespace {
constexpr std::string_view kAclCategoryNames[kAclCategoryCount] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};
constexpr std::string_view kCommandFlagNames[] = {
    "write",    "readonly",     "denyoom",           "admin",
    "pubsub",   "noscript",     "blocking",          "loading",
    "stale",    "skip_monitor", "skip_slowlog",      "asking",
    "fast",     "no_auth",      "no_mandatory_keys", "no_async_loading",
    "no_multi", "allow_busy",
};
}  // namespace

std::string_view CommandFlagName(std::uint32_t bit) {
  for (std::size_t i = 0; i < std::size(kCommandFlagNames); ++i) {
    if (bit == (1u << i)) return kCommandFlagNames[i];
  }
  return {};
}

std::uint32_t AclCategories(const CommandSpec& spec) {
  // Redis's setImplicitACLCategories.
  std::uint32_t categories = spec.acl;
  if (spec.flags & kCmdWrite) categories |= kAclWrite;
  if ((spec.flags & kCmdReadOnly) && !(categories & kAclScripting)) categories |= kAclRead;
  if (spec.flags & kCmdAdmin) categories |= kAclAdmin | kAclDangerous;
  if (spec.flags & kCmdPubSub) categories |= kAclPubSub;
  if (spec.flags & kCmdFast) categories |= kAclFast;
  if (spec.flags & kCmdBlocking) categories |= kAclBlocking;
  if (!(categories & kAclFast)) categories |= kAclSlow;
  return categories;
}

bool HasKeys(const CommandSpec& spec) {
  return spec.getkeys != nullptr || spec.keys.AnyFlag(kKeyNotKey, /*inverted=*/true);
}

int GetKeys(const CommandSpec& spec, const std::vector<std::string_view>& argv,
            std::vector<KeyRef>* keys) {
  // Redis's getKeysFromCommandWithSpecs: the specs unless their flags vary or they fail.
  keys->clear();
  if (spec.keys.AnyFlag(kKeyNotKey, true) && !spec.keys.AnyFlag(kKeyVariableFlags)) {
    const int found = KeysFromSpecs(spec.keys, spec.arity, argv, keys);
    if (found >= 0) return found;
  }
  if (spec.getkeys != nullptr) return spec.getkeys(argv, keys);
  keys->clear();
  return 0;
}

bool NodeLocalInCluster(const CommandSpec& spec) {
  // SWAPDB is refused in cluster mode (database 0 only), as in Redis Cluster.
  return !HasKeys(spec) && (AclCategories(spec) & kAclKeyspace) &&
         !(spec.flags & kCmdClusterWide) && spec.name != "swapdb";
}

bool AlwaysBlind(const std::vector<std::string_view>&) { return true; }

bool AlwaysConditional(const std::vector<std::string_view>&) { return true; }

std::string_view AclCategoryName(std::uint32_t bit) {
  for (int i = 0; i < kAclCategoryCount; ++i) {
    if (bit == (1u << i)) return kAclCategoryNames[i];
  }
  return {};
}

std::uint32_t AclCategoryByName(std::string_view name) {
  for (int i = 0; i < kAclCategoryCount; ++i) {
    if (EqualsIgnoreCase(name, kAclCategoryNames[i])) return 1u << i;
  }
  return 0;
}

void ReplyWrongArity(resp::ReplyWriter& reply, std::string_view command_name) {
  std::string message = "ERR wrong number of arguments for '";
  message.append(command_name);
  message.append("' command");
  reply.Error(message);
}

std::string UnknownCommandError(const std::vector<std::string_view>& argv) {
  std::string message = "ERR unknown command '";
  AppendTruncated(&message, argv[0], kErrorArgLimit);
  message += "', with args beginning with: ";
  std::string args;
  for (std::size_t i = 1; i < argv.size() && args.size() < kErrorArgLimit; ++i) {
    args += '\'';
    AppendTruncated(&args, argv[i], kErrorArgLimit - args.size() + 1);
    args += "' ";
  }
  return message + args;
}

std::string LogFailureError(const storage::Status& log_status) {
  std::string error = "MISCONF Errors writing to the AOF file: ";
  error += log_status.os_errno() != 0 ? std::strerror(log_status.os_errno()) : log_status.message();
  return error;
}

std::string UnknownSubcommandError(std::string_view command, std::string_view subcommand) {
  std::string message = "ERR unknown subcommand '";
  AppendTruncated(&message, subcommand, kErrorArgLimit);
  message += "'. Try ";
  for (char c : command) message += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  message += " HELP.";
  return message;
}

CommandTable::CommandTable() {
  for (auto family : {StringCommands(), HashCommands(), ListCommands(), BlockingListCommands(),
                      SetCommands(), SortedSetCommands(), SortedSetRangeCommands(),
                      SortedSetAlgebraCommands(), BlockingSortedSetCommands(), KeyspaceCommands(),
                      ObjectCommands(), DumpCommands(), RdbCommands(), ConnectionCommands(),
                      ClientCommands(), ServerCommands(), DatabaseCommands(),
                      ClusterCommands(), AclCommands(), BitmapCommands(), HyperLogLogCommands(),
                      CommandCommands(), PubSubCommands(), TransactionCommands(),
                      ScriptingCommands(), FunctionCommands(), SlowlogCommands(),
                      LatencyCommands(), MonitorCommands(), ReplicationCommands(),
                      ReplicaofCommands()}) {
    for (const CommandSpec& spec : family) {
      if (!by_name_.emplace(spec.name, &spec).second) {
        duplicates_.push_back(spec.name);
        continue;
      }
      sorted_.push_back(&spec);
      defined_.push_back(&spec);
      longest_name_ = std::max(longest_name_, spec.name.size());
    }
  }
  std::sort(sorted_.begin(), sorted_.end(),
            [](const CommandSpec* a, const CommandSpec* b) { return a->name < b->name; });
  for (const CommandSpec* spec : sorted_) {
    AddEntry(spec, nullptr);
    for (const CommandSpec& sub : spec->subcommands) AddEntry(&sub, spec);
  }
}

void CommandTable::AddEntry(const CommandSpec* spec, const CommandSpec* parent) {
  const int id = static_cast<int>(entries_.size());
  // The one place a row meets its documentation.
  std::string fullname = FullName(*spec, parent);
  const CommandDoc* doc = FindCommandDoc(fullname);
  entries_.push_back(Entry{spec, parent, std::move(fullname), doc});
  ids_.emplace(spec, id);
  ids_by_fullname_.emplace(entries_.back().fullname, id);
}

int CommandTable::FindId(std::string_view fullname) const {
  std::string lower(fullname);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = ids_by_fullname_.find(lower);
  return it == ids_by_fullname_.end() ? -1 : it->second;
}

const CommandSpec* CommandTable::FindSubcommand(const CommandSpec& container,
                                                std::string_view name) {
  for (const CommandSpec& sub : container.subcommands) {
    if (EqualsIgnoreCase(sub.name, name)) return &sub;
  }
  return nullptr;
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char lower[64];
  if (name.size() > longest_name_ || name.size() > sizeof(lower)) return nullptr;
  // Names are ASCII; std::tolower's locale lookup showed up in profiles of every request.
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  auto it = by_name_.find(std::string_view(lower, name.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

void CommandTable::Dispatch(Server& server, Client& client,
                            const std::vector<std::string_view>& argv,
                            resp::ReplyWriter& reply, CallOrigin origin) const {
  Transaction& tx = client.transaction();
  ResolvedCommand cmd;
  std::string error;
  if (!ResolveCommand(server, argv, &cmd, &error)) {
    tx.Flag();  // an error while queuing aborts the transaction (Redis's flagTransaction)
    reply.Error(error);
    server.NoteErrorReply(error);
    return;
  }
  if (ClusterExecutor* cluster = server.cluster_executor(); cluster != nullptr) {
    DispatchClustered(server, client, cmd, argv, reply, *cluster, origin);
    return;
  }
  error = CheckCommand(server, client, cmd, argv, origin, tx.active());
  if (!error.empty()) return Reject(server, client, cmd, std::move(error), reply);
  if (tx.active() && QueuedInMulti(*cmd.spec)) {
    tx.Queue(cmd, argv);
    reply.Simple("QUEUED");
    return;
  }
  Tracking& tracking = server.tracking();
  tracking.BeginCommand(client);
  CallCommand(server, client, cmd, argv, reply);
  tracking.EndCommand();  // invalidations for this client follow its reply, as in Redis
  // CLIENT CACHING's flag lasts for the next command, or the transaction it opens.
  if (!tx.active() && !(cmd.parent != nullptr && cmd.spec->name == "caching")) {
    tracking.CommandDone(client);
  }
  // Clients blocked on the keys it pushed to are served once it has completed (as Redis's
  // handleClientsBlockedOnKeys).
  if (server.blocked_lists().has_ready()) server.blocked_lists().ServeReady();
}

void CommandTable::Reject(Server& server, Client& client, const ResolvedCommand& cmd,
                          std::string error, resp::ReplyWriter& reply) {
  Transaction& tx = client.transaction();
  if (cmd.spec->handler != nullptr && cmd.spec->name == "exec") {
    // EXEC itself refused (its queue writes while writes are refused, say): the transaction
    // goes, with Redis's execCommandAbort wording. Redis's rejectCommand words it so even
    // outside MULTI (a wrong arity, a RESP2 subscribed connection).
    if (error.starts_with("ERR ")) error.erase(0, 4);
    error.insert(0, "EXECABORT Transaction discarded because of: ");
    tx.Clear();
    server.watched_keys().UnwatchAll(client);
    tx.set_dirty(false);
  }
  tx.Flag();
  reply.Error(error);
  server.NoteErrorReply(error);
  server.command_stats().Rejected(server.commands().IdOf(cmd.spec));  // Redis's rejected_calls
}

void CommandTable::DispatchClustered(Server& server, Client& client, const ResolvedCommand& cmd,
                                     const std::vector<std::string_view>& request,
                                     resp::ReplyWriter& reply, ClusterExecutor& cluster,
                                     CallOrigin origin) const {
  const CommandSpec& spec = *cmd.spec;
  ServerStats& stats = server.stats();
  // The request's own R/W option is not an argument of the command.
  RequestLevels levels;
  std::size_t argc = request.size();
  std::string level_error;
  const bool levels_ok = StripRequestLevels(
      spec, request, server.config().cluster_replication_factor, &argc, &levels, &level_error);
  const std::vector<std::string_view> argv(request.begin(), request.begin() + argc);
  auto fail = [&](std::string_view error) {
    Reject(server, client, cmd, std::string(error), reply);
  };
  // A malformed option is reported as such, not as the wrong arity it leaves behind.
  if (levels_ok && !ArityMatches(spec, argv.size())) {
    return fail("ERR wrong number of arguments for '" + FullName(spec, cmd.parent) + "' command");
  }
  if (!(spec.flags & kCmdNoAuth) && server.AuthRequired(client)) {
    return fail("NOAUTH Authentication required.");
  }
  if (!levels_ok) return fail(level_error);
  // The coordinator checks permissions before any replica is asked: members trust each other's
  // requests (the bus is authenticated), so this is the only check.
  Transaction& tx = client.transaction();
  if (std::string error = CheckCommand(server, client, cmd, argv, origin, tx.active());
      !error.empty()) {
    return fail(error);
  }
  if (tx.active() && QueuedInMulti(spec)) {
    const std::string refusal =
        QueueRefusalInCluster(spec, argv, levels.read.has_value() || levels.write.has_value());
    if (!refusal.empty()) return fail(refusal);
    tx.Queue(cmd, argv);
    reply.Simple("QUEUED");
    return;
  }
  if (HasKeys(spec) && !(spec.flags & kCmdOwnReplication)) {
    CommandContext ctx{server, client, argv, reply, server.keyspace(), &levels};
    ++stats.total_commands_processed;
    const auto start = std::chrono::steady_clock::now();
    if (ClusterCounters::RunsOnOneReplica(spec)) {
      // A counter increment or a convergent collection's write, on one replica.
      server.cluster_counters()->Run(ctx, spec);
    } else if (ClusterBlocking::RunsOnPrimary(spec)) {
      // The other list and sorted-set writes, on their key's primary (cluster_blocking.h).
      server.cluster_blocking()->Run(ctx, spec);
    } else {
      cluster.Run(ctx, spec);  // replies (and counts an error reply) when the replicas answered
    }
    // Counted as coordinated: the time is this node's part of the work (the replicas answer
    // later), and an error the replicas send back is not known here.
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start);
    NoteCommandRun(server, client, cmd, argv, static_cast<std::uint64_t>(ns.count()), false);
    return;
  }
  CallCommand(server, client, cmd, argv, reply, &levels);
}

}  // namespace dynakv::server
