#include "pubsub.h"

#include <algorithm>

#include "client.h"
#include "glob.h"

namespace dynakv::server {
namespace {

constexpr std::string_view kMessageBulk = "$7\r\nmessage\r\n";
constexpr std::string_view kShardMessageBulk = "$8\r\nsmessage\r\n";
constexpr std::string_view kPatternMessageBulk = "$8\r\npmessage\r\n";

}  // namespace

void PubSub::RemoveFrom(ClientList* list, Client* client) {
  auto it = std::find(list->begin(), list->end(), client);
  if (it != list->end()) list->erase(it);
}

void PubSub::DropIfEmpty(const Client& client) {
  auto it = clients_.find(&client);
  if (it == clients_.end()) return;
  const Subscriptions& subs = it->second;
  if (subs.channels.empty() && subs.shard_channels.empty() && subs.patterns.empty()) {
    clients_.erase(it);
  }
}

bool PubSub::Subscribe(Client& client, std::string_view channel, Kind kind) {
  Subscriptions& subs = clients_[&client];
  auto& mine = kind == Kind::kGlobal ? subs.channels : subs.shard_channels;
  if (!mine.emplace(channel).second) return false;
  ChannelMap& map = Channels(kind);
  auto entry = map.find(channel);
  if (entry == map.end()) entry = map.emplace(std::string(channel), ClientList{}).first;
  entry->second.push_back(&client);
  return true;
}

bool PubSub::Unsubscribe(Client& client, std::string_view channel, Kind kind) {
  auto it = clients_.find(&client);
  if (it == clients_.end()) return false;
  auto& mine = kind == Kind::kGlobal ? it->second.channels : it->second.shard_channels;
  auto found = mine.find(channel);
  if (found == mine.end()) return false;
  mine.erase(found);
  ChannelMap& map = Channels(kind);
  auto entry = map.find(channel);
  if (entry != map.end()) {
    RemoveFrom(&entry->second, &client);
    // An empty entry goes, so clients cannot grow the table by churning channel names.
    if (entry->second.empty()) map.erase(entry);
  }
  DropIfEmpty(client);
  return true;
}

bool PubSub::SubscribePattern(Client& client, std::string_view pattern) {
  Subscriptions& subs = clients_[&client];
  if (std::find(subs.patterns.begin(), subs.patterns.end(), pattern) != subs.patterns.end()) {
    return false;
  }
  subs.patterns.emplace_back(pattern);
  auto entry = std::find_if(patterns_.begin(), patterns_.end(),
                            [&](const auto& p) { return p.first == pattern; });
  if (entry == patterns_.end()) {
    patterns_.emplace_back(std::string(pattern), ClientList{});
    entry = patterns_.end() - 1;
  }
  entry->second.push_back(&client);
  return true;
}

bool PubSub::UnsubscribePattern(Client& client, std::string_view pattern) {
  auto it = clients_.find(&client);
  if (it == clients_.end()) return false;
  auto& mine = it->second.patterns;
  auto found = std::find(mine.begin(), mine.end(), pattern);
  if (found == mine.end()) return false;
  mine.erase(found);
  auto entry = std::find_if(patterns_.begin(), patterns_.end(),
                            [&](const auto& p) { return p.first == pattern; });
  if (entry != patterns_.end()) {
    RemoveFrom(&entry->second, &client);
    if (entry->second.empty()) patterns_.erase(entry);
  }
  DropIfEmpty(client);
  return true;
}

void PubSub::RemoveClient(Client& client) {
  auto it = clients_.find(&client);
  if (it == clients_.end()) return;
  // Copies: each call below edits the sets being walked.
  const Subscriptions subs = it->second;
  for (const std::string& channel : subs.channels) Unsubscribe(client, channel, Kind::kGlobal);
  for (const std::string& channel : subs.shard_channels) {
    Unsubscribe(client, channel, Kind::kShard);
  }
  for (const std::string& pattern : subs.patterns) UnsubscribePattern(client, pattern);
}

const PubSub::Subscriptions* PubSub::Of(const Client& client) const {
  auto it = clients_.find(&client);
  return it == clients_.end() ? nullptr : &it->second;
}

std::size_t PubSub::SubscriptionCount(const Client& client) const {
  const Subscriptions* subs = Of(client);
  return subs == nullptr ? 0 : subs->channels.size() + subs->patterns.size();
}

std::size_t PubSub::ShardSubscriptionCount(const Client& client) const {
  const Subscriptions* subs = Of(client);
  return subs == nullptr ? 0 : subs->shard_channels.size();
}

std::size_t PubSub::Publish(std::string_view channel, std::string_view message, Kind kind) {
  std::size_t receivers = 0;
  // The channel and message bulks, shared by every delivery of this publish.
  std::string& tail = scratch_;
  tail.clear();
  resp::ReplyWriter(&tail).Bulk(channel);
  resp::ReplyWriter(&tail).Bulk(message);
  const ChannelMap& map = Channels(kind);
  if (auto entry = map.find(channel); entry != map.end()) {
    const std::string_view head = kind == Kind::kGlobal ? kMessageBulk : kShardMessageBulk;
    for (Client* client : entry->second) {
      client->DeliverPush(3, head, tail);
      ++receivers;
    }
  }
  if (kind == Kind::kShard) return receivers;  // patterns never match shard channels
  std::string head;
  for (const auto& [pattern, clients] : patterns_) {
    if (!GlobMatch(pattern, channel)) continue;
    head.assign(kPatternMessageBulk);
    resp::ReplyWriter(&head).Bulk(pattern);
    for (Client* client : clients) {
      client->DeliverPush(4, head, tail);
      ++receivers;
    }
  }
  return receivers;
}

namespace {
// NOTICE payload: [u8 kind: 1 channel, 2 shard channel][u32 LE channel length][channel][message]
constexpr std::uint8_t kNoticeGlobal = 1;
constexpr std::uint8_t kNoticeShard = 2;
}  // namespace

std::string PubSub::EncodeNotice(std::string_view channel, std::string_view message, Kind kind) {
  std::string out;
  out.reserve(5 + channel.size() + message.size());
  out.push_back(static_cast<char>(kind == Kind::kGlobal ? kNoticeGlobal : kNoticeShard));
  const auto len = static_cast<std::uint32_t>(channel.size());
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((len >> shift) & 0xff));
  out.append(channel);
  out.append(message);
  return out;
}

bool PubSub::DecodeNotice(std::string_view payload, std::string_view* channel,
                          std::string_view* message, Kind* kind) {
  if (payload.size() < 5) return false;
  const auto tag = static_cast<std::uint8_t>(payload[0]);
  if (tag != kNoticeGlobal && tag != kNoticeShard) return false;
  std::uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= std::uint32_t{static_cast<std::uint8_t>(payload[1 + i])} << (8 * i);
  if (len > payload.size() - 5) return false;
  *kind = tag == kNoticeGlobal ? Kind::kGlobal : Kind::kShard;
  *channel = payload.substr(5, len);
  *message = payload.substr(5 + len);
  return true;
}

std::size_t PubSub::NumSub(std::string_view channel, Kind kind) const {
  const ChannelMap& map = Channels(kind);
  auto entry = map.find(channel);
  return entry == map.end() ? 0 : entry->second.size();
}

std::vector<std::string_view> PubSub::ActiveChannels(const std::string_view* pattern,
                                                     Kind kind) const {
  std::vector<std::string_view> out;
  for (const auto& [channel, clients] : Channels(kind)) {
    if (pattern == nullptr || GlobMatch(*pattern, channel)) out.push_back(channel);
  }
  return out;
}

}  // namespace dynakv::server
