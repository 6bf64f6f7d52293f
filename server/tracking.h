// Client-side caching, as Redis 7.0's tracking.c: a client with CLIENT TRACKING ON hears of a
// change to the keys it read (default mode: the keys are remembered per client) or to every key
// under its prefixes (BCAST), as "invalidate" pushes in RESP3 or, redirected to a RESP2
// connection subscribed to __redis__:invalidate, as messages on that channel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dynakv::server {

class Client;
class Server;

class Tracking {
 public:
  struct Options {
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool noloop = false;
    std::uint64_t redirect = 0;  // 0: none
    std::vector<std::string> prefixes;
    bool broken_redirect = false;  // its redirect target was found gone (TRACKINGINFO)
  };

  explicit Tracking(Server& server) : server_(server) {}
  Tracking(const Tracking&) = delete;
  Tracking& operator=(const Tracking&) = delete;

  // CLIENT TRACKING ON (options checked by the caller) / OFF.
  void Enable(const Client& client, const Options& options);
  void Disable(const Client& client);
  const Options* Of(const Client& client) const;
  // CLIENT CACHING yes|no: the next command's keys are (OPTIN) or are not (OPTOUT) remembered.
  void SetCaching(const Client& client) { caching_.insert(ClientId(client)); }
  bool caching(const Client& client) const { return caching_.count(ClientId(client)) != 0; }
  // Redis's checkPrefixCollisionsOrReply: "" when `prefixes` overlap neither each other nor the
  // client's, else the error.
  std::string PrefixCollision(const Client& client, const std::vector<std::string>& prefixes) const;

  // After a read-only command of `client` (default mode): remembers `keys` as read by it.
  void RememberKeys(const Client& client, const std::vector<std::string_view>& keys);
  // After any command but CLIENT CACHING: the CACHING flag lasts one command (a transaction).
  void CommandDone(const Client& client) { caching_.erase(ClientId(client)); }

  // A key changed (Server::SignalModifiedKey): each client tracking it hears of it once.
  // `bcast` false: only the clients that read it (a key the table forgets to stay under
  // tracking-table-max-keys).
  void InvalidateKey(std::string_view key, bool bcast = true);
  // FLUSHALL/FLUSHDB: every tracking client gets a null invalidation, and the table empties.
  void InvalidateAll();

  // The client running a command: invalidations meant for it wait until its reply is out, and
  // NOLOOP skips it. Set around each command by the dispatcher.
  void BeginCommand(const Client& client) { current_ = ClientId(client); }
  void EndCommand();
  // BCAST: the keys changed since the last call, by prefix, each with the first client that
  // changed it (NOLOOP), go out as one message per prefix and client. Called once per event-loop
  // iteration before the replies are written, as Redis's trackingBroadcastInvalidationMessages
  // in beforeSleep.
  void FlushBroadcast();
  bool broadcast_pending() const { return !bcast_pending_.empty(); }

  std::size_t clients() const { return clients_.size(); }
  // INFO: tracking_total_keys, tracking_total_items, tracking_total_prefixes.
  std::size_t keys() const { return table_.size(); }
  std::size_t items() const;
  std::size_t prefixes() const;

 private:
  static std::uint64_t ClientId(const Client& client);
  // Sends one invalidation (`key` nullptr: the null of a flush) to the tracking client `id`.
  void Send(std::uint64_t id, const std::string* key);
  // Sends one invalidation of `keys` (nullptr: the null of a flush) to the client `id`.
  void SendKeys(std::uint64_t id, const std::vector<std::string>* keys);

  Server& server_;
  std::unordered_map<std::uint64_t, Options> clients_;
  std::unordered_set<std::uint64_t> caching_;
  std::unordered_map<std::string, std::unordered_set<std::uint64_t>> table_;
  std::uint64_t current_ = 0;
  std::map<std::string, std::map<std::string, std::uint64_t>> bcast_pending_;
  std::vector<std::optional<std::string>> pending_;  // for current_, after its reply
};

}  // namespace dynakv::server
