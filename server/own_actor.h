// This node's actor in cluster mode: the name its own counter increments (cluster_counters.h)
// and collection elements (cluster_collections.h) are written under, the node id plus the
// incarnation of its data directory, kept in <dir>/incarnation so that a restart counts on where
// the process left off.
//
// The actor numbers its next dot (its next counter total) from this node's own copy of the key,
// so counting on is safe only while that copy holds every write of the actor that another
// replica may hold. A replica that has seen a dot takes a second, different write under the same
// dot as one it has already seen (removed, or absorbed by a total at least as large): that write
// is lost everywhere, after being acknowledged. So:
//   - Store puts a write of the actor in this node's copy AND in its commit log file before the
//     write goes anywhere (another replica, a reply);
//   - when that log write fails (a full disk), the copy in memory keeps the write (the engine
//     applies a write before it logs it and cannot take it back; the record stays buffered and is
//     retried). Reads, read repair and anti-entropy may hand it to the other replicas meanwhile,
//     and a kill -9 before the retry succeeds loses it here. Store therefore removes the
//     incarnation file at once, before anything can read the copy (an unlink needs no free
//     space): a process restarted before the record reached the file starts as a new actor,
//     whose dots no replica has seen. Once the log holds the record the file is written back;
//   - a stored copy that could not be read (a damaged block, undecodable bytes) may have held the
//     actor's latest writes too: RenewAfterLostCopies moves to a new incarnation at once.
//   - a machine restart (power loss, kernel crash) may lose log writes not yet fsynced whose dots
//     other replicas already hold: the file records the boot it was written under, and a start
//     under another boot is a new incarnation.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/cluster_node.h"

namespace dynakv::server {

class Server;

class OwnActor {
 public:
  // `dir`: the data directory. Every reference must outlive this.
  OwnActor(Server& server, cluster::ClusterNode& node, std::string dir);

  // "<node id>/<incarnation>".
  const std::string& actor() const { return actor_; }

  // Merges `set` (a write carrying new dots or totals of actor()) into this node's copy of `key`
  // and writes the commit log. "" when both succeeded; otherwise the client's error (RESP error
  // text without the '-'), and the write must go nowhere.
  std::string Store(std::string_view key, const cluster::SiblingSet& set);

  // A new incarnation when a stored copy could not be read since the last call
  // (ClusterStats::undecodable_values moved). Call before writing over an empty copy.
  void RenewAfterLostCopies();

 private:
  // A write of the actor is in the copy up to log position `log_end` but not in the log file.
  void Unlogged(std::uint64_t log_end);
  // Writes the incarnation file back (when removed) once the log holds every write Unlogged was
  // told of; at most once a second while it cannot.
  void KeepIfLogged();
  std::string path() const { return dir_ + "/incarnation"; }

  Server& server_;
  cluster::ClusterNode& node_;
  const std::string dir_;
  const std::string boot_id_;           // CurrentBootId() at start
  std::string id_;                      // the incarnation
  std::string actor_;                   // node id + "/" + id_
  std::uint64_t undecodable_seen_ = 0;  // ClusterStats::undecodable_values when last checked
  std::uint64_t unlogged_end_ = 0;      // log end the write-back waits for (0: none)
  bool file_removed_ = false;           // the incarnation file is gone until written back
  bool write_back_failed_ = false;      // said so in the log once
  std::chrono::steady_clock::time_point next_write_back_;
};

// The incarnation id of the data directory `dir`: read from <dir>/incarnation ("<id>\n<boot
// id>\n"), created there (random, written atomically) when missing, when `renew`, or when the file
// was written under another boot of the machine than `boot_id` (a reboot may have lost log writes
// not yet fsynced whose dots other replicas hold). When it cannot be kept, a fresh random one
// with *warning set: a new actor is always safe, reusing one after a lost write is not. An empty
// `boot_id` (unknown) never renews; a file without a boot line is taken as of this boot.
std::string DataDirIncarnation(const std::string& dir, bool renew, std::string_view boot_id,
                               std::string* warning);

// What <dir>/incarnation holds for `id` written under `boot_id`.
std::string IncarnationFileText(std::string_view id, std::string_view boot_id);

// The running kernel's boot id (/proc/sys/kernel/random/boot_id), "" when unknown.
std::string CurrentBootId();

}  // namespace dynakv::server
