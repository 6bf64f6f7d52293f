// WAIT in cluster mode: how many replicas hold the last write of a connection.
//
// Every write the coordinator sends goes to all N replicas of its key and is answered once W of
// them acknowledged it; the coordinator keeps counting the acknowledgements that arrive after
// that (cluster::WriteProgress). This records, per client, the writes of its last command that
// wrote anything (one per key written, one per transaction or script batch, the commit of a
// SERIAL round) and counts as held by a replica what every one of them reached: the least of
// their counts.
//
// Commands that run on another node (list and sorted-set writes on their key's primary, an
// increment on a replica of its key: FORWARD) are counted there (forwarded_writes.h): the
// FORWARD carries a token, its reply says whether the command wrote and how many replicas held
// it then, and a WAIT that needs more asks that node (WRITE_ACKS), which answers at the next
// acknowledgement or when the wait is up; asked again until enough hold it or WAIT's own
// timeout passes (0: forever), and after a failure every kRetryMs.
//
// WAIT numreplicas timeout answers that count at once when it is at least numreplicas, or when
// the client may not block (inside EXEC); otherwise the client blocks without blocking the loop
// (Client::BeginAsyncCommand) until an acknowledgement makes the count enough, or the timeout in
// milliseconds passes (0: forever), and is then answered the count as it stands (Redis's
// replies). A client that has written nothing is answered the replicas its writes would reach
// that this node holds alive (self included, at most N): as Redis counts its connected replicas,
// all of which hold offset 0.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/key_messages.h"
#include "command.h"
#include "forwarded_writes.h"
#include "net/uv_handle.h"

namespace dynakv::server {

class Server;

// One write of a command as WAIT counts it: its progress and, for a write another member made
// (a forwarded command), that member and the token to ask it about.
struct TrackedWrite {
  std::shared_ptr<cluster::WriteProgress> progress;
  std::string node;  // empty: counted here
  std::uint64_t token = 0;
  bool forgotten = false;  // the member no longer knows the token: its count is final
};
// Records the writes of one command as they become known (ClusterWait::Recorder).
using WriteRecorder = std::function<void(TrackedWrite write)>;

// A new WriteProgress recorded by `record` as one of its command's writes; nullptr (nothing
// counted) when `record` is empty.
std::shared_ptr<cluster::WriteProgress> NewTrackedWrite(const WriteRecorder& record);

class ClusterWait {
 public:
  static constexpr std::uint64_t kPollMs = 10000;  // the longest one WRITE_ACKS waits
  static constexpr std::uint64_t kRetryMs = 500;   // after a WRITE_ACKS failed

  // Both must outlive this.
  ClusterWait(Server& server, cluster::ClusterNode& node);
  ~ClusterWait();
  ClusterWait(const ClusterWait&) = delete;
  ClusterWait& operator=(const ClusterWait&) = delete;

  // A command of `client_id` starts: the recorder of its writes. The first write it records
  // becomes the client's last write, replacing the previous command's; writes a command records
  // after a newer command of the client recorded its own are not the last write (ignored).
  WriteRecorder Recorder(std::uint64_t client_id);
  // The recorder of a command member `from` forwarded here with track token `token`.
  WriteRecorder ForwardRecorder(std::string_view from, std::uint64_t token);
  // ServeForward's answer to such a command: `respond` gets its ForwardReply around the reply.
  std::function<void(std::string reply)> AnswerForward(std::string_view from, std::uint64_t token,
                                                       std::function<void(std::string)> respond);
  // Sends `request` to member `node` as ClusterNode::Forward does; with `record` set it carries
  // a new track token, and the writes the command made there are recorded as its command's.
  // `done` gets the command's RESP reply (or the failure).
  void Forward(const std::string& node, cluster::ForwardRequest request, std::uint64_t timeout_ms,
               const WriteRecorder& record,
               std::function<void(cluster::ClusterNode::ForwardResult)> done);

  // WAIT's handler past its argument checks.
  void Wait(CommandContext& ctx, long long numreplicas, std::uint64_t timeout_ms);

  // The replicas holding `client_id`'s last write (see above), as far as this node knows.
  int Acked(std::uint64_t client_id) const;
  // CLIENT UNBLOCK: a client blocked in WAIT is answered now (its count, or the UNBLOCKED error
  // when `error`); false when it is not blocked here.
  bool Unblock(std::uint64_t client_id, bool error);
  bool IsBlocked(std::uint64_t client_id) const { return waiters_.count(client_id) != 0; }
  std::size_t blocked_clients() const { return waiters_.size(); }
  // Those waiting with a timeout (INFO clients_in_timeout_table; Redis's WAIT joins its
  // clients_timeout_table when it has one).
  std::size_t timed_clients() const {
    std::size_t n = 0;
    for (const auto& [id, waiter] : waiters_) n += waiter->deadline_ms != 0 ? 1 : 0;
    return n;
  }
  void ClientClosed(std::uint64_t client_id);

 private:
  struct LastWrite {
    std::uint64_t command = 0;  // the Recorder serial of the command that wrote them
    std::vector<TrackedWrite> writes;
  };
  struct Waiter {
    ClusterWait* owner = nullptr;
    std::uint64_t client_id = 0;
    std::uint64_t generation = 0;  // answers to an earlier WAIT's questions are not its own
    long long numreplicas = 0;
    std::uint64_t deadline_ms = 0;   // uv_now; 0: forever
    std::set<std::uint64_t> asking;  // tokens with a WRITE_ACKS in flight
    net::UvHandle<uv_timer_t> timer;
    net::UvHandle<uv_timer_t> retry;
  };
  void Record(std::uint64_t client_id, std::uint64_t command, TrackedWrite write);
  // An acknowledgement of one of `client_id`'s writes arrived (or a member's count).
  void OnAck(std::uint64_t client_id);
  // Asks the members holding counts of the waiter's client's last write that are not enough.
  void AskMembers(Waiter& waiter);
  void Ask(Waiter& waiter, const TrackedWrite& write);
  static void OnTimeout(uv_timer_t* timer);
  static void OnRetry(uv_timer_t* timer);
  // Answers the blocked client with `reply` (RESP bytes) and lets it run its next request.
  void Finish(std::uint64_t client_id, const std::string& reply);

  Server& server_;
  cluster::ClusterNode& node_;
  ForwardedWrites forwarded_;
  std::map<std::uint64_t, LastWrite> last_writes_;  // by client id
  std::map<std::uint64_t, std::unique_ptr<Waiter>> waiters_;
  std::uint64_t next_command_ = 0;
  std::uint64_t next_generation_ = 0;
  std::uint64_t next_token_;  // random start: a restarted node does not reuse its tokens
  // Acks arriving after this is gone do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::server
