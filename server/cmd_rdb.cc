// Redis RDB files in and out (issue 17): IMPORT-RDB (our own command: loads a Redis RDB file at
// run time, rdb_import.h), and the two halves of Redis's replication handshake that
// `redis-cli --rdb` uses to fetch a snapshot: REPLCONF (accepted, nothing to configure) and
// SYNC / PSYNC, answered with a full resync whose payload is this node's RDB (rdb_save.h), after
// which the connection closes: this node is not a replication master, so no command stream
// follows. SAVE and BGSAVE live with the other persistence commands (cmd_server.cc).
#include <span>
#include <string>

#include "client.h"
#include "command.h"
#include "command_util.h"
#include "rdb_import.h"
#include "rdb_save.h"
#include "server.h"

namespace dynakv::server {

namespace {

// IMPORT-RDB path: starts importing; progress and outcome in INFO persistence (rdb_import_*).
// In cluster mode the keys go to their replicas at the configured write level (rdb_import.h).
void ImportRdbCommand(CommandContext& ctx) {
  std::string error;
  if (!ctx.server.rdb_import().StartInBackground(std::string(ctx.argv[1]), &error)) {
    ctx.reply.Error(error);
    return;
  }
  ctx.reply.Simple("Background RDB import started");
}

void ReplconfCommand(CommandContext& ctx) {
  if (ctx.argv.size() % 2 == 0) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  ctx.reply.Ok();
}

// SYNC, and PSYNC replid offset (always a full resync: there is no backlog to continue from).
void SyncCommand(CommandContext& ctx) {
  std::string rdb;
  std::string error;
  if (!ctx.server.rdb_saver().Build(&rdb, &error)) {
    ctx.reply.Error("ERR " + error);
    return;
  }
  ServerStats& stats = ctx.server.stats();
  if (EqualsIgnoreCase(ctx.argv[0], "psync")) {
    // A PSYNC asking to continue a stream (not "?") is refused as Redis refuses one it has no
    // backlog for: sync_partial_err, then the full resync.
    if (ctx.argv[1] != "?") ++stats.sync_partial_err;
    ctx.reply.Simple("FULLRESYNC " + ctx.server.run_id() + " 0");
  }
  ++stats.sync_full;
  stats.total_net_repl_output_bytes += rdb.size();
  // "$<len>\r\n<bytes>": the trailing CRLF Bulk adds is never read, the connection closes.
  ctx.reply.Bulk(rdb);
  ctx.client.CloseAfterReply();
}

// clang-format off
constexpr CommandSpec kRdbCommands[] = {
    {.name = "import-rdb", .arity = 2,
     .flags = kCmdAdmin | kCmdNoScript | kCmdNoMulti | kCmdNoAsyncLoading,
     .handler = ImportRdbCommand},
    {.name = "replconf", .arity = -1,
     .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale | kCmdAllowBusy,
     .handler = ReplconfCommand},
    {.name = "sync", .arity = 1,
     .flags = kCmdAdmin | kCmdNoScript | kCmdNoAsyncLoading | kCmdNoMulti, .handler = SyncCommand},
    {.name = "psync", .arity = -3,
     .flags = kCmdAdmin | kCmdNoScript | kCmdNoAsyncLoading | kCmdNoMulti, .handler = SyncCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> RdbCommands() { return kRdbCommands; }

}  // namespace dynakv::server
