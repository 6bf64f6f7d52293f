// A hiredis connection whose connect and every command time out, so a hung server fails the
// test instead of hanging it.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reply.h"

struct redisContext;

namespace dynakv::itest {

class Client {
 public:
  explicit Client(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  bool ok() const;  // connected and no transport error so far
  std::string error() const;

  Reply Command(const std::vector<std::string>& argv);
  Reply Command(std::initializer_list<std::string_view> argv);
  // Pipelining: queue commands, then read the replies in order.
  void Append(const std::vector<std::string>& argv);
  Reply GetReply();

 private:
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx_;
};

}  // namespace dynakv::itest
