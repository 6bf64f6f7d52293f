// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's replies and errors.
// Queuing is the dispatcher's (CommandTable::Dispatch): between MULTI and EXEC a command that
// passes its checks is queued (+QUEUED); one that fails them flags the transaction, and EXEC then
// aborts with EXECABORT. EXEC runs the queue through the one command path (command_call.h) in a
// single atomic group of the engine: one commit-log record, and since the loop runs one command
// at a time, nothing of another client runs in between. In cluster mode EXEC and WATCH run at the
// coordinator over the replicas (cluster_transaction.h).
#include <string>

#include "client.h"
#include "cluster_executor.h"
#include "cluster_transaction.h"
#include "command.h"
#include "command_call.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// Redis's discardTransaction: the queue goes and so do the watched keys.
void EndTransaction(CommandContext& ctx) {
  ctx.client.transaction().Clear();
  ctx.server.watched_keys().UnwatchAll(ctx.client);
  ctx.client.transaction().set_dirty(false);
}

void MultiCommand(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  if (tx.active()) {
    ctx.reply.Error("ERR MULTI calls can not be nested");
    return;
  }
  tx.Begin();
  ctx.reply.Ok();
}

void DiscardCommand(CommandContext& ctx) {
  if (!ctx.client.transaction().active()) {
    ctx.reply.Error("ERR DISCARD without MULTI");
    return;
  }
  EndTransaction(ctx);
  ctx.reply.Ok();
}

void WatchCommand(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  if (tx.active()) {
    ctx.reply.Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  if (ClusterExecutor* cluster = ctx.server.cluster_executor(); cluster != nullptr) {
    return WatchInCluster(ctx, *cluster);
  }
  // Already dirty: nothing more to watch, EXEC fails anyway (as Redis).
  if (!tx.dirty()) {
    for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
      // A key already expired is reaped now (a change before the WATCH, not after it), as
      // Redis 7.0 treats a key expired at WATCH time as not there.
      ctx.keyspace.Exists(ctx.argv[i]);
      ctx.server.watched_keys().Watch(ctx.client, static_cast<int>(ctx.keyspace.db()), ctx.argv[i]);
    }
  }
  ctx.reply.Ok();
}

void UnwatchCommand(CommandContext& ctx) {
  ctx.server.watched_keys().UnwatchAll(ctx.client);
  ctx.client.transaction().set_dirty(false);
  ctx.reply.Ok();
}

void ExecCommand(CommandContext& ctx) {
  Client& client = ctx.client;
  Transaction& tx = client.transaction();
  if (!tx.active()) {
    ctx.reply.Error("ERR EXEC without MULTI");
    return;
  }
  ClusterExecutor* cluster = ctx.server.cluster_executor();
  // A watched key that expired since the WATCH changed it (Redis 7.0's isWatchedKeyExpired):
  // looking it up reaps it, and the reaping signals it.
  if (!tx.dirty() && cluster == nullptr) {
    const std::vector<DbKey> watched = tx.watched();
    for (const DbKey& id : watched) {
      ctx.server.keyspace(static_cast<std::uint32_t>(id.db)).Exists(id.key);
    }
  }
  if (tx.aborted()) {
    EndTransaction(ctx);
    ctx.reply.Error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  if (tx.dirty()) {
    EndTransaction(ctx);
    ctx.reply.NullArray();
    return;
  }
  if (cluster != nullptr) return ExecInCluster(ctx, *cluster);
  ctx.server.watched_keys().UnwatchAll(client);  // nothing it runs can fail it now
  // Blocking commands answer at once, as if timed out (BlockedLists::Block).
  const bool denied_before = client.deny_blocking();
  client.set_deny_blocking(true);
  const std::vector<Transaction::Queued> queued = tx.TakeQueued();
  ctx.reply.ArrayHeader(queued.size());
  bool wrote = false;
  {
    storage::Engine::AtomicGroup group(ctx.engine());
    std::vector<std::string_view> argv;
    for (const Transaction::Queued& q : queued) {
      argv.assign(q.argv.begin(), q.argv.end());
      // Permissions may have changed since it was queued: they are checked again.
      const std::string denied =
          CheckCommand(ctx.server, client, q.cmd, argv, CallOrigin::kExec, false);
      if (!denied.empty()) {
        ctx.reply.Error(denied);
        ctx.server.NoteErrorReply(denied);
        continue;
      }
      CallCommand(ctx.server, client, q.cmd, argv, ctx.reply);
      wrote |= (q.cmd.spec->flags & kCmdWrite) != 0;
    }
  }
  client.set_deny_blocking(denied_before);
  // The group reached the log only now: the replies wait for it.
  if (wrote) client.NoteLogWrite(ctx.engine().LogEnd());
}

// clang-format off
const CommandSpec kTransactionCommands[] = {
    {.name = "multi", .arity = 1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy,
     .acl = kAclTransaction, .handler = MultiCommand},
    {.name = "exec", .arity = 1, .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdSkipSlowlog,
     .acl = kAclTransaction, .handler = ExecCommand},
    {.name = "discard", .arity = 1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy,
     .acl = kAclTransaction, .handler = DiscardCommand},
    {.name = "watch", .arity = -2,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy |
              kCmdOwnReplication,
     .acl = kAclTransaction, .keys = {IndexRange(1, -1, 1, 0, kKeyRO)},
     // Cluster mode: WatchInCluster reads the keys itself, over RunAtomic.
     .handler = WatchCommand},
    {.name = "unwatch", .arity = 1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy,
     .acl = kAclTransaction, .handler = UnwatchCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> TransactionCommands() { return kTransactionCommands; }

}  // namespace dynakv::server
