#include "listener_set.h"

#include <arpa/inet.h>

namespace dynakv::server {
namespace {

constexpr std::size_t kMaxBindAddresses = 16;  // Redis's CONFIG_BINDADDR_MAX

// The address a bind entry listens on ("*" and "::*" are Redis's wildcards).
std::string SocketAddress(std::string_view entry) {
  if (entry == "*") return "0.0.0.0";
  if (entry == "::*") return "::";
  return std::string(entry);
}

}  // namespace

std::vector<std::string> BindAddresses(std::string_view bind) {
  std::vector<std::string> addresses;
  std::size_t i = 0;
  while (i < bind.size()) {
    while (i < bind.size() && bind[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < bind.size() && bind[i] != ' ') ++i;
    if (i > start) addresses.emplace_back(bind.substr(start, i - start));
  }
  if (addresses.empty()) addresses = {"*", "-::*"};
  return addresses;
}

bool ValidBind(std::string_view bind, std::string* reason) {
  const std::vector<std::string> addresses = BindAddresses(bind);
  if (addresses.size() > kMaxBindAddresses) {
    *reason = "Too many bind addresses specified.";
    return false;
  }
  for (std::string_view entry : addresses) {
    if (entry.starts_with('-')) entry.remove_prefix(1);
    const std::string address = SocketAddress(entry);
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET, address.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, address.c_str(), buf) != 1) {
      *reason = "Invalid bind address '" + std::string(entry) +
                "': expected IPv4 or IPv6 addresses, '*' or '::*'";
      return false;
    }
  }
  return true;
}

int ListenerSet::Listen(std::string_view bind, int port, int backlog,
                        const net::Listener::Callbacks& callbacks, const char* kind,
                        std::string* error) {
  Close();
  for (std::string_view entry : BindAddresses(bind)) {
    const bool optional = entry.starts_with('-');
    if (optional) entry.remove_prefix(1);
    const std::string address = SocketAddress(entry);
    auto listener = std::make_unique<net::Listener>(loop_);
    const char* step = "bind";
    const int rc = listener->Listen(address, port, backlog, callbacks, &step);
    if (rc == 0) {
      listeners_.push_back(std::move(listener));
      continue;
    }
    // Redis skips an optional address the host lacks (or a protocol it has not).
    if (optional && (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT || rc == UV_EPROTONOSUPPORT)) {
      continue;
    }
    // libuv reports EADDRINUSE from bind or listen depending on the platform; name it as bind.
    if (rc == UV_EADDRINUSE) step = "bind";
    *error = std::string("Could not create server ") + kind + " listening socket " + address + ":" +
             std::to_string(port) + ": " + step + ": " + uv_strerror(rc);
    Close();
    return rc;
  }
  if (listeners_.empty()) {
    *error = std::string("Could not create server ") + kind +
             " listening socket: none of the bind addresses '" + std::string(bind) +
             "' exists on this host";
    return UV_EADDRNOTAVAIL;
  }
  return 0;
}

void ListenerSet::Close() {
  for (auto& listener : listeners_) listener->Close();
  listeners_.clear();
}

}  // namespace dynakv::server
