// The acceptor side of per-key Paxos (cluster/paxos.h): each replica's promises and accepted
// proposals, kept in a storage engine of their own (<data dir>/paxos, its own commit log) so
// they can never be mistaken for user data: KEYS, SCAN, anti-entropy and range streaming only
// ever see the replica's data engine. Every answer is given after the state change it reports
// is in the log (FlushLog per the fsync policy, as a replica's write acks).
//
// Bounded: per key (a tag's keys share one) two ballots and one proposal: the one in progress
// or, once committed, the most recent commit (its sets also went to the data as ordinary
// versions), kept so that a later round re-sends it to replicas that missed the commit
// (Cassandra's most_recent_commit). The state expires `state_ttl_ms` after the key's last round
// (Cassandra's paxos table TTL); a proposal accepted and never committed stays until a later
// round on the key completes or supersedes it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/paxos.h"
#include "storage/options.h"
#include "storage/status.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

class PaxosAcceptor {
 public:
  // Opens (creating) the store in `dir`, whose parent must exist; an empty dir keeps the state
  // in memory (tests; a restart forgets every promise).
  static storage::Status Open(const std::string& dir, storage::FsyncPolicy fsync,
                              std::function<std::int64_t()> clock_ms, std::int64_t state_ttl_ms,
                              std::unique_ptr<PaxosAcceptor>* acceptor);
  PaxosAcceptor(std::unique_ptr<storage::Engine> engine, std::function<std::int64_t()> clock_ms,
                std::int64_t state_ttl_ms);
  ~PaxosAcceptor();
  PaxosAcceptor(const PaxosAcceptor&) = delete;
  PaxosAcceptor& operator=(const PaxosAcceptor&) = delete;

  // Fills every field of *promise but `current` (the caller's read of the key).
  storage::Status Prepare(std::string_view key, const paxos::Ballot& ballot,
                          paxos::Promise* promise);
  storage::Status Propose(std::string_view key, const paxos::Proposal& proposal,
                          paxos::AcceptReply* reply);
  // After the caller merged the proposal's set into its replica (a value first, then the
  // ballot: a crash in between leaves the proposal accepted, and the next round re-commits it).
  storage::Status Commit(std::string_view key, const paxos::Proposal& proposal);

  paxos::AcceptorState Load(std::string_view key);
  std::uint64_t size() const;  // keys with state
  void SetFsyncPolicy(storage::FsyncPolicy policy);
  void Tick();  // the engine's periodic work (expiry of old state)

 private:
  storage::Status Store(std::string_view key, const paxos::AcceptorState& state);

  std::unique_ptr<storage::Engine> engine_;  // null: memory_ instead
  std::map<std::string, std::string, std::less<>> memory_;
  std::function<std::int64_t()> clock_ms_;
  std::int64_t state_ttl_ms_;
};

}  // namespace dynakv::cluster
