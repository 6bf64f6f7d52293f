// Runs closures on a later turn of the event loop. Every callback the cluster hands back to its
// user goes through here, so none runs inside the call that started the request, and none runs
// while bus code that invoked the coordinator is still on the stack.
//
// Tasks run in the loop's check phase (right after poll, where replies arrive, so a request
// answered by a peer is completed in the same iteration). While tasks wait, and for one turn
// after they ran, an idle handle keeps poll from blocking: tasks queued outside poll run
// promptly, and work the tasks hand to a check handle that ran earlier in the same turn is
// picked up on the next turn instead of after the next I/O event. (The server's reply flush runs
// after the tasks: RunBeforeOtherChecks.)
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

#include "net/uv_handle.h"

namespace dynakv::cluster {

class Deferrer {
 public:
  Deferrer() = default;
  Deferrer(const Deferrer&) = delete;
  Deferrer& operator=(const Deferrer&) = delete;

  int Init(uv_loop_t* loop);
  // Queues `task`. Tasks queued while tasks run wait for the next iteration, so a callback that
  // starts another request cannot keep one iteration going forever. Dropped once closed.
  void Defer(std::function<void()> task);
  // Makes the tasks run before every check handle started so far. libuv runs check handles
  // most recently started first, so this restarts ours: called once the server has started the
  // check that flushes its replies, it lets a reply completed by a task leave in the same loop
  // iteration instead of the next one.
  void RunBeforeOtherChecks();
  // At the next check, runs what is queued (and what those tasks queue, on later turns) and then
  // closes the handles, each holding `token` until freed.
  void CloseWhenDrained(std::shared_ptr<void> token);

 private:
  static void OnCheck(uv_check_t* check);
  void RunQueued();
  void CloseNow();

  net::UvHandle<uv_check_t> check_;
  net::UvHandle<uv_idle_t> idle_;
  std::vector<std::function<void()>> queue_;
  bool closing_ = false;
  std::shared_ptr<void> close_token_;
  // Tasks may destroy the owner (and this); the loop in RunQueued stops when this expires.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::cluster
