#include "cluster_transaction.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "client.h"
#include "cluster_executor.h"
#include "cluster_scripts.h"
#include "command_call.h"
#include "cross_slot.h"
#include "server.h"
#include "snapshot_keyspace.h"
#include "transaction.h"
#include "watched_keys.h"

namespace dynakv::server {
namespace {

std::vector<std::string> ToStrings(std::span<const std::string_view> views) {
  return {views.begin(), views.end()};
}

// Whether a watched key still holds what WATCH saw of it.
bool Unchanged(const Transaction::ClusterWatch& watch, AtomicView& view) {
  const auto it = std::find(view.keys.begin(), view.keys.end(), watch.key);
  if (it == view.keys.end()) return false;
  const cluster::SiblingSet& set = view.sets[static_cast<std::size_t>(it - view.keys.begin())];
  return set.ContextToken() == watch.context && view.snapshot.Exists(watch.key) == watch.live;
}

}  // namespace

std::string QueueRefusalInCluster(const CommandSpec& spec,
                                  const std::vector<std::string_view>& argv,
                                  bool has_request_levels) {
  // A script inside MULTI runs inline against EXEC's snapshot (its KEYS are read with the
  // transaction's); VGET and VSET talk to the replicas themselves and cannot.
  if ((spec.flags & kCmdOwnReplication) && !IsScriptCommand(spec)) {
    return "ERR '" + std::string(spec.name) +
           "' inside MULTI is not supported in cluster mode (see README)";
  }
  if (has_request_levels) {
    return "ERR R/W options are not allowed inside MULTI in cluster mode: EXEC runs at the "
           "connection's CONSISTENCY levels";
  }
  if (HasKeys(spec) && !SameHashTag(CommandKeys(spec, argv))) return std::string(kErrCrossSlot);
  return {};
}

void WatchInCluster(CommandContext& ctx, ClusterExecutor& cluster) {
  std::vector<std::string> keys;
  AddDistinct(&keys, ToStrings(std::span(ctx.argv).subspan(1)));
  if (!SameHashTag(keys)) return ctx.reply.Error(kErrCrossSlot);
  cluster.RunAtomic(ctx.client, std::move(keys), [](AtomicView& view) {
    std::vector<Transaction::ClusterWatch>& watched = view.client.transaction().cluster_watched();
    for (std::size_t i = 0; i < view.keys.size(); ++i) {
      const std::string& key = view.keys[i];
      // Watching a key again keeps the first look, as Redis keeps its first WATCH.
      if (std::any_of(watched.begin(), watched.end(),
                      [&](const Transaction::ClusterWatch& w) { return w.key == key; })) {
        continue;
      }
      watched.push_back({key, view.sets[i].ContextToken(), view.snapshot.Exists(key)});
    }
    view.reply.Ok();
  });
}

void ExecInCluster(CommandContext& ctx, ClusterExecutor& cluster) {
  Client& client = ctx.client;
  Transaction& tx = client.transaction();
  auto queued = std::make_shared<const std::vector<Transaction::Queued>>(tx.TakeQueued());
  auto watched = std::make_shared<const std::vector<Transaction::ClusterWatch>>(
      std::move(tx.cluster_watched()));
  ctx.server.watched_keys().UnwatchAll(client);  // the transaction ends whatever follows
  std::vector<std::string> keys;
  for (const Transaction::Queued& q : *queued) {
    if (!HasKeys(*q.cmd.spec)) continue;
    const std::vector<std::string_view> argv(q.argv.begin(), q.argv.end());
    AddDistinct(&keys, CommandKeys(*q.cmd.spec, argv));
  }
  for (const Transaction::ClusterWatch& watch : *watched) AddDistinct(&keys, {watch.key});
  // Each command's keys share a tag (checked as it was queued); the queue as a whole and the
  // watched keys must too, as Redis Cluster checks EXEC's queue.
  if (!SameHashTag(keys)) return ctx.reply.Error(kErrCrossSlot);
  Server& server = ctx.server;
  cluster.RunAtomic(
      client, std::move(keys),
      [&server, queued, watched](AtomicView& view) {
        for (const Transaction::ClusterWatch& watch : *watched) {
          if (!Unchanged(watch, view)) return view.reply.NullArray();
        }
        Client& client = view.client;
        // Blocking commands answer at once, as if timed out, as on a single node.
        const bool denied_before = client.deny_blocking();
        client.set_deny_blocking(true);
        view.reply.ArrayHeader(queued->size());
        std::vector<std::string_view> argv;
        for (const Transaction::Queued& q : *queued) {
          argv.assign(q.argv.begin(), q.argv.end());
          // Permissions may have changed since it was queued: they are checked again.
          const std::string denied =
              CheckCommand(server, client, q.cmd, argv, CallOrigin::kExec, false);
          if (!denied.empty()) {
            view.reply.Error(denied);
            server.NoteErrorReply(denied);
            continue;
          }
          CallCommand(server, client, q.cmd, argv, view.reply, nullptr, &view.snapshot);
        }
        client.set_deny_blocking(denied_before);
      },
      /*may_serial=*/true);
}

}  // namespace dynakv::server
