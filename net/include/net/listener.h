// A listening TCP socket that hands each accepted descriptor to its owner (who wraps it in a
// net::Connection, plain or TLS).
//
// Why not uv_listen: once the process is out of file descriptors, libuv accepts the pending
// connections on a spare descriptor and closes them without a word (its EMFILE trick), so a
// client is dropped silently. This listener keeps a spare descriptor of its own for that case and
// uses it to refuse the connection with the owner's refusal (for the server, Redis's "max number
// of clients reached" error) instead.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "net/uv_handle.h"

namespace dynakv::net {

class Listener {
 public:
  struct Callbacks {
    // A new connection's descriptor (non-blocking, close-on-exec); the callee owns it.
    std::function<void(int fd)> accepted;
    // accept() failed with `error` (an errno value). `refused`: for lack of descriptors, and the
    // connection was told so and closed.
    std::function<void(int error, bool refused)> failed;
    // Sent (one non-blocking attempt, plain text) to a connection refused for lack of
    // descriptors; empty: closed without a word.
    std::string refusal;
  };

  explicit Listener(uv_loop_t* loop) : loop_(loop) {}
  ~Listener() { Close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds host:port (SO_REUSEADDR, so a restarted node can bind while old connections linger)
  // and listens. On failure returns a libuv error code, names the step ("bind" or "listen") in
  // *step, and holds nothing.
  int Listen(const std::string& host, int port, int backlog, Callbacks callbacks,
             const char** step);
  int port() const { return port_; }  // the bound port, after Listen
  // Stops accepting and closes the socket; safe to call more than once.
  void Close();
  // Accepts what is pending now, as the loop would when the socket is readable: for a server
  // that cannot return to the loop for a while (a long script) but still answers clients.
  void AcceptNow() {
    if (fd_ >= 0) AcceptPending();
  }

 private:
  static void OnReadable(uv_poll_t* poll, int status, int events);
  void AcceptPending();
  // Out of descriptors: accepts one connection on the spare descriptor and refuses it. False
  // when there was no spare or nothing to accept.
  bool RefuseOne();

  uv_loop_t* const loop_;
  Callbacks callbacks_;
  net::UvHandle<uv_poll_t> poll_;
  int fd_ = -1;
  int spare_fd_ = -1;
  int port_ = 0;
};

}  // namespace dynakv::net
