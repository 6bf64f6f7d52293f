// What the type families' durability tests (test_{hash,set,list,zset}_durability.cc) share:
// skipping where the storage engine is not dynakv's, pipelined acknowledged writes, reading a
// flat pair reply back, a crash and restart, and measuring the log bytes one command appends.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "client.h"
#include "reply.h"
#include "server_process.h"

namespace dynakv::itest {

// True (after saying so) when the server under test is redis-server: the test checks dynakv's
// storage engine only.
bool SkipUnlessDynakv();

// A flat [name, value, name, value, ...] reply (HGETALL, ZRANGE ... WITHSCORES) as a map.
std::map<std::string, std::string> PairsOf(const Reply& reply);

// The commit log bytes (INFO persistence) that `argv` appends; its reply must be `expected`.
long long LogBytesAppendedBy(Client& c, const std::vector<std::string>& argv,
                             const Reply& expected);
// The same for a command whose reply is anything but an error.
long long LogBytesAppendedBy(Client& c, const std::vector<std::string>& argv);

// Kills the server with SIGKILL (a crash: nothing flushed, nothing closed), starts it again on
// the same port and data dir, and returns a client connected to the recovered server.
Client KillAndRestart(ServerProcess& server);

// Sends the commands pipelined in batches; every reply must be `ok(reply)`.
template <typename Ok>
void RunAcknowledged(Client& c, const std::vector<std::vector<std::string>>& commands, Ok ok) {
  constexpr std::size_t kBatch = 200;
  for (std::size_t start = 0; start < commands.size(); start += kBatch) {
    const std::size_t end = std::min(commands.size(), start + kBatch);
    for (std::size_t i = start; i < end; ++i) c.Append(commands[i]);
    for (std::size_t i = start; i < end; ++i) {
      const Reply r = c.GetReply();
      if (!ok(r)) {
        CAPTURE(commands[i][0]);
        CAPTURE(r);
        REQUIRE(ok(r));
      }
    }
  }
}

}  // namespace dynakv::itest
