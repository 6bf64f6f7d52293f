// The node's publish/subscribe registry, as Redis 7.0's pubsub.c: which clients listen on which
// channels, patterns and shard channels, and the delivery of a published message to them.
//
// A client's own subscriptions live here too (not in Client), so a disconnect or RESET drops
// them all through one call. Shard channels behave as in Redis with cluster mode off: a separate
// namespace that patterns never match.
//
// Delivery appends to each subscriber's output buffer directly: the message is encoded once
// per publish (once per matching pattern for pmessage), only the array/push header differing
// between RESP2 and RESP3 subscribers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dynakv::server {

class Client;

class PubSub {
 public:
  enum class Kind { kGlobal, kShard };
  // Looked up by string_view, without building a std::string per publish.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };

  // What one client listens to. Channels are unordered, as in Redis (a dict); patterns keep
  // the order they were subscribed in (Redis 7.0 keeps them in a list), which is the order an
  // unsubscribe-all reports them.
  struct Subscriptions {
    std::unordered_set<std::string, NameHash, std::equal_to<>> channels;
    std::unordered_set<std::string, NameHash, std::equal_to<>> shard_channels;
    std::vector<std::string> patterns;
  };

  PubSub() = default;
  PubSub(const PubSub&) = delete;
  PubSub& operator=(const PubSub&) = delete;

  // Each returns whether the subscription changed (false: already / not subscribed).
  bool Subscribe(Client& client, std::string_view channel, Kind kind);
  bool Unsubscribe(Client& client, std::string_view channel, Kind kind);
  bool SubscribePattern(Client& client, std::string_view pattern);
  bool UnsubscribePattern(Client& client, std::string_view pattern);
  // Drops every subscription of `client` without telling it (disconnect, RESET).
  void RemoveClient(Client& client);

  // nullptr when the client has no subscription at all.
  const Subscriptions* Of(const Client& client) const;
  // Redis's clientSubscriptionsCount (channels + patterns) and clientShardSubscriptionsCount.
  std::size_t SubscriptionCount(const Client& client) const;
  std::size_t ShardSubscriptionCount(const Client& client) const;
  bool Subscribed(const Client& client) const { return Of(client) != nullptr; }

  // Sends `message` to the subscribers of `channel` (and, for kGlobal, of every pattern that
  // matches it); returns how many deliveries were made (Client::DeliverPush). A subscriber
  // that a delivery closes (output limits) stays registered until it is destroyed, as Redis
  // keeps a client it will free asynchronously, so the walk is never disturbed.
  std::size_t Publish(std::string_view channel, std::string_view message, Kind kind);

  // Cluster mode: a published message as the payload of a bus NOTICE to the other members
  // (ClusterNode::BroadcastNotice), each of which publishes it to its own subscribers. Decode
  // fails on a payload it could not have produced (a peer breaking the protocol).
  static std::string EncodeNotice(std::string_view channel, std::string_view message, Kind kind);
  static bool DecodeNotice(std::string_view payload, std::string_view* channel,
                           std::string_view* message, Kind* kind);

  // --- introspection (PUBSUB, INFO) ----------------------------------------------------------
  std::size_t channel_count(Kind kind) const { return Channels(kind).size(); }
  std::size_t pattern_count() const { return patterns_.size(); }
  std::size_t NumSub(std::string_view channel, Kind kind) const;
  // Active channels matching `*pattern` (every one when pattern is nullptr).
  std::vector<std::string_view> ActiveChannels(const std::string_view* pattern, Kind kind) const;
  // Whether anyone could receive a message: lets keyspace notifications skip building channel
  // names nobody listens to.
  bool empty() const { return clients_.empty(); }

 private:
  using ClientList = std::vector<Client*>;
  using ChannelMap = std::unordered_map<std::string, ClientList, NameHash, std::equal_to<>>;
  ChannelMap& Channels(Kind kind) { return kind == Kind::kGlobal ? channels_ : shard_channels_; }
  const ChannelMap& Channels(Kind kind) const {
    return kind == Kind::kGlobal ? channels_ : shard_channels_;
  }
  static void RemoveFrom(ClientList* list, Client* client);
  void DropIfEmpty(const Client& client);

  ChannelMap channels_;
  ChannelMap shard_channels_;
  // Pattern -> its subscribers, in the order patterns were first subscribed (publish walks it).
  std::vector<std::pair<std::string, ClientList>> patterns_;
  std::unordered_map<const Client*, Subscriptions> clients_;
  std::string scratch_;  // the message being delivered, reused
};

}  // namespace dynakv::server
