// RAII ownership of a libuv handle (timer, signal, check, idle, listening socket).
//
// libuv may touch a handle after uv_close() until the close callback runs, so the handle's memory
// must outlive its owner's call to Close(): ownership passes to the close callback, which frees
// it. The owner can therefore be destroyed at any time; the loop must still run once more for the
// memory to be released (the node runs it until no handles remain).
#pragma once

#include <uv.h>

#include <memory>

namespace dynakv::server {

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { Close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // `init` is the handle's uv_*_init call, e.g.
  //   timer.Init([&](uv_timer_t* t) { return uv_timer_init(loop, t); });
  // On failure libuv has not registered the handle, so it is simply dropped.
  template <typename InitFn>
  int Init(InitFn init, void* data) {
    Close();
    auto handle = std::make_unique<T>();
    const int rc = init(handle.get());
    if (rc != 0) return rc;
    handle->data = data;
    handle_ = std::move(handle);
    return 0;
  }

  T* get() const { return handle_.get(); }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_.get()); }
  explicit operator bool() const { return handle_ != nullptr; }

  // Stops the handle for good; no callback of it runs after this returns.
  void Close() {
    if (!handle_) return;
    T* handle = handle_.release();
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* closed) {
      std::unique_ptr<T> owned(reinterpret_cast<T*>(closed));
    });
  }

 private:
  std::unique_ptr<T> handle_;
};

}  // namespace dynakv::server
