// Clients blocked in BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP, and in BZPOPMIN, BZPOPMAX and
// BZMPOP (cmd_zset_blocking.cc), which wait on sorted sets the same way. A blocked client never
// blocks the loop: its command returns without a reply and the client stops running requests
// (Client::BeginAsyncCommand) until it is served, times out or disconnects.
//
// Serving follows Redis's ready-keys handling: a push marks its key ready; once the pushing
// command has completed, the dispatcher calls ServeReady, which re-runs the blocked commands
// waiting on each ready key, oldest first (FIFO per key), for as long as the key holds a list.
// A re-run that finds the list emptied by an earlier waiter leaves the client blocked, in its
// place in the queue, with its original deadline. Single-node mode only: in cluster mode the
// client waits in ClusterBlocking (cluster_blocking.h), and Block only answers a null.
//
// A client waits on keys of the database it blocked in (the same name in another database is
// another key): queues and ready keys are by (database, key).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/uv_handle.h"
#include "resp/reply_writer.h"

namespace dynakv::server {

class Server;
class Client;
struct CommandSpec;

class BlockedLists {
 public:
  explicit BlockedLists(Server& server) : server_(server) {}
  ~BlockedLists();
  BlockedLists(const BlockedLists&) = delete;
  BlockedLists& operator=(const BlockedLists&) = delete;

  // Blocks `client` in the command `spec` (`argv` is copied) on `keys` of its selected database
  // for `timeout_ms` (0: forever). On timeout the client gets a null array, as in Redis 7.0
  // whatever the command. A no-op for the client being re-run by ServeReady: it keeps its place
  // and its deadline. A client that may not block (Client::deny_blocking: inside EXEC) gets a null
  // array at once, or a null bulk when `null_bulk` (BLMOVE, BRPOPLPUSH), in `reply` (the
  // command's reply: in cluster mode not the client's output).
  void Block(Client& client, resp::ReplyWriter& reply, const CommandSpec& spec,
             std::span<const std::string_view> argv, std::span<const std::string_view> keys,
             std::uint64_t timeout_ms, bool null_bulk);
  // Called by a command that served the client being re-run: it is no longer blocked.
  void Served(Client& client);
  // A push onto `key` of database `db`: its waiters are re-run after the current command.
  void SignalReady(std::uint32_t db, std::string_view key);
  // Every key waited on in `db` may hold something new (SWAPDB, as Redis's
  // scanDatabaseForReadyKeys).
  void SignalDatabase(std::uint32_t db);
  // Re-runs the waiters of every ready key (the dispatcher calls it after each command).
  void ServeReady();
  bool has_ready() const { return !ready_.empty(); }
  // CLIENT UNBLOCK: ends `client_id`'s wait as a timeout would (a null array), or with
  // `error` when that is set; false when it is not blocked here.
  bool Unblock(std::uint64_t client_id, bool error);
  // A client closed: it waits no more.
  void ClientClosed(std::uint64_t client_id);
  std::size_t blocked_clients() const { return waiters_.size(); }
  // Those waiting with a timeout (Redis's clients_timeout_table).
  std::size_t timed_clients() const {
    std::size_t n = 0;
    for (const auto& [id, waiter] : waiters_) n += waiter->timed ? 1 : 0;
    return n;
  }
  bool IsBlocked(std::uint64_t client_id) const { return waiters_.count(client_id) != 0; }

 private:
  struct Waiter {
    std::uint64_t client_id = 0;
    std::uint32_t db = 0;
    const CommandSpec* spec = nullptr;
    std::vector<std::string> argv;
    std::vector<std::string> keys;
    bool served = false;
    bool timed = false;  // it has a timeout
    net::UvHandle<uv_timer_t> timer;
    BlockedLists* owner = nullptr;
  };

  static void OnTimeout(uv_timer_t* timer);
  void Remove(std::uint64_t client_id);
  // Re-runs `waiter`'s command; true when that served it.
  bool Rerun(Waiter& waiter, Client& client);
  // What `key` holds, as far as waiters care: a list (BLPOP & co.) or a sorted set (BZPOPMIN &
  // co.); each waiter is served only by the type its command pops, as Redis's btype decides.
  enum class Held { kNone, kList, kSortedSet };
  Held HeldBy(std::uint32_t db, std::string_view key);
  // The name of a queue: the database (4 bytes) and the key.
  static std::string QueueKey(std::uint32_t db, std::string_view key);
  static std::uint32_t QueueDb(std::string_view queue_key);
  static Held WaitsFor(const Waiter& waiter);

  Server& server_;
  std::map<std::uint64_t, std::unique_ptr<Waiter>> waiters_;           // by client id
  // QueueKey -> client ids, FIFO
  std::unordered_map<std::string, std::deque<std::uint64_t>> queues_;
  std::deque<std::string> ready_;
  std::set<std::string, std::less<>> ready_set_;
  std::uint64_t rerunning_ = 0;  // the client whose command ServeReady is re-running
  bool serving_ = false;
};

}  // namespace dynakv::server
