// Commands between numbered databases (Redis's db.c): MOVE and SWAPDB. SELECT is a connection
// command (cmd_connection.cc); FLUSHDB, DBSIZE, COPY ... DB and the rest run in the selected
// database like every key command (cmd_keys.cc). Both are one commit-log record
// (storage::Engine::Move, SwapDb): a crash never leaves half of one. Cluster mode has database 0
// only, and refuses both with Redis Cluster's errors.
#include <cstdint>
#include <span>
#include <string_view>

#include "client.h"
#include "command.h"
#include "command_util.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "list_blocking.h"
#include "notify.h"
#include "number_parse.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {

bool ParseDbIndexOrReply(CommandContext& ctx, std::string_view arg, std::string_view error,
                         long long* db) {
  if (!ParseLongLong(arg, db)) {
    ctx.reply.Error(error.empty() ? kErrNotInteger : error);
    return false;
  }
  if (*db < INT32_MIN || *db > INT32_MAX) {
    ctx.reply.Error(error.empty() ? std::string_view("ERR value is out of range, value must between "
                                                     "-2147483648 and 2147483647")
                                  : error);
    return false;
  }
  return true;
}

namespace {

bool ValidDb(CommandContext& ctx, long long db) {
  return db >= 0 && db < static_cast<long long>(ctx.server.databases());
}

// MOVE key db
void MoveCommand(CommandContext& ctx) {
  if (ctx.server.cluster_node() != nullptr) {
    ctx.reply.Error("ERR MOVE is not allowed in cluster mode");
    return;
  }
  long long db;
  if (!ParseDbIndexOrReply(ctx, ctx.argv[2], {}, &db)) return;
  if (!ValidDb(ctx, db)) {
    ctx.reply.Error("ERR DB index is out of range");
    return;
  }
  const std::uint32_t from = ctx.keyspace.db();
  const auto to = static_cast<std::uint32_t>(db);
  if (from == to) {
    ctx.reply.Error("ERR source and destination objects are the same");
    return;
  }
  bool moved = false;
  if (!WriteOk(ctx, ctx.engine().Move(from, ctx.argv[1], to, &moved))) return;
  if (moved) {
    ctx.server.SignalModifiedKey(static_cast<int>(from), ctx.argv[1]);
    ctx.server.SignalModifiedKey(static_cast<int>(to), ctx.argv[1]);
    // A list or sorted set landing in `to` may serve clients blocked there.
    ctx.server.blocked_lists().SignalReady(to, ctx.argv[1]);
    // Redis's order: dbAdd's "new" in the destination, then move_from and move_to.
    NotifyKeyspaceEvent(ctx.server, kNotifyNew, "new", ctx.argv[1], static_cast<int>(to));
    NotifyKeyspaceEvent(ctx.server, kNotifyGeneric, "move_from", ctx.argv[1],
                        static_cast<int>(from));
    NotifyKeyspaceEvent(ctx.server, kNotifyGeneric, "move_to", ctx.argv[1], static_cast<int>(to));
  }
  ctx.reply.Integer(moved ? 1 : 0);
}

// SWAPDB index1 index2
void SwapDbCommand(CommandContext& ctx) {
  if (ctx.server.cluster_node() != nullptr) {
    ctx.reply.Error("ERR SWAPDB is not allowed in cluster mode");
    return;
  }
  long long a, b;
  if (!ParseDbIndexOrReply(ctx, ctx.argv[1], "ERR invalid first DB index", &a)) return;
  if (!ParseDbIndexOrReply(ctx, ctx.argv[2], "ERR invalid second DB index", &b)) return;
  if (!ValidDb(ctx, a) || !ValidDb(ctx, b)) {
    ctx.reply.Error("ERR DB index is out of range");
    return;
  }
  ctx.server.SignalSwapDb(static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b));
  if (!WriteOk(ctx, ctx.engine().SwapDb(static_cast<std::uint32_t>(a),
                                        static_cast<std::uint32_t>(b)))) {
    return;
  }
  // Clients blocked in either database may find their keys filled now, as Redis re-checks them.
  ctx.server.blocked_lists().SignalDatabase(static_cast<std::uint32_t>(a));
  ctx.server.blocked_lists().SignalDatabase(static_cast<std::uint32_t>(b));
  ctx.reply.Ok();
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them.
// clang-format off
constexpr CommandSpec kDatabaseCommands[] = {
    {.name = "move", .arity = 3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .handler = MoveCommand},
    {.name = "swapdb", .arity = 3, .flags = kCmdWrite | kCmdFast,
     .acl = kAclKeyspace | kAclDangerous, .handler = SwapDbCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> DatabaseCommands() { return kDatabaseCommands; }

}  // namespace dynakv::server
