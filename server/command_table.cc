#include "command_table.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "acl.h"
#include "ascii.h"
#include "client.h"
#include "cluster_executor.h"
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

// Under noeviction a full memtable refuses commands that may grow it, as Redis refuses them when
// used memory is over maxmemory; the other policies make room instead.
// Redis refuses PING too while it cannot persist, so health checks see the problem.
bool DeniedByLogFailure(Server& server, const CommandSpec& spec) {
  return (spec.flags & (kCmdWrite | kCmdRefusedOnLogFailure)) && !server.engine().LogStatus().ok();
}

// Runs a command whose reply starts at `reply_start` of the output buffer. A segment block that
// could not be read during it makes its answer unreliable (a key reads as missing): the reply is
// replaced by the error, and the engine refused any write to that key.
void RunHandler(Server& server, const CommandSpec& spec, CommandContext& ctx,
                std::size_t reply_start) {
  storage::Engine& engine = server.engine();
  engine.TakeReadError();  // one of background work (active expiry) is not this command's
  spec.handler(ctx);
  if (const storage::Status error = engine.TakeReadError(); !error.ok()) {
    ctx.reply.buffer()->resize(reply_start);
    ctx.reply.Error("ERR data on disk could not be read: " + error.ToString());
    Log(server.log_level(), LogLevel::kWarning, "Command '%s' failed reading the data: %s",
        std::string(spec.name).c_str(), error.ToString().c_str());
  }
}

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

bool OverMemoryLimit(Server& server) {
  const Config& config = server.config();
  if (config.maxmemory == 0 || config.maxmemory_policy != storage::EvictionPolicy::kNoEviction) {
    return false;
  }
  return server.engine().Stats().memtable_bytes >= config.maxmemory;
}

// The ACL check, after authentication as in Redis: a denial is logged (ACL LOG) and refused
// with Redis's NOPERM text.
bool Permitted(Server& server, Client& client, const CommandSpec& spec, const CommandSpec* parent,
               const std::vector<std::string_view>& argv, resp::ReplyWriter& reply) {
  const AclUser* user = client.user();
  if (user == nullptr || user->AllowsEverything()) return true;
  std::size_t arg = 0;
  const AclDenial denial = user->Check(spec, parent, argv, &arg);
  if (denial == AclDenial::kNone) return true;
  const std::uint64_t now = uv_now(server.loop());
  std::string info = client.Describe(now);
  info.pop_back();  // its '\n'
  server.acl().LogDenial(
      denial, AclContext::kToplevel,
      denial == AclDenial::kCommand ? FullName(spec, parent) : std::string(argv[arg]), user->name(),
      now, std::move(info));
  reply.Error(NoPermError(denial, FullName(spec, parent)));
  return false;
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
  return !HasKeys(spec) && (AclCategories(spec) & kAclKeyspace) && spec.name != "swapdb";
}

bool AlwaysBlind(const std::vector<std::string_view>&) { return true; }

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
                      DatabaseCommands(), ObjectCommands(), DumpCommands(),
                      ConnectionCommands(), ServerCommands(), ClusterCommands(), AclCommands(),
                      BitmapCommands(), HyperLogLogCommands(), CommandCommands(),
                      PubSubCommands()}) {
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
                            resp::ReplyWriter& reply) const {
  ServerStats& stats = server.stats();
  const CommandSpec* spec = Find(argv[0]);
  if (spec == nullptr) {
    reply.Error(UnknownCommandError(argv));
    ++stats.total_error_replies;
    return;
  }
  const CommandSpec* parent = nullptr;
  if (!spec->subcommands.empty() && argv.size() >= 2) {
    parent = spec;
    spec = FindSubcommand(*parent, argv[1]);
    if (spec == nullptr) {
      reply.Error(UnknownSubcommandError(argv[0], argv[1]));
      ++stats.total_error_replies;
      return;
    }
  }
  ClusterExecutor* cluster = server.cluster_executor();
  if (cluster != nullptr) {
    DispatchClustered(server, client, *spec, parent, argv, reply, *cluster);
    return;
  }
  if (!ArityMatches(*spec, argv.size())) {
    ReplyWrongArity(reply, FullName(*spec, parent));
    ++stats.total_error_replies;
    return;
  }
  if (!(spec->flags & kCmdNoAuth) && server.AuthRequired(client)) {
    reply.Error("NOAUTH Authentication required.");
    ++stats.total_error_replies;
    return;
  }
  client.set_last_command(spec, parent);  // CLIENT LIST's cmd=, as Redis sets it
  if (!Permitted(server, client, *spec, parent, argv, reply)) {
    ++stats.total_error_replies;
    return;
  }
  if ((spec->flags & kCmdDenyOom) && OverMemoryLimit(server)) {
    reply.Error(kErrOom);
    ++stats.total_error_replies;
    return;
  }
  if (DeniedByLogFailure(server, *spec)) {
    reply.Error(LogFailureError(server.engine().LogStatus()));
    ++stats.total_error_replies;
    return;
  }
  if (RefusedInSubscribedContext(client, *spec)) {
    reply.Error(SubscribedContextError(*spec, parent));
    ++stats.total_error_replies;
    return;
  }

  std::string* out = reply.buffer();
  const std::size_t reply_start = out->size();
  CommandContext ctx{server, client, argv, reply, server.keyspace(client.db())};
  RunHandler(server, *spec, ctx, reply_start);
  // Its reply may acknowledge what it wrote: it waits for the log to hold that.
  if (spec->flags & kCmdWrite) client.NoteLogWrite(server.engine().LogEnd());
  ++stats.total_commands_processed;
  // Every command here replies with a single value, so an error reply is one starting with '-'.
  if (out->size() > reply_start && (*out)[reply_start] == '-') ++stats.total_error_replies;
  // Clients blocked on the keys it pushed to are served once it has completed (as Redis's
  // handleClientsBlockedOnKeys).
  if (server.blocked_lists().has_ready()) server.blocked_lists().ServeReady();
}

void CommandTable::DispatchClustered(Server& server, Client& client, const CommandSpec& spec,
                                     const CommandSpec* parent,
                                     const std::vector<std::string_view>& request,
                                     resp::ReplyWriter& reply, ClusterExecutor& cluster) const {
  ServerStats& stats = server.stats();
  // The request's own R/W option is not an argument of the command.
  RequestLevels levels;
  std::size_t argc = request.size();
  std::string level_error;
  const bool levels_ok = StripRequestLevels(
      spec, request, server.config().cluster_replication_factor, &argc, &levels, &level_error);
  const std::vector<std::string_view> argv(request.begin(), request.begin() + argc);
  auto fail = [&](std::string_view error) {
    reply.Error(error);
    ++stats.total_error_replies;
  };
  // A malformed option is reported as such, not as the wrong arity it leaves behind.
  if (levels_ok && !ArityMatches(spec, argv.size())) {
    ReplyWrongArity(reply, FullName(spec, parent));
    ++stats.total_error_replies;
    return;
  }
  if (!(spec.flags & kCmdNoAuth) && server.AuthRequired(client)) {
    return fail("NOAUTH Authentication required.");
  }
  if (!levels_ok) return fail(level_error);
  // The coordinator checks permissions before any replica is asked: members trust each other's
  // requests (the bus is authenticated), so this is the only check.
  client.set_last_command(&spec, parent);
  if (!Permitted(server, client, spec, parent, argv, reply)) {
    ++stats.total_error_replies;
    return;
  }
  if ((spec.flags & kCmdDenyOom) && OverMemoryLimit(server)) return fail(kErrOom);
  if (DeniedByLogFailure(server, spec)) return fail(LogFailureError(server.engine().LogStatus()));
  if (RefusedInSubscribedContext(client, spec)) return fail(SubscribedContextError(spec, parent));

  CommandContext ctx{server, client, argv, reply, server.keyspace(), &levels};
  ++stats.total_commands_processed;
  if (HasKeys(spec) && !(spec.flags & kCmdOwnReplication)) {
    cluster.Run(ctx, spec);  // replies (and counts an error reply) when the replicas answered
    return;
  }
  std::string* out = reply.buffer();
  const std::size_t reply_start = out->size();
  RunHandler(server, spec, ctx, reply_start);
  if (spec.flags & kCmdWrite) client.NoteLogWrite(server.engine().LogEnd());
  if (out->size() > reply_start && (*out)[reply_start] == '-') ++stats.total_error_replies;
}

}  // namespace dynakv::server
