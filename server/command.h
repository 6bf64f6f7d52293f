// The command interface: every command family (cmd_*.cc, one file per family as in Redis) exports
// a table of CommandSpec; the dispatcher checks arity, authentication and limits before calling a
// handler, so handlers only deal with their own syntax and semantics.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "key_spec.h"
#include "resp/reply_writer.h"
#include "storage/status.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::server {

class Server;
class Client;
class Keyspace;
struct RequestLevels;

struct CommandContext {
  Server& server;
  Client& client;
  const std::vector<std::string_view>& argv;  // argv[0] is the command name as the client sent it
  resp::ReplyWriter& reply;
  // What key commands read and write: the engine on a single node; in cluster mode a snapshot of
  // the command's keys as their replicas hold them (node-local for commands without keys).
  Keyspace& keyspace;
  // Cluster mode: the request's own consistency options (consistency_hints.h); else nullptr.
  const RequestLevels* levels = nullptr;

  // For what is not about keys (SAVE's checkpoint, memory figures).
  storage::Engine& engine();
};

// Redis's command flags, in the order COMMAND INFO lists them (CommandFlagName). A row carries
// what `COMMAND INFO` on Redis 7.0 shows for the command; the dispatcher acts on write, readonly,
// denyoom, no_auth, admin and fast (through the ACL categories), the others are shown only.
enum CommandFlag : std::uint32_t {
  kCmdWrite = 1u << 0,  // modifies the keyspace
  kCmdReadOnly = 1u << 1,
  kCmdDenyOom = 1u << 2,  // may grow memory: refused under noeviction when full
  kCmdAdmin = 1u << 3,
  kCmdPubSub = 1u << 4,
  kCmdNoScript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdAsking = 1u << 11,
  kCmdFast = 1u << 12,
  kCmdNoAuth = 1u << 13,  // allowed before AUTH (AUTH, HELLO, QUIT, RESET)
  kCmdNoMandatoryKeys = 1u << 14,
  kCmdNoAsyncLoading = 1u << 15,
  kCmdNoMulti = 1u << 16,
  kCmdAllowBusy = 1u << 17,
  kRedisCommandFlags = (1u << 18) - 1,
  // dynakv's own, not shown by COMMAND INFO.
  // Cluster mode: the handler talks to the replicas itself (VGET, VSET) instead of running over
  // a snapshot of its keys.
  kCmdOwnReplication = 1u << 24,
  // Cluster mode: takes the per-request consistency option as its last two arguments
  // (consistency_hints.h): "R <level>" on a readonly command, "W <level>" on a write.
  kCmdLevelOption = 1u << 25,
  // Refused with MISCONF like a write while the commit log cannot be written, so health checks
  // see the problem (PING, as in Redis).
  kCmdRefusedOnLogFailure = 1u << 26,
  // Runs on a RESP2 connection in subscribed mode ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT,
  // RESET); any other command gets Redis's "Can't execute" error there.
  kCmdSubscribedContext = 1u << 27,
  // Cluster mode: an increment of a PN-counter (INCR, INCRBY, DECR, DECRBY): runs on one replica
  // of its key without a read and ships the increment (cluster_counters.h). On a convergent
  // collection's row (HINCRBY, ZINCRBY, ZADD with INCR): the increment of one field's or member's
  // counter inside the collection (cluster_collections.h).
  kCmdClusterCounter = 1u << 28,
  // Cluster mode: a write to a convergent collection (SADD, HSET, ...): runs on one replica of its
  // key without a read and ships what it changed as a delta (cluster_collections.h).
  kCmdClusterConvergent = 1u << 29,
  // Cluster mode: runs on its key's primary, the first of its replicas alive and reachable, so
  // that while the primary stays the same the key's writes are serialized there: the pops of a
  // convergent collection (an element is handed out once) and the list writes (one order)
  // (cluster_lists.h).
  kCmdClusterOnPrimary = 1u << 30,
  // Cluster mode: a keyspace command without keys that answers for the whole cluster (KEYS, SCAN,
  // DBSIZE, RANDOMKEY, FLUSHALL, FLUSHDB: cluster_keys.h) unless the client asked for this node's
  // view; the other keyspace commands without keys are node-local.
  kCmdClusterWide = 1u << 31,
};
// "write", "readonly", ... for one bit of kRedisCommandFlags; empty for the others.
std::string_view CommandFlagName(std::uint32_t bit);

using CommandHandler = void (*)(CommandContext&);

// ACL categories, one bit each, in Redis 7.0's order (ACL CAT lists them in it, COMMAND INFO shows
// a command's in it). AclCategoryName(bit) is the name without the '@'.
enum AclCategory : std::uint32_t {
  kAclKeyspace = 1u << 0,
  kAclRead = 1u << 1,
  kAclWrite = 1u << 2,
  kAclSet = 1u << 3,
  kAclSortedSet = 1u << 4,
  kAclList = 1u << 5,
  kAclHash = 1u << 6,
  kAclString = 1u << 7,
  kAclBitmap = 1u << 8,
  kAclHyperLogLog = 1u << 9,
  kAclGeo = 1u << 10,
  kAclStream = 1u << 11,
  kAclPubSub = 1u << 12,
  kAclAdmin = 1u << 13,
  kAclFast = 1u << 14,
  kAclSlow = 1u << 15,
  kAclBlocking = 1u << 16,
  kAclDangerous = 1u << 17,
  kAclConnection = 1u << 18,
  kAclTransaction = 1u << 19,
  kAclScripting = 1u << 20,
};
inline constexpr int kAclCategoryCount = 21;

// A row's own way to find its keys and their flags, for what its key specs cannot say (Redis's
// getkeys_proc): flags that depend on the arguments (kKeyVariableFlags: SET's GET) or specs that
// are incomplete. Returns the number of keys put in *keys.
using GetKeysFunction = int (*)(const std::vector<std::string_view>& argv,
                                std::vector<KeyRef>* keys);

// Cluster mode: whether a request writes its keys without depending on what they hold (a blind
// write: SETEX, MSET, SET without NX/XX/GET/KEEPTTL). The coordinator then skips the read round
// trip when it is a replica of every key, its own copy serving as the causal context. A request
// that fails to parse may count as blind: it writes nothing.
using BlindWriteTest = bool (*)(const std::vector<std::string_view>& argv);
// For rows whose every request is blind.
bool AlwaysBlind(const std::vector<std::string_view>& argv);

// Cluster mode: whether a write's outcome depends on the value it finds (SET with NX/XX/GET,
// GETSET, GETDEL, the INCR family): such a request runs at cluster-conditional-write-consistency
// unless the client chose a level.
using ConditionalWriteTest = bool (*)(const std::vector<std::string_view>& argv);
// For rows whose every request is conditional.
bool AlwaysConditional(const std::vector<std::string_view>& argv);

// One row of a command table: every fact about a command that code acts on or COMMAND shows
// (its documentation, Redis's prose, is the one exception: command_docs.h). Rows are written
// with designated initializers, fields in this order, leaving out what is zero:
//   {.name = "mset", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
//    .keys = {IndexRange(1, -1, 2, 0, kKeyOW | kKeyUpdate)},
//    .tips = "request_policy:multi_shard response_policy:all_succeeded", .blind = AlwaysBlind,
//    .handler = MSetCommand}
// Redis's facts are Redis 7.0's (`COMMAND INFO <name>` on redis-server; scripts/command_row.py
// prints them in this form): its flags, its explicit categories, its key specs, its tips.
struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis convention: n exact argc (name included), -n at least n
  std::uint32_t flags = 0;
  // The ACL categories Redis's command JSON names explicitly (its "acl_categories"): the flags
  // imply the rest as in Redis (write -> @write, readonly -> @read, admin -> @admin @dangerous,
  // pubsub -> @pubsub, fast -> @fast, blocking -> @blocking, no @fast -> @slow).
  // AclCategories(spec) is the full set.
  std::uint32_t acl = 0;
  // Where its keys are and what it does with each (key_spec.h). The legacy range COMMAND shows
  // (keys.first/last/step), GETKEYS, the ACL check's read/write per key and the keys the cluster
  // coordinator reads and writes all derive from them.
  KeySpecs keys = {};
  // Redis's command tips, space-separated ("request_policy:multi_shard response_policy:agg_sum").
  std::string_view tips = {};
  GetKeysFunction getkeys = nullptr;
  // Cluster mode, writes with keys: null for a read-modify-write command (its keys are read from
  // their replicas first and the handler runs over what they hold), else the test of a blind
  // request.
  BlindWriteTest blind = nullptr;
  // Cluster mode: null for a write that never depends on what it finds, else the test of a
  // conditional request.
  ConditionalWriteTest conditional = nullptr;
  CommandHandler handler = nullptr;  // null for a container that needs a subcommand
  // A container command (CLIENT, CONFIG...): its subcommands, rows of their own (name without
  // the container's; arity counting both). The dispatcher picks one by argv[1]; ACL rules name
  // them "client|kill". A container with a handler runs it when called alone (COMMAND).
  std::span<const CommandSpec> subcommands = {};
};

// Whether the command takes keys (Redis's doesCommandHaveKeys): a key spec that is not
// not_key, or a getkeys function. In cluster mode such commands run through the coordinator.
bool HasKeys(const CommandSpec& spec);
// The keys of a request (argv[0] the command; for a subcommand its container) with their
// key-spec flags, as Redis's getKeysFromCommandWithSpecs finds them: from the key specs, or from
// the row's getkeys where the flags vary or the specs do not fit. Returns their number.
int GetKeys(const CommandSpec& spec, const std::vector<std::string_view>& argv,
            std::vector<KeyRef>* keys);
// Cluster mode: a keyspace command without keys that is not kCmdClusterWide answers for this
// node's replica only (INFO cluster lists them).
bool NodeLocalInCluster(const CommandSpec& spec);

// The full category set of a command: its explicit ones and those its flags imply.
std::uint32_t AclCategories(const CommandSpec& spec);
// "keyspace", "read", ... for one bit of AclCategory; empty for no category.
std::string_view AclCategoryName(std::uint32_t bit);
// The bit of a category name (case-insensitive, without '@'); 0 when unknown.
std::uint32_t AclCategoryByName(std::string_view name);

// Tables of the command families; a new family is added to CommandTable's constructor too.
std::span<const CommandSpec> StringCommands();            // cmd_string.cc
std::span<const CommandSpec> KeyspaceCommands();          // cmd_keys.cc
std::span<const CommandSpec> ObjectCommands();            // cmd_object.cc
std::span<const CommandSpec> DumpCommands();              // cmd_dump.cc
std::span<const CommandSpec> RdbCommands();               // cmd_rdb.cc
std::span<const CommandSpec> DatabaseCommands();          // cmd_databases.cc
std::span<const CommandSpec> HashCommands();              // cmd_hash.cc
std::span<const CommandSpec> SetCommands();               // cmd_set.cc
std::span<const CommandSpec> ListCommands();              // cmd_list.cc
std::span<const CommandSpec> BlockingListCommands();      // cmd_list_blocking.cc
std::span<const CommandSpec> SortedSetCommands();         // cmd_zset.cc
std::span<const CommandSpec> SortedSetRangeCommands();    // cmd_zset_range.cc
std::span<const CommandSpec> SortedSetAlgebraCommands();  // cmd_zset_setops.cc
std::span<const CommandSpec> BlockingSortedSetCommands();  // cmd_zset_blocking.cc
std::span<const CommandSpec> ConnectionCommands();        // cmd_connection.cc
std::span<const CommandSpec> ClientCommands();            // cmd_client.cc
std::span<const CommandSpec> ServerCommands();            // cmd_server.cc
std::span<const CommandSpec> ClusterCommands();           // cmd_cluster.cc
std::span<const CommandSpec> AclCommands();               // cmd_acl.cc
std::span<const CommandSpec> BitmapCommands();            // cmd_bitops.cc
std::span<const CommandSpec> HyperLogLogCommands();       // cmd_hyperloglog.cc
std::span<const CommandSpec> CommandCommands();           // cmd_command.cc
std::span<const CommandSpec> PubSubCommands();            // cmd_pubsub.cc
std::span<const CommandSpec> TransactionCommands();       // cmd_multi.cc
std::span<const CommandSpec> ScriptingCommands();         // cmd_scripting.cc
std::span<const CommandSpec> FunctionCommands();          // cmd_function.cc
std::span<const CommandSpec> SlowlogCommands();           // cmd_slowlog.cc
std::span<const CommandSpec> LatencyCommands();           // cmd_latency.cc
std::span<const CommandSpec> MonitorCommands();           // cmd_monitor.cc
std::span<const CommandSpec> ReplicationCommands();       // cmd_replication.cc
std::span<const CommandSpec> ReplicaofCommands();         // cmd_replicaof.cc

// Error texts shared by several families, worded exactly as Redis words them.
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrOom =
    "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kErrWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

// The refusal of writes (and PING, as Redis) while the commit log cannot be written:
// "MISCONF Errors writing to the AOF file: No space left on device".
std::string LogFailureError(const storage::Status& log_status);

// "ERR wrong number of arguments for 'get' command"
void ReplyWrongArity(resp::ReplyWriter& reply, std::string_view command_name);

}  // namespace dynakv::server
