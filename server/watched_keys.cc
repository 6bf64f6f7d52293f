#include "watched_keys.h"

#include <algorithm>

#include "client.h"

namespace dynakv::server {

void WatchedKeys::Watch(Client& client, int db, std::string_view key) {
  std::vector<DbKey>& mine = client.transaction().watched();
  DbKey id{db, std::string(key)};
  if (std::find(mine.begin(), mine.end(), id) != mine.end()) return;
  by_key_[id].push_back(&client);
  mine.push_back(std::move(id));
}

void WatchedKeys::UnwatchAll(Client& client) {
  std::vector<DbKey>& mine = client.transaction().watched();
  for (const DbKey& id : mine) {
    auto it = by_key_.find(id);
    if (it == by_key_.end()) continue;
    std::erase(it->second, &client);
    if (it->second.empty()) by_key_.erase(it);
  }
  mine.clear();
  client.transaction().cluster_watched().clear();
}

void WatchedKeys::TouchWatched(int db, std::string_view key) {
  probe_.db = db;
  probe_.key.assign(key);
  auto it = by_key_.find(probe_);
  if (it == by_key_.end()) return;
  const std::vector<Client*> clients = it->second;  // UnwatchAll changes the map
  for (Client* client : clients) {
    client->transaction().set_dirty(true);
    UnwatchAll(*client);
  }
}

std::vector<DbKey> WatchedKeys::KeysOf(int db) const {
  std::vector<DbKey> keys;
  for (const auto& [id, clients] : by_key_) {
    if (db == -1 || id.db == db) keys.push_back(id);
  }
  return keys;
}

}  // namespace dynakv::server
