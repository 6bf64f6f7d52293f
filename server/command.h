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

struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis convention: n exact argc (name included), -n at least n
  std::uint32_t flags;
  int first_key;          // COMMAND's key positions; 0 when the command takes no keys
  int last_key;           // -1: last argument
  int key_step;
  CommandHandler handler;
};

// Tables of the command families.
std::span<const CommandSpec> StringCommands();      // cmd_string.cc
std::span<const CommandSpec> KeyspaceCommands();    // cmd_keys.cc
std::span<const CommandSpec> ConnectionCommands();  // cmd_connection.cc
std::span<const CommandSpec> ServerCommands();      // cmd_server.cc
std::span<const CommandSpec> ClusterCommands();     // cmd_cluster.cc

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
