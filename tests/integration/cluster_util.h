// Small helpers shared by the cluster integration tests (test_cluster*.cc).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "harness.h"

namespace dynakv::itest {

// The value of `field` in INFO's reply, empty when absent.
inline std::string InfoField(Client& client, const std::string& field) {
  const Reply info = client.Command({"INFO", "cluster"});
  const std::string& text = info.str;
  const std::string marker = field + ":";
  std::size_t pos = text.find(marker);
  while (pos != std::string::npos && pos != 0 && text[pos - 1] != '\n') {
    pos = text.find(marker, pos + 1);
  }
  if (pos == std::string::npos) return {};
  pos += marker.size();
  return text.substr(pos, text.find("\r\n", pos) - pos);
}

inline long long InfoNumber(Client& client, const std::string& field) {
  const std::string text = InfoField(client, field);
  return text.empty() ? -1 : std::stoll(text);
}

// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Repeats `argv` on `client` until it does not fail with UNAVAILABLE (a peer connection coming
// back after a restart or a healed partition takes a reconnect backoff), bounded in time.
inline Reply UntilAvailable(Client& client, const std::vector<std::string>& argv) {
  Reply reply;
  WaitFor([&] {
    reply = client.Command(argv);
    return !(reply.IsError() && reply.str.starts_with("UNAVAILABLE"));
  });
  return reply;
}

}  // namespace dynakv::itest
