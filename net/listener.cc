#include "net/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace dynakv::net {
namespace {

// Connections accepted per readable event before the loop serves others (Redis's
// MAX_ACCEPTS_PER_CALL).
constexpr int kMaxAcceptsPerCall = 1000;

int OpenSpare() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

int Listener::Listen(const std::string& host, int port, int backlog, Callbacks callbacks,
                     const char** step) {
  Close();
  *step = "bind";
  sockaddr_storage addr{};
  const bool ipv6 = host.find(':') != std::string::npos;
  int rc = ipv6 ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return rc;
  fd_ = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return -errno;
  const int on = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  // "::" means IPv6 only, as in Redis (anetV6Only), so that "0.0.0.0" and "::" can both listen
  // on one port.
  if (ipv6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  const socklen_t len = ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    rc = -errno;
  } else if (*step = "listen"; listen(fd_, backlog) != 0) {
    rc = -errno;
  }
  if (rc == 0) {
    rc = poll_.Init([&](uv_poll_t* p) { return uv_poll_init_socket(loop_, p, fd_); }, this);
  }
  if (rc == 0) rc = uv_poll_start(poll_.get(), UV_READABLE, OnReadable);
  if (rc != 0) {
    Close();
    return rc;
  }
  socklen_t bound_len = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &bound_len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  spare_fd_ = OpenSpare();
  callbacks_ = std::move(callbacks);
  return 0;
}

void Listener::Close() {
  poll_.Close();  // stops watching the descriptor before it is closed
  if (fd_ >= 0) close(fd_);
  if (spare_fd_ >= 0) close(spare_fd_);
  fd_ = spare_fd_ = -1;
}

void Listener::OnReadable(uv_poll_t* poll, int status, int /*events*/) {
  auto* listener = static_cast<Listener*>(poll->data);
  if (status < 0) {
    listener->callbacks_.failed(-status, false);
    return;
  }
  listener->AcceptPending();
}

void Listener::AcceptPending() {
  for (int i = 0; i < kMaxAcceptsPerCall && fd_ >= 0; ++i) {
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      callbacks_.accepted(fd);
      continue;
    }
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) return;
    if (error == EINTR || error == ECONNABORTED) continue;
    if ((error == EMFILE || error == ENFILE) && RefuseOne()) {
      callbacks_.failed(error, true);
      continue;
    }
    // The connection stays queued; accept is tried again at the next readable event.
    callbacks_.failed(error, false);
    return;
  }
}

bool Listener::RefuseOne() {
  if (spare_fd_ < 0) spare_fd_ = OpenSpare();  // a descriptor may have been freed since
  if (spare_fd_ < 0) return false;
  close(spare_fd_);
  const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    // One non-blocking attempt, as for any client refused at maxclients.
    const std::string& refusal = callbacks_.refusal;
    if (!refusal.empty()) send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
    close(fd);
  }
  spare_fd_ = OpenSpare();
  return fd >= 0;
}

}  // namespace dynakv::net
