// Blocking-command scenarios run side by side (test_list_blocking.cc, test_zset_blocking.cc):
// the same steps against the server under test and against redis-server 7, each step's reply
// noted in a transcript; the two transcripts must be equal.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "raw_socket.h"

namespace dynakv::itest {

// One server and what the scenario saw on it, step by step.
class ScenarioRun {
 public:
  explicit ScenarioRun(int port) : port_(port), control_(port) {}

  // Sends a command on a new connection without waiting for its reply; returns its index.
  std::size_t Send(const std::vector<std::string>& argv, bool resp3 = false);
  // Waits until `n` clients are blocked (INFO), as seen by both servers the same way.
  void AwaitBlocked(long long n);
  // The reply of connection `i` (or "none" if nothing came within `wait`).
  std::string Reply1(std::size_t i,
                     std::chrono::milliseconds wait = std::chrono::milliseconds(3000));
  std::string Raw(std::size_t i, std::size_t bytes);
  void Close(std::size_t i);
  std::string Do(const std::vector<std::string>& argv);
  void Note(const std::string& s) { transcript_.push_back(s); }
  const std::vector<std::string>& transcript() const { return transcript_; }

 private:
  int port_;
  Client control_;
  std::vector<std::unique_ptr<RawSocket>> sockets_;
  std::vector<std::string> transcript_;
};

using Scenario = void (*)(ScenarioRun&);

// Runs `scenario` on the server under test and, when redis-server is installed (and is not the
// server under test), on it too; the transcripts must be equal. Returns ours.
std::vector<std::string> OnBoth(Scenario scenario);

}  // namespace dynakv::itest
