// Lists and sorted sets in cluster mode: where their writes run, and how blocking pops wait.
//
// Primary execution. Every write command of the list and sorted-set families (pushes, pops,
// LMOVE, the blocking pops, ZUNIONSTORE, ...) but those that run as convergent-collection writes
// (ZADD, ZREM, ZPOPMIN, ...: cluster_collections.h) runs on the primary replica of its first
// key: the first node of the key's placement order that the failure detector holds alive. The
// coordinator forwards it there over the bus (a FORWARD frame) unless it is that node; the
// primary runs it as any coordinator would (ClusterExecutor: key lock, read at R, handler,
// write at W) and answers with the reply. Its key lock serializes every pop and push of the key
// and its own copy always holds its last write, so while the primary stays the same no element
// is handed out twice and no concurrent push is lost to last-write-wins. A pop whose keys have
// different primaries (BLPOP a b, LMPOP 2 a b ...) is tried one key at a time, in order, each on
// its own primary (README: cluster mode, blocking pops).
//
// Blocking. A blocking pop that finds nothing waits on the node it came through: its client
// keeps its place in a FIFO queue per key, with its deadline (timeouts and disconnects are
// local). The keys are watched with their replicas first (cluster_key_watches.h), so a push
// that arrives through any node makes the replicas that apply it report the key ready; the
// waiting node then re-runs its waiters on that key oldest first, one at a time on the primary
// (the primary runs the blocking command with blocking denied: a null answer means nothing to
// pop), until one finds nothing. Every kRepollMs each waited-on key is re-run anyway, the safety
// net for a lost notice or a failover.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"
#include "cluster_key_watches.h"
#include "cluster_wait.h"
#include "command.h"
#include "net/uv_handle.h"

namespace dynakv::server {

class Client;
class ClusterExecutor;
class Server;

class ClusterBlocking {
 public:
  static constexpr std::uint64_t kRepollMs = 1000;

  // Every reference must outlive this.
  ClusterBlocking(Server& server, ClusterExecutor& executor, cluster::ClusterNode& node);
  ~ClusterBlocking();
  ClusterBlocking(const ClusterBlocking&) = delete;
  ClusterBlocking& operator=(const ClusterBlocking&) = delete;

  // Whether `spec` runs on its first key's primary: the writes of the list and sorted-set
  // families.
  static bool RunsOnPrimary(const CommandSpec& spec);
  // Runs ctx's command (RunsOnPrimary) for its client, as above; the reply is appended to the
  // client's output once it is known.
  void Run(const CommandContext& ctx, const CommandSpec& spec);

  // A client closed: it waits no more.
  void ClientClosed(std::uint64_t client_id);
  // Blocked with no pop of its in flight: a disconnect may drop it at once.
  bool IsBlocked(std::uint64_t client_id) const;
  // Clients whose first try found nothing (INFO blocked_clients): those still on it are not
  // blocked yet.
  std::size_t blocked_clients() const;
  // Those of them waiting with a timeout (INFO clients_in_timeout_table, as Redis's
  // clients_timeout_table).
  std::size_t timed_clients() const;
  // INFO cluster's lines about the above.
  void AppendInfo(std::string* out) const;
  // A list write this node forwarded to its key's primary another way (cluster_lists.h): counted
  // with the forwards above.
  void CountForwardSent() { ++forwards_sent_; }

 private:
  struct Levels {
    cluster::ConsistencyLevel read;
    cluster::ConsistencyLevel write;
    WriteRecorder record;  // counts the command's writes for its client's WAIT
  };
  // One command run on a primary: the arguments and the key that picks the primary.
  struct Call {
    std::vector<std::string> argv;
    std::string key;
  };
  struct Waiter {
    ClusterBlocking* owner = nullptr;
    std::uint64_t client_id = 0;
    const CommandSpec* spec = nullptr;
    std::vector<std::string> argv;
    std::vector<std::string> keys;  // the keys it pops from, in order
    int protocol = 2;
    Levels levels;
    net::UvHandle<uv_timer_t> timer;
    bool timed = false;      // it has a timeout
    bool busy = false;       // a pop of its is in flight
    bool rewake = false;     // a key of its became ready meanwhile: try again
    bool timed_out = false;  // its deadline passed meanwhile: answer once the pop is back
    // Its first try is over: from then on only an element ends the wait. An error of a re-run
    // (the key became another type, a primary not answering) leaves it waiting, as Redis serves
    // a blocked client only from a key of the type it pops.
    bool tried = false;
  };
  using Done = std::function<void(std::string reply)>;

  // The first live replica of `key` in placement order (this node's id when it has none).
  std::string PrimaryOf(const std::string& key) const;
  // What to run for `argv` (keys: what it pops from, or all of its keys): the command as it is,
  // or, when its keys have different primaries, the command for one key at a time; with `only`,
  // for that key alone.
  std::vector<Call> Plan(const CommandSpec& spec, const std::vector<std::string>& argv,
                         const std::vector<std::string>& keys, const std::string* only) const;
  // Runs the command: a move between keys of different primaries as a pop and a push
  // (RunMove), anything else by its Plan through RunCalls.
  void Execute(const CommandSpec& spec, const std::vector<std::string>& argv,
               const std::vector<std::string>& keys, const std::string* only, int protocol,
               const Levels& levels, Done done);
  // LMOVE & co. whose source and destination have different primaries (and valid arguments:
  // else the command runs whole, to answer its error): *from_head / *to_head say the ends.
  bool SplitsMove(const CommandSpec& spec, const std::vector<std::string>& argv, bool* from_head,
                  bool* to_head) const;
  // Pops one element of `source` on its primary, then pushes it onto `destination` on its own;
  // a push refused (WRONGTYPE, a failed write) puts the element back on `source`, best effort.
  // Answers the element, or a null when `source` held nothing.
  void RunMove(const std::string& source, const std::string& destination, bool from_head,
               bool to_head, int protocol, const Levels& levels, Done done);
  // Runs `calls` one after another until one answers other than null; `done` gets that answer
  // (or the last null).
  void RunCalls(const CommandSpec& spec, std::vector<Call> calls, int protocol,
                const Levels& levels, Done done);
  void RunOnPrimary(const CommandSpec& spec, Call call, int protocol, const Levels& levels,
                    Done done);
  // A FORWARD from a peer: this node is the key's primary (as the peer sees it).
  void ServeForward(std::string_view from, std::string_view payload, Done respond);
  Client& Runner(int protocol);

  void Block(const CommandContext& ctx, const CommandSpec& spec, std::vector<std::string> keys,
             std::uint64_t timeout_ms, const Levels& levels);
  // Tries `waiter`'s pop (only on `key` when set; every key otherwise).
  void Attempt(Waiter& waiter, const std::string* key);
  void OnAttempt(std::uint64_t client_id, const std::string& key, std::string reply);
  // Re-runs the waiters on `key`, oldest first, until one finds nothing.
  void ServeKey(const std::string& key);
  static void OnTimeout(uv_timer_t* timer);
  static void OnTick(uv_timer_t* timer);
  // Answers the waiter's client with `reply` and forgets the waiter.
  void Finish(std::uint64_t client_id, const std::string& reply, bool null_array);
  void Remove(std::uint64_t client_id);
  // Appends `reply` to the client's output and lets it run its next request.
  void Deliver(std::uint64_t client_id, const std::string& reply);

  Server& server_;
  ClusterExecutor& executor_;
  cluster::ClusterNode& node_;
  KeyWatches watches_;
  std::unique_ptr<Client> runners_[2];  // the handler's client on the primary, RESP2 and RESP3
  std::map<std::uint64_t, std::unique_ptr<Waiter>> waiters_;           // by client id
  std::unordered_map<std::string, std::deque<std::uint64_t>> queues_;  // key -> FIFO of ids
  std::set<std::string> serving_;  // keys whose waiter is being re-run now
  std::set<std::string> again_;    // ... and that became ready again meanwhile
  net::UvHandle<uv_timer_t> tick_;
  std::uint64_t forwards_sent_ = 0;    // commands this node sent to their primary
  std::uint64_t forwards_served_ = 0;  // ... and ran as the primary for a peer
  std::uint64_t rerun_pops_ = 0;       // pops of blocked clients re-run after a wake-up
  // Replies of calls in flight hold it weakly: they do nothing once this is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::server
