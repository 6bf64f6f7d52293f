#include "raw_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace dynakv::itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

RawSocket::RawSocket(int port) : reader_(redisReaderCreate(), redisReaderFree) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
}

RawSocket::~RawSocket() { Close(); }

void RawSocket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawSocket::Send(std::string_view bytes, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLOUT, 0};
    poll(&pfd, 1, static_cast<int>(left.count()));
  }
  return true;
}

long RawSocket::ReadOnce(std::string* out, milliseconds timeout) {
  if (fd_ < 0 || eof_) return 0;
  pollfd pfd{fd_, POLLIN, 0};
  int ready = poll(&pfd, 1, static_cast<int>(std::max<long>(0, timeout.count())));
  if (ready <= 0) return -1;
  char buf[64 * 1024];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n > 0) {
    out->append(buf, n);
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
  eof_ = true;  // orderly close or reset
  return 0;
}

std::string RawSocket::ReadBytes(std::size_t count, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (pending_.size() < count) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) break;
  }
  std::string out = pending_.substr(0, std::min(count, pending_.size()));
  pending_.erase(0, out.size());
  return out;
}

std::string RawSocket::ReadUntil(std::string_view marker, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t found;
  while ((found = pending_.find(marker)) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) {
      return std::exchange(pending_, std::string());
    }
  }
  std::string out = pending_.substr(0, found + marker.size());
  pending_.erase(0, out.size());
  return out;
}

std::vector<Reply> RawSocket::ReadReplies(std::size_t count, milliseconds timeout) {
  std::vector<Reply> replies;
  auto deadline = Clock::now() + timeout;
  while (replies.size() < count) {
    if (!pending_.empty()) {
      redisReaderFeed(reader_.get(), pending_.data(), pending_.size());
      pending_.clear();
    }
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) break;
    if (raw != nullptr) {
      replies.push_back(Reply::FromHiredis(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
      continue;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) break;
  }
  return replies;
}

std::string RawSocket::ReadUntilClosed(milliseconds timeout, bool* closed) {
  auto deadline = Clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  while (!eof_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    ReadOnce(&out, left);
  }
  *closed = eof_;
  return out;
}

}  // namespace dynakv::itest
