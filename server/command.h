// The command interface: every command family (cmd_*.cc, one file per family as in Redis) exports
// a table of CommandSpec; the dispatcher checks arity, authentication and limits before calling a
// handler, so handlers only deal with their own syntax and semantics.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

enum CommandFlag : std::uint32_t {
  kCmdWrite = 1u << 0,     // modifies the keyspace
  kCmdReadOnly = 1u << 1,
  kCmdDenyOom = 1u << 2,   // may grow memory: refused under noeviction when full
  kCmdNoAuth = 1u << 3,    // allowed before AUTH (AUTH, HELLO, QUIT)
  kCmdFast = 1u << 4,
  kCmdAdmin = 1u << 5,
  // Cluster mode: the handler talks to the replicas itself (VGET, VSET) instead of running over
  // a snapshot of its keys.
  kCmdOwnReplication = 1u << 6,
};

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

// What a command does with a key, as ACL key patterns see it: Redis 7's key-spec flags reduced to
// ACCESS (the value is read or returned: needs %R~) and INSERT/DELETE/UPDATE (needs %W~). A key
// spec with neither (EXISTS, TYPE, STRLEN: RO without ACCESS) passes any pattern matching it.
// From `COMMAND INFO`: ["RO","access"] -> kKeyRead (GET, HGET); ["RW","update"] or ["OW","insert"]
// or ["RM","delete"] -> kKeyWrite (EXPIRE, HSET's ["RW","update"] too); ["RW","access","update"]
// -> kKeyReadWrite (INCR, GETDEL); ["RO"] -> kKeyNone (HLEN, STRLEN).
enum KeyAccess : std::uint8_t {
  kKeyNone = 0,
  kKeyRead = 1,
  kKeyWrite = 2,
  kKeyReadWrite = kKeyRead | kKeyWrite,
  kKeySameAsFirst = 0x80,  // KeyRange::rest_access only
};

// The key arguments: positions first..last (last < 0 counts from the end, -1 = last argument)
// every `step`; first == 0: none. Also COMMAND's legacy key range.
struct KeyRange {
  int first = 0;
  int last = 0;
  int step = 0;
  KeyAccess access = kKeyNone;  // of the first key, and of the rest unless rest_access says
  // The keys after the first when the command uses them differently (RENAME, COPY: destination).
  KeyAccess rest_access = kKeySameAsFirst;
};

// One row of a command table. Rows are written with designated initializers, fields in this
// order, leaving out what is zero:
//   {.name = "get", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclString,
//    .keys = {1, 1, 1, kKeyRead}, .handler = GetCommand}
// Facts come from Redis 7.0 (`COMMAND INFO <name>` on redis-server): its flags, its categories,
// its key specs.
struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis convention: n exact argc (name included), -n at least n
  std::uint32_t flags = 0;
  // The ACL categories Redis's command JSON names explicitly (its "acl_categories"): the flags
  // imply the rest as in Redis (write -> @write, readonly -> @read, admin -> @admin @dangerous,
  // fast -> @fast, else @slow). AclCategories(spec) is the full set.
  std::uint32_t acl = 0;
  KeyRange keys = {};
  CommandHandler handler = nullptr;  // null for a container that needs a subcommand
  // A container command (CLIENT, CONFIG...): its subcommands, rows of their own (name without
  // the container's; arity counting both). The dispatcher picks one by argv[1]; ACL rules name
  // them "client|kill". A container with a handler runs it when called alone (COMMAND).
  std::span<const CommandSpec> subcommands = {};
};

// The full category set of a command: its explicit ones and those its flags imply.
std::uint32_t AclCategories(const CommandSpec& spec);
// "keyspace", "read", ... for one bit of AclCategory; empty for no category.
std::string_view AclCategoryName(std::uint32_t bit);
// The bit of a category name (case-insensitive, without '@'); 0 when unknown.
std::uint32_t AclCategoryByName(std::string_view name);

// Tables of the command families; a new family is added to CommandTable's constructor too.
std::span<const CommandSpec> StringCommands();            // cmd_string.cc
std::span<const CommandSpec> KeyspaceCommands();          // cmd_keys.cc
std::span<const CommandSpec> HashCommands();              // cmd_hash.cc
std::span<const CommandSpec> SetCommands();               // cmd_set.cc
std::span<const CommandSpec> ListCommands();              // cmd_list.cc
std::span<const CommandSpec> BlockingListCommands();      // cmd_list_blocking.cc
std::span<const CommandSpec> SortedSetCommands();         // cmd_zset.cc
std::span<const CommandSpec> SortedSetRangeCommands();    // cmd_zset_range.cc
std::span<const CommandSpec> SortedSetAlgebraCommands();  // cmd_zset_setops.cc
std::span<const CommandSpec> BlockingSortedSetCommands();  // cmd_zset_blocking.cc
std::span<const CommandSpec> ConnectionCommands();        // cmd_connection.cc
std::span<const CommandSpec> ServerCommands();            // cmd_server.cc
std::span<const CommandSpec> ClusterCommands();           // cmd_cluster.cc
std::span<const CommandSpec> AclCommands();               // cmd_acl.cc
std::span<const CommandSpec> BitmapCommands();            // cmd_bitops.cc
std::span<const CommandSpec> HyperLogLogCommands();       // cmd_hyperloglog.cc

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
