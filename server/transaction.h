// A client's transaction (MULTI ... EXEC) and the keys it WATCHes, as Redis keeps them in its
// client's mstate and watched_keys: what MULTI queued, whether queuing failed (EXEC then aborts
// with EXECABORT), and whether a watched key changed (EXEC then replies a null array).
// The server-wide side of WATCH, which key is watched by whom, is WatchedKeys (watched_keys.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command_call.h"

namespace dynakv::server {

// A key as WATCH and the "key modified" signal name it: the database it lives in and its name.
// Only database 0 exists for now; the index is kept so databases 0-15 fit without a new format.
struct DbKey {
  int db = 0;
  std::string key;
  bool operator==(const DbKey&) const = default;
};
struct DbKeyHash {
  std::size_t operator()(const DbKey& k) const noexcept {
    return std::hash<std::string_view>{}(k.key) ^ (static_cast<std::size_t>(k.db) * 0x9e3779b9u);
  }
};

class Transaction {
 public:
  struct Queued {
    ResolvedCommand cmd;
    std::vector<std::string> argv;
  };

  bool active() const { return active_; }  // between MULTI and EXEC/DISCARD
  void Begin() { active_ = true; }
  // An error while queuing (Redis's flagTransaction): EXEC will abort with EXECABORT.
  void Flag() {
    if (active_) aborted_ = true;
  }
  bool aborted() const { return aborted_; }
  void Queue(const ResolvedCommand& cmd, const std::vector<std::string_view>& argv);
  const std::vector<Queued>& queued() const { return queued_; }
  // EXEC: the queue, leaving the transaction ended (Clear).
  std::vector<Queued> TakeQueued();
  // The flags of every queued command together (EXEC counts as a write when one of them is).
  std::uint32_t queued_flags() const { return queued_flags_; }
  std::size_t queued_bytes() const { return queued_bytes_; }  // CLIENT LIST multi-mem
  // Ends the transaction (EXEC, DISCARD, RESET): the queue is dropped. WATCH state is separate.
  void Clear();

  // --- WATCH: the keys and whether one of them changed (Redis's CLIENT_DIRTY_CAS) --------------
  std::vector<DbKey>& watched() { return watched_; }
  const std::vector<DbKey>& watched() const { return watched_; }
  bool dirty() const { return dirty_; }
  void set_dirty(bool dirty) { dirty_ = dirty; }

  // --- WATCH in cluster mode: no server-wide signal sees writes made through other nodes, so
  // each key's state as read from its replicas is kept, and EXEC compares it with a new read.
  struct ClusterWatch {
    std::string key;
    std::string context;  // the sibling set's context token: any write since changes it
    bool live = false;    // a live value was there (an expiry since then is a change)
  };
  std::vector<ClusterWatch>& cluster_watched() { return cluster_watched_; }

 private:
  bool active_ = false;
  bool aborted_ = false;
  std::vector<Queued> queued_;
  std::uint32_t queued_flags_ = 0;
  std::size_t queued_bytes_ = 0;
  std::vector<DbKey> watched_;
  bool dirty_ = false;
  std::vector<ClusterWatch> cluster_watched_;
};

}  // namespace dynakv::server
