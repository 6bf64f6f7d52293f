// Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH, their shard forms
// SSUBSCRIBE SUNSUBSCRIBE SPUBLISH (Redis with cluster mode off: a second namespace of channels
// that patterns do not reach) and PUBSUB, with Redis 7.0's replies (pubsub.c).
//
// In cluster mode subscriptions are per node, and a published message goes to every other member
// over the bus (a NOTICE), which delivers it to its own subscribers (README).

#include <span>
#include <string>
#include <vector>

#include "client.h"
#include "cluster/cluster_node.h"
#include "command.h"
#include "command_table.h"
#include "pubsub.h"
#include "server.h"

namespace dynakv::server {
namespace {

using Kind = PubSub::Kind;

// [kind, channel or nil, count]: a push in RESP3, an array in RESP2.
void ReplySubscription(resp::ReplyWriter& r, std::string_view kind, const std::string_view* name,
                       std::size_t count) {
  r.PushHeader(3);
  r.Bulk(kind);
  if (name != nullptr) {
    r.Bulk(*name);
  } else {
    r.Null();
  }
  r.Integer(static_cast<long long>(count));
}

// Redis clears the client's pub/sub flag once it listens to nothing, channels, patterns and
// shard channels together.
void UpdatePubSubMode(CommandContext& ctx) {
  ctx.client.set_pubsub_mode(ctx.server.pubsub().Subscribed(ctx.client));
}

std::size_t CountFor(const PubSub& pubsub, const Client& client, Kind kind) {
  return kind == Kind::kGlobal ? pubsub.SubscriptionCount(client)
                               : pubsub.ShardSubscriptionCount(client);
}

void SubscribeChannels(CommandContext& ctx, Kind kind) {
  PubSub& pubsub = ctx.server.pubsub();
  const std::string_view reply_kind = kind == Kind::kGlobal ? "subscribe" : "ssubscribe";
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    pubsub.Subscribe(ctx.client, ctx.argv[i], kind);
    ReplySubscription(ctx.reply, reply_kind, &ctx.argv[i], CountFor(pubsub, ctx.client, kind));
  }
  ctx.client.set_pubsub_mode(true);
}

void UnsubscribeChannels(CommandContext& ctx, Kind kind) {
  PubSub& pubsub = ctx.server.pubsub();
  const std::string_view reply_kind = kind == Kind::kGlobal ? "unsubscribe" : "sunsubscribe";
  if (ctx.argv.size() > 1) {
    for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
      pubsub.Unsubscribe(ctx.client, ctx.argv[i], kind);
      ReplySubscription(ctx.reply, reply_kind, &ctx.argv[i], CountFor(pubsub, ctx.client, kind));
    }
  } else {
    // Every channel, each reported; with none, one reply naming none.
    std::vector<std::string> channels;
    if (const PubSub::Subscriptions* subs = pubsub.Of(ctx.client)) {
      const auto& set = kind == Kind::kGlobal ? subs->channels : subs->shard_channels;
      channels.assign(set.begin(), set.end());
    }
    for (const std::string& channel : channels) {
      pubsub.Unsubscribe(ctx.client, channel, kind);
      const std::string_view name = channel;
      ReplySubscription(ctx.reply, reply_kind, &name, CountFor(pubsub, ctx.client, kind));
    }
    if (channels.empty()) {
      ReplySubscription(ctx.reply, reply_kind, nullptr, CountFor(pubsub, ctx.client, kind));
    }
  }
  UpdatePubSubMode(ctx);
}

void SubscribeCommand(CommandContext& ctx) { SubscribeChannels(ctx, Kind::kGlobal); }
void SsubscribeCommand(CommandContext& ctx) { SubscribeChannels(ctx, Kind::kShard); }
void UnsubscribeCommand(CommandContext& ctx) { UnsubscribeChannels(ctx, Kind::kGlobal); }
void SunsubscribeCommand(CommandContext& ctx) { UnsubscribeChannels(ctx, Kind::kShard); }

void PsubscribeCommand(CommandContext& ctx) {
  PubSub& pubsub = ctx.server.pubsub();
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    pubsub.SubscribePattern(ctx.client, ctx.argv[i]);
    ReplySubscription(ctx.reply, "psubscribe", &ctx.argv[i], pubsub.SubscriptionCount(ctx.client));
  }
  ctx.client.set_pubsub_mode(true);
}

void PunsubscribeCommand(CommandContext& ctx) {
  PubSub& pubsub = ctx.server.pubsub();
  if (ctx.argv.size() > 1) {
    for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
      pubsub.UnsubscribePattern(ctx.client, ctx.argv[i]);
      ReplySubscription(ctx.reply, "punsubscribe", &ctx.argv[i],
                        pubsub.SubscriptionCount(ctx.client));
    }
  } else {
    std::vector<std::string> patterns;
    if (const PubSub::Subscriptions* subs = pubsub.Of(ctx.client)) patterns = subs->patterns;
    for (const std::string& pattern : patterns) {
      pubsub.UnsubscribePattern(ctx.client, pattern);
      const std::string_view name = pattern;
      ReplySubscription(ctx.reply, "punsubscribe", &name, pubsub.SubscriptionCount(ctx.client));
    }
    if (patterns.empty()) {
      ReplySubscription(ctx.reply, "punsubscribe", nullptr, pubsub.SubscriptionCount(ctx.client));
    }
  }
  UpdatePubSubMode(ctx);
}

// The reply counts this node's receivers, as Redis Cluster's does; in cluster mode the message
// also goes to every other member over the bus, whose subscribers get it too.
void PublishGeneric(CommandContext& ctx, Kind kind) {
  const std::size_t receivers = ctx.server.pubsub().Publish(ctx.argv[1], ctx.argv[2], kind);
  if (cluster::ClusterNode* node = ctx.server.cluster_node()) {
    node->BroadcastNotice(PubSub::EncodeNotice(ctx.argv[1], ctx.argv[2], kind));
  }
  ctx.reply.Integer(static_cast<long long>(receivers));
}

void PublishCommand(CommandContext& ctx) { PublishGeneric(ctx, Kind::kGlobal); }
void SpublishCommand(CommandContext& ctx) { PublishGeneric(ctx, Kind::kShard); }

// ---- PUBSUB ------------------------------------------------------------------------------------

// What Redis's PUBSUB replies when a subcommand gets arguments it does not take.
void ReplySyntaxError(CommandContext& ctx) {
  ctx.reply.Error("ERR unknown subcommand or wrong number of arguments for '" +
                  std::string(ctx.argv[1].substr(0, 128)) + "'. Try PUBSUB HELP.");
}

void ListChannels(CommandContext& ctx, Kind kind) {
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  const std::string_view* pattern = ctx.argv.size() == 3 ? &ctx.argv[2] : nullptr;
  const std::vector<std::string_view> channels = ctx.server.pubsub().ActiveChannels(pattern, kind);
  ctx.reply.ArrayHeader(channels.size());
  for (std::string_view channel : channels) ctx.reply.Bulk(channel);
}

void CountSubscribers(CommandContext& ctx, Kind kind) {
  const PubSub& pubsub = ctx.server.pubsub();
  ctx.reply.ArrayHeader((ctx.argv.size() - 2) * 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    ctx.reply.Bulk(ctx.argv[i]);
    ctx.reply.Integer(static_cast<long long>(pubsub.NumSub(ctx.argv[i], kind)));
  }
}

void PubsubChannels(CommandContext& ctx) { ListChannels(ctx, Kind::kGlobal); }
void PubsubShardChannels(CommandContext& ctx) { ListChannels(ctx, Kind::kShard); }
void PubsubNumSub(CommandContext& ctx) { CountSubscribers(ctx, Kind::kGlobal); }
void PubsubShardNumSub(CommandContext& ctx) { CountSubscribers(ctx, Kind::kShard); }

void PubsubNumPat(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<long long>(ctx.server.pubsub().pattern_count()));
}

void PubsubHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// clang-format off
const CommandSpec kPubsubSubcommands[] = {
    {.name = "channels", .arity = -2, .flags = kCmdPubSub | kCmdLoading | kCmdStale,
     .handler = PubsubChannels},
    {.name = "numsub", .arity = -2, .flags = kCmdPubSub | kCmdLoading | kCmdStale,
     .handler = PubsubNumSub},
    {.name = "numpat", .arity = 2, .flags = kCmdPubSub | kCmdLoading | kCmdStale,
     .handler = PubsubNumPat},
    {.name = "shardchannels", .arity = -2, .flags = kCmdPubSub | kCmdLoading | kCmdStale,
     .handler = PubsubShardChannels},
    {.name = "shardnumsub", .arity = -2, .flags = kCmdPubSub | kCmdLoading | kCmdStale,
     .handler = PubsubShardNumSub},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = PubsubHelp},
};

const CommandSpec kPubSubCommands[] = {
    {.name = "subscribe", .arity = -2, .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext,
     .handler = SubscribeCommand},
    {.name = "unsubscribe", .arity = -1,
     .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext, .handler = UnsubscribeCommand},
    {.name = "psubscribe", .arity = -2,
     .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext, .handler = PsubscribeCommand},
    {.name = "punsubscribe", .arity = -1,
     .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext, .handler = PunsubscribeCommand},
    {.name = "publish", .arity = 3, .flags = kCmdPubSub | kCmdLoading | kCmdStale | kCmdFast,
     .handler = PublishCommand},
    {.name = "ssubscribe", .arity = -2,
     .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext,
     .keys = {IndexRange(1, -1, 1, 0, kKeyNotKey)}, .handler = SsubscribeCommand},
    {.name = "sunsubscribe", .arity = -1,
     .flags = kCmdPubSub | kCmdNoScript | kCmdLoading | kCmdStale | kCmdSubscribedContext,
     .keys = {IndexRange(1, -1, 1, 0, kKeyNotKey)}, .handler = SunsubscribeCommand},
    {.name = "spublish", .arity = 3, .flags = kCmdPubSub | kCmdLoading | kCmdStale | kCmdFast,
     .keys = {KeyAt(1, kKeyNotKey)}, .handler = SpublishCommand},
    {.name = "pubsub", .arity = -2, .subcommands = kPubsubSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> PubSubCommands() { return kPubSubCommands; }

}  // namespace dynakv::server
