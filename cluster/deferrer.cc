#include "deferrer.h"

#include <utility>

namespace dynakv::cluster {

int Deferrer::Init(uv_loop_t* loop) {
  int rc = check_.Init([&](uv_check_t* c) { return uv_check_init(loop, c); }, this);
  if (rc == 0) rc = uv_check_start(check_.get(), OnCheck);
  // The check alone must not keep the loop alive; the idle handle does while tasks wait.
  if (rc == 0) uv_unref(check_.base());
  if (rc == 0) rc = idle_.Init([&](uv_idle_t* i) { return uv_idle_init(loop, i); }, this);
  if (rc != 0) CloseNow();
  return rc;
}

void Deferrer::Defer(std::function<void()> task) {
  if (!check_) return;
  if (queue_.empty()) uv_idle_start(idle_.get(), [](uv_idle_t*) {});
  queue_.push_back(std::move(task));
}

void Deferrer::RunBeforeOtherChecks() {
  if (!check_) return;
  uv_check_stop(check_.get());
  uv_check_start(check_.get(), OnCheck);
}

void Deferrer::CloseWhenDrained(std::shared_ptr<void> token) {
  closing_ = true;
  close_token_ = std::move(token);
  if (!check_) {
    CloseNow();
    return;
  }
  // Closing waits for the next check even when nothing is queued yet: the caller (Stop) may
  // still start requests in this turn, and their callbacks must run.
  uv_idle_start(idle_.get(), [](uv_idle_t*) {});
}

void Deferrer::OnCheck(uv_check_t* check) { static_cast<Deferrer*>(check->data)->RunQueued(); }

void Deferrer::RunQueued() {
  if (queue_.empty()) {
    if (closing_) {
      CloseNow();
    } else if (idle_) {
      uv_idle_stop(idle_.get());
    }
    return;
  }
  std::vector<std::function<void()>> running;
  running.swap(queue_);
  const std::weak_ptr<bool> alive = alive_;
  for (auto& task : running) {
    task();
    if (alive.expired()) return;
  }
  // The idle handle stays on for one more turn even if nothing is queued: the callbacks may have
  // left work for another check handle that already ran this turn (the server flushes replies in
  // its own), and the loop must not block in poll before that runs.
}

void Deferrer::CloseNow() {
  check_.Close(close_token_);
  idle_.Close(close_token_);
  close_token_.reset();
}

}  // namespace dynakv::cluster
