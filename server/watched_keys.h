// WATCH's server-wide side (Redis's db->watched_keys): which clients watch which key. Told by the
// server's "key modified" signal (Server::SignalModifiedKey) of every change, it marks the
// clients watching the key dirty, so their EXEC fails. Each client's own list of keys and its
// dirty mark live in its Transaction (transaction.h).
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

#include "transaction.h"

namespace dynakv::server {

class Client;

class WatchedKeys {
 public:
  // WATCH `key` of `db` for `client` (a key it watches already is not added twice).
  void Watch(Client& client, int db, std::string_view key);
  // UNWATCH, EXEC, DISCARD, RESET and a closed connection: `client` watches nothing now.
  void UnwatchAll(Client& client);
  // A key changed: every client watching it is marked dirty (and stops watching: nothing it
  // watches can make it less dirty, as Redis's touchWatchedKey does).
  void Touch(int db, std::string_view key) {
    if (!by_key_.empty()) TouchWatched(db, key);
  }
  // The keys of `db` (every db when -1) that are watched, for a flush to test which exist.
  std::vector<DbKey> KeysOf(int db) const;
  bool empty() const { return by_key_.empty(); }
  std::size_t size() const { return by_key_.size(); }

 private:
  void TouchWatched(int db, std::string_view key);

  std::unordered_map<DbKey, std::vector<Client*>, DbKeyHash> by_key_;
  DbKey probe_;  // reused by TouchWatched so a lookup does not allocate
};

}  // namespace dynakv::server
