#include "tracking.h"

#include <algorithm>

#include "client.h"
#include "server.h"

namespace dynakv::server {

namespace {

constexpr std::string_view kInvalidateBulk = "$10\r\ninvalidate\r\n";
constexpr std::string_view kChannel = "__redis__:invalidate";

}  // namespace

std::uint64_t Tracking::ClientId(const Client& client) { return client.id(); }

void Tracking::Enable(const Client& client, const Options& options) {
  Options& state = clients_[client.id()];
  // Turning it on again adds prefixes and keeps the mode (the caller refused a mode switch).
  std::vector<std::string> prefixes = std::move(state.prefixes);
  for (const std::string& prefix : options.prefixes) {
    if (std::find(prefixes.begin(), prefixes.end(), prefix) == prefixes.end()) {
      prefixes.push_back(prefix);
    }
  }
  state = options;
  state.prefixes = std::move(prefixes);
  if (state.bcast && state.prefixes.empty()) state.prefixes.emplace_back();  // every key
}

std::size_t Tracking::items() const {
  std::size_t n = 0;
  for (const auto& entry : table_) n += entry.second.size();
  return n;
}

std::size_t Tracking::prefixes() const {
  std::unordered_set<std::string_view> distinct;
  for (const auto& [id, options] : clients_) {
    for (const std::string& prefix : options.prefixes) distinct.insert(prefix);
  }
  return distinct.size();
}

std::string Tracking::PrefixCollision(const Client& client,
                                      const std::vector<std::string>& prefixes) const {
  // One is a prefix of the other (Redis's stringCheckPrefix).
  auto overlap = [](std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    return a.substr(0, n) == b.substr(0, n);
  };
  std::vector<std::string> existing;
  if (const Options* options = Of(client)) existing = options->prefixes;
  std::sort(existing.begin(), existing.end());  // Redis walks its radix tree in order
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    for (const std::string& old : existing) {
      if (overlap(old, prefixes[i])) {
        return "ERR Prefix '" + prefixes[i] + "' overlaps with an existing prefix '" + old +
               "'. Prefixes for a single client must not overlap.";
      }
    }
    for (std::size_t j = i + 1; j < prefixes.size(); ++j) {
      if (overlap(prefixes[i], prefixes[j])) {
        return "ERR Prefix '" + prefixes[i] + "' overlaps with another provided prefix '" +
               prefixes[j] + "'. Prefixes for a single client must not overlap.";
      }
    }
  }
  return {};
}

void Tracking::Disable(const Client& client) {
  clients_.erase(client.id());
  caching_.erase(client.id());
  // Its remembered keys stay in the table until they change, as in Redis (lazily forgotten).
}

const Tracking::Options* Tracking::Of(const Client& client) const {
  auto it = clients_.find(client.id());
  return it == clients_.end() ? nullptr : &it->second;
}

void Tracking::RememberKeys(const Client& client, const std::vector<std::string_view>& keys) {
  auto it = clients_.find(client.id());
  if (it == clients_.end() || it->second.bcast) return;
  const Options& options = it->second;
  const bool caching = caching_.count(client.id()) != 0;
  // OPTIN remembers only after CACHING yes; OPTOUT all but after CACHING no.
  if ((options.optin && !caching) || (options.optout && caching)) return;
  for (std::string_view key : keys) table_[std::string(key)].insert(client.id());
  // Over tracking-table-max-keys: forget keys, telling their readers, as Redis's
  // trackingLimitUsedSlots (which picks them at random: here in the table's own order).
  const auto max_keys = static_cast<std::size_t>(server_.config().tracking_table_max_keys);
  while (max_keys != 0 && table_.size() > max_keys) {
    const std::string victim = table_.begin()->first;
    InvalidateKey(victim, false);
  }
}

void Tracking::InvalidateKey(std::string_view key, bool bcast) {
  if (clients_.empty()) return;
  const std::string name(key);
  if (auto it = table_.find(name); it != table_.end()) {
    const std::unordered_set<std::uint64_t> ids = std::move(it->second);
    table_.erase(it);
    for (std::uint64_t id : ids) {
      auto state = clients_.find(id);
      if (state == clients_.end() || state->second.bcast) continue;  // tracking went off
      if (state->second.noloop && id == current_) continue;
      if (id == current_) {
        pending_.push_back(name);  // after its reply
      } else {
        Send(id, &name);
      }
    }
  }
  if (!bcast) return;
  for (const auto& [id, options] : clients_) {
    if (!options.bcast) continue;
    for (const std::string& prefix : options.prefixes) {
      if (key.starts_with(prefix)) {
        bcast_pending_[prefix].emplace(name, current_);  // the first changer stays
      }
    }
  }
}

void Tracking::InvalidateAll() {
  std::vector<std::uint64_t> ids;
  ids.reserve(clients_.size());
  for (const auto& entry : clients_) ids.push_back(entry.first);
  for (std::uint64_t id : ids) {
    if (id == current_) {
      pending_.emplace_back();  // its null follows its reply
    } else {
      Send(id, nullptr);
    }
  }
  table_.clear();
}

void Tracking::FlushBroadcast() {
  auto pending = std::move(bcast_pending_);
  bcast_pending_.clear();
  for (const auto& [prefix, keys] : pending) {
    for (const auto& [id, options] : clients_) {
      if (!options.bcast) continue;
      if (std::find(options.prefixes.begin(), options.prefixes.end(), prefix) ==
          options.prefixes.end()) {
        continue;
      }
      std::vector<std::string> names;
      for (const auto& [key, changer] : keys) {
        if (options.noloop && changer == id) continue;
        names.push_back(key);
      }
      if (!names.empty()) SendKeys(id, &names);
    }
  }
}

void Tracking::EndCommand() {
  const std::uint64_t id = current_;
  current_ = 0;
  std::vector<std::optional<std::string>> keys = std::move(pending_);
  pending_.clear();
  for (const auto& key : keys) Send(id, key ? &*key : nullptr);
}

void Tracking::Send(std::uint64_t id, const std::string* key) {
  if (key == nullptr) {
    SendKeys(id, nullptr);
    return;
  }
  const std::vector<std::string> keys = {*key};
  SendKeys(id, &keys);
}

void Tracking::SendKeys(std::uint64_t id, const std::vector<std::string>* keys) {
  auto state = clients_.find(id);
  if (state == clients_.end()) return;
  Client* client = server_.FindClient(id);
  if (client == nullptr || client->closing()) return;
  Client* target = client;
  bool redirected = false;
  if (state->second.redirect != 0) {
    target = server_.FindClient(state->second.redirect);
    redirected = true;
    if (target == nullptr || target->closing()) {
      state->second.broken_redirect = true;
      // Redis tells a RESP3 client its redirect target went away.
      if (client->protocol() >= 3) {
        std::string tail;
        tail.append(":").append(std::to_string(state->second.redirect)).append("\r\n");
        client->DeliverPush(2, "$21\r\ntracking-redir-broken\r\n", tail);
      }
      return;
    }
  }
  std::string body;
  if (keys == nullptr) {
    // Redis sends the null of the tracking client's protocol, wherever it goes.
    body = client->protocol() >= 3 ? "_\r\n" : "$-1\r\n";
  } else {
    body = "*" + std::to_string(keys->size()) + "\r\n";
    for (const std::string& key : *keys) resp::ReplyWriter(&body).Bulk(key);
  }
  if (target->protocol() >= 3) {
    target->DeliverPush(2, kInvalidateBulk, body);
    return;
  }
  // RESP2: only a redirect target subscribed to __redis__:invalidate hears of it.
  if (!redirected) return;
  const PubSub::Subscriptions* subs = server_.pubsub().Of(*target);
  if (subs == nullptr || subs->channels.count(kChannel) == 0) return;
  std::string tail;
  resp::ReplyWriter(&tail).Bulk(kChannel);
  tail.append(body);
  target->DeliverPush(3, "$7\r\nmessage\r\n", tail);
}

}  // namespace dynakv::server
