// The listening sockets of one port on every address of `bind` (Redis's bindaddr list): opened
// all or none, closed together.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/listener.h"

namespace dynakv::server {

// The addresses of a `bind` value: space separated IPv4 or IPv6 addresses, "*" (every IPv4
// address), "::*" (every IPv6 one); a leading '-' marks one that may be missing on this host.
// "" means Redis's default, "* -::*". At most 16.
std::vector<std::string> BindAddresses(std::string_view bind);
// Whether `bind` is a valid value; *reason (Redis's words where Redis has them) if not.
bool ValidBind(std::string_view bind, std::string* reason);

class ListenerSet {
 public:
  explicit ListenerSet(uv_loop_t* loop) : loop_(loop) {}
  ListenerSet(const ListenerSet&) = delete;
  ListenerSet& operator=(const ListenerSet&) = delete;

  // Listens on `port` at every address of `bind` (a '-' address this host lacks is skipped, as
  // Redis does). On failure closes what it opened, sets *error as Redis logs it ("Could not
  // create server TCP listening socket 127.0.0.1:6379: bind: address in use"; `kind` is "TCP"
  // or "TLS") and returns the libuv error.
  int Listen(std::string_view bind, int port, int backlog,
             const net::Listener::Callbacks& callbacks, const char* kind, std::string* error);
  void Close();
  // The port bound (the first socket's: they share it unless `port` was 0).
  int port() const { return listeners_.empty() ? 0 : listeners_.front()->port(); }
  void AcceptNow() {
    for (auto& listener : listeners_) listener->AcceptNow();
  }

 private:
  uv_loop_t* const loop_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
};

}  // namespace dynakv::server
