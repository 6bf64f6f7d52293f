// RAII ownership of a libuv handle (timers, signals, checks, sockets), for the cluster bus and
// the server alike.
//
// libuv may touch a handle after uv_close() until its close callback runs, so the handle's memory
// passes to that callback, which frees it: the owning object can be destroyed at any time. The
// loop must run once more for the memory to go.
//
// Close() may carry a token, any shared_ptr, that lives until the memory is freed. Stop hands
// every handle the same CloseBarrier, whose destructor runs once the last handle is gone: that is
// how it learns all close callbacks have run without counting them by hand.
//
// After Close() the handle's `data` field belongs to this class; owners must not read it from
// request callbacks (write, connect), which find their owner through the request instead.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <utility>

namespace dynakv::net {

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { Close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // `init` is the handle's uv_*_init call, e.g.
  //   timer.Init([&](uv_timer_t* t) { return uv_timer_init(loop, t); }, this);
  // On failure libuv has not registered the handle, so it is simply dropped.
  template <typename InitFn>
  int Init(InitFn init, void* data) {
    Close();
    auto box = std::make_unique<Box>();
    const int rc = init(&box->handle);
    if (rc != 0) return rc;
    box->handle.data = data;
    box_ = std::move(box);
    return 0;
  }

  T* get() const { return box_ ? &box_->handle : nullptr; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(get()); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(get()); }
  explicit operator bool() const { return box_ != nullptr; }

  // Stops the handle for good: none of its callbacks runs after this returns (requests on it
  // still complete, with UV_ECANCELED). `token` is released when the memory is freed.
  void Close(std::shared_ptr<void> token = nullptr) {
    if (!box_) return;
    Box* box = box_.release();
    box->close_token = std::move(token);
    box->handle.data = box;
    uv_close(reinterpret_cast<uv_handle_t*>(&box->handle), [](uv_handle_t* closed) {
      std::unique_ptr<Box> owned(static_cast<Box*>(closed->data));
    });
  }

 private:
  struct Box {
    T handle{};
    std::shared_ptr<void> close_token;
  };
  std::unique_ptr<Box> box_;
};

// Runs `done` when the last shared_ptr to it goes away.
class CloseBarrier {
 public:
  explicit CloseBarrier(std::function<void()> done) : done_(std::move(done)) {}
  ~CloseBarrier() {
    if (done_) done_();
  }
  CloseBarrier(const CloseBarrier&) = delete;
  CloseBarrier& operator=(const CloseBarrier&) = delete;

 private:
  std::function<void()> done_;
};

}  // namespace dynakv::net
