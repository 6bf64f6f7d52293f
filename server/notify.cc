#include "notify.h"

#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "pubsub.h"
#include "server.h"

namespace dynakv::server {

void NotifyKeyspaceEvent(Server& server, int type, std::string_view event, std::string_view key,
                         int db) {
  const int flags = server.config().notify_keyspace_events;
  if (!(flags & type)) return;
  PubSub& pubsub = server.pubsub();
  if (pubsub.empty()) return;  // no one listens: no channel names to build
  const std::string prefix = "@" + std::to_string(db) + "__:";
  std::string channel;
  if (flags & kNotifyKeyspace) {
    channel.reserve(11 + prefix.size() + key.size());
    channel.append("__keyspace").append(prefix).append(key);
    pubsub.Publish(channel, event, PubSub::Kind::kGlobal);
  }
  if (flags & kNotifyKeyevent) {
    channel.assign("__keyevent").append(prefix).append(event);
    pubsub.Publish(channel, key, PubSub::Kind::kGlobal);
  }
}

void NotifyIfEmptied(CommandContext& ctx, std::string_view key) {
  if (!(ctx.server.config().notify_keyspace_events & kNotifyGeneric)) return;
  if (!ctx.keyspace.Exists(key)) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
}

void NotifyKeyspaceEvent(CommandContext& ctx, int type, std::string_view event,
                         std::string_view key) {
  NotifyKeyspaceEvent(ctx.server, type, event, key, static_cast<int>(ctx.keyspace.db()));
}

}  // namespace dynakv::server
