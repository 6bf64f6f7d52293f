// A plain TCP connection for bytes hiredis would never send, and for reading raw replies; every
// read and write is bounded by a timeout.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reply.h"

struct redisReader;

namespace dynakv::itest {

class RawSocket {
 public:
  explicit RawSocket(int port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Writes everything (waiting for the peer to drain); false if the peer closed or it timed out.
  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until `count` bytes arrived, the peer closed or the timeout passed.
  std::string ReadBytes(std::size_t count, std::chrono::milliseconds timeout);
  // Reads until `marker` arrived; returns everything up to and including it, or what arrived
  // before the peer closed or the timeout passed (then without the marker).
  std::string ReadUntil(std::string_view marker, std::chrono::milliseconds timeout);
  // Reads until `count` complete RESP2 replies parsed; fewer if closed or timed out.
  std::vector<Reply> ReadReplies(std::size_t count, std::chrono::milliseconds timeout);
  // Reads until the peer closes; returns what arrived. *closed tells whether EOF (or a reset)
  // came within the timeout.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed);
  void Close();

 private:
  // One poll+read; returns bytes read, 0 on EOF/reset (sets eof_), -1 on timeout.
  long ReadOnce(std::string* out, std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;  // bytes read beyond what ReadBytes returned
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
};

}  // namespace dynakv::itest
