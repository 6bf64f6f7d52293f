// Hostile and broken clients: malformed frames, random bytes, half requests, clients that never
// read. The server answers as Redis does, never crashes, and well-behaved clients see no change.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A client that keeps working correctly while others misbehave.
class Observer {
 public:
  explicit Observer(int port) : client_(port, seconds(5)) {}

  void Check() {
    std::string key = "observer:" + std::to_string(round_);
    std::string value = "value-" + std::to_string(round_);
    CHECK(client_.Command({"SET", key, value}) == Reply::Status("OK"));
    CHECK(client_.Command({"GET", key}) == Reply::Bulk(value));
    CHECK(client_.Command({"INCR", "observer:count"}) == Reply::Int(++round_));
  }

 private:
  Client client_;
  long long round_ = 0;
};

struct Malformed {
  std::string name;
  std::string bytes;
  std::string reply;  // what the server sends before closing
};

std::vector<Malformed> ClosingFrames() {
  const std::string kPrefix = "-ERR Protocol error: ";
  return {
      {"non-numeric multibulk count", "*abc\r\n", kPrefix + "invalid multibulk length\r\n"},
      {"empty multibulk count", "*\r\n", kPrefix + "invalid multibulk length\r\n"},
      {"multibulk count over INT_MAX", "*2147483648\r\n", kPrefix + "invalid multibulk length\r\n"},
      {"negative bulk length", "*1\r\n$-5\r\n", kPrefix + "invalid bulk length\r\n"},
      {"non-numeric bulk length", "*1\r\n$abc\r\n", kPrefix + "invalid bulk length\r\n"},
      {"huge bulk length", "*1\r\n$999999999999\r\n", kPrefix + "invalid bulk length\r\n"},
      {"bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", kPrefix + "invalid bulk length\r\n"},
      {"simple string instead of bulk", "*1\r\n+foo\r\n", kPrefix + "expected '$', got '+'\r\n"},
      {"integer instead of bulk", "*2\r\n$3\r\nGET\r\n:1\r\n",
       kPrefix + "expected '$', got ':'\r\n"},
      {"unbalanced double quote", "SET \"abc\r\n", kPrefix + "unbalanced quotes in request\r\n"},
      {"unbalanced single quote", "SET 'a\r\n", kPrefix + "unbalanced quotes in request\r\n"},
      {"closing quote not followed by space", "SET \"a\"b\r\n",
       kPrefix + "unbalanced quotes in request\r\n"},
      {"100 KB inline line without newline", std::string(100 * 1024, 'A'),
       kPrefix + "too big inline request\r\n"},
      {"70 KB multibulk count line", "*" + std::string(70 * 1024, '1'),
       kPrefix + "too big mbulk count string\r\n"},
      {"70 KB bulk length line", "*1\r\n$" + std::string(70 * 1024, '1'),
       kPrefix + "too big bulk count string\r\n"},
  };
}

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "malformed frames get a protocol error and a close") {
  Observer observer(server.port());
  for (const Malformed& frame : ClosingFrames()) {
    CAPTURE(frame.name);
    RawSocket raw(server.port());
    REQUIRE(raw.connected());
    raw.Send(frame.bytes, seconds(2));  // may be cut short when the server closes early
    bool closed = false;
    CHECK(raw.ReadUntilClosed(seconds(5), &closed) == frame.reply);
    CHECK(closed);
    REQUIRE(server.Alive());
    observer.Check();
  }
}

TEST_CASE_FIXTURE(ServerFixture, "frames Redis tolerates keep the connection open") {
  Observer observer(server.port());
  struct Tolerated {
    std::string name;
    std::string bytes;
    std::string reply;
  };
  std::vector<Tolerated> cases = {
      {"bulk header sent as inline command", "$5\r\n",
       "-ERR unknown command '$5', with args beginning with: \r\n"},
      {"negative multibulk count is skipped", "*-1\r\nPING\r\n", "+PONG\r\n"},
      {"zero multibulk count is skipped", "*0\r\nPING\r\n", "+PONG\r\n"},
      {"blank inline lines are skipped", "\r\n\r\n\n PING\r\n", "+PONG\r\n"},
      {"empty command name", "*1\r\n$0\r\n\r\n",
       "-ERR unknown command '', with args beginning with: \r\n"},
  };
  for (const Tolerated& c : cases) {
    CAPTURE(c.name);
    RawSocket raw(server.port());
    REQUIRE(raw.Send(c.bytes));
    CHECK(raw.ReadBytes(c.reply.size(), seconds(5)) == c.reply);
    // Still open and in sync.
    REQUIRE(raw.Send("*1\r\n$4\r\nPING\r\n"));
    CHECK(raw.ReadBytes(7, seconds(5)) == "+PONG\r\n");
    observer.Check();
  }
}

TEST_CASE_FIXTURE(ServerFixture, "half requests and hostile headers, then close") {
  Observer observer(server.port());
  std::uint64_t rss_before = server.RssBytes();
  std::vector<std::string> partials = {
      "*3\r\n$3\r\nSET\r\n",
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc",
      "*1\r\n$3\r\nGET",
      "*2147483647\r\n",                        // the largest count Redis accepts
      "*2147483647\r\n$1\r\na\r\n$1\r\nb\r\n",  // ... with a few arguments actually sent
      "*2\r\n$536870912\r\n",                   // the largest bulk allowed, never sent
      "GET partial-inline",
  };
  for (int round = 0; round < 20; ++round) {
    for (const std::string& bytes : partials) {
      RawSocket raw(server.port());
      REQUIRE(raw.Send(bytes));
    }  // closed with the request unfinished
    REQUIRE(server.Alive());
    observer.Check();
  }
  // Announced sizes are not allocated up front.
  if (!dynakv::itest::TestingRealRedis()) {
    CHECK(server.RssBytes() < rss_before + (64ull << 20));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "random bytes from many connections") {
  Observer observer(server.port());
  std::mt19937_64 rng(0xd1a4c0ffee);
  // Valid traffic to mutate: mostly-valid frames reach deeper parser states than pure noise.
  std::string valid;
  for (int i = 0; i < 20; ++i) {
    valid += EncodeCommand({"SET", "fuzz:" + std::to_string(i), "v" + std::to_string(i)});
    valid += EncodeCommand({"GET", "fuzz:" + std::to_string(i)});
    valid += "INCR fuzz:inline\r\n";
  }
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 20;
  for (int batch = 0; batch < kBatches; ++batch) {
    std::vector<std::unique_ptr<RawSocket>> sockets;
    for (int i = 0; i < kPerBatch; ++i) {
      auto raw = std::make_unique<RawSocket>(server.port());
      REQUIRE(raw->connected());
      std::string bytes;
      if (i % 2 == 0) {
        bytes = dynakv::itest::RandomBytes(1 + rng() % 4096, rng());
      } else {
        bytes = valid;
        int flips = 1 + rng() % 8;
        for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        bytes.resize(rng() % bytes.size() + 1);
      }
      raw->Send(bytes, milliseconds(500));
      sockets.push_back(std::move(raw));
    }
    // Half the sockets drain what the server says before closing, half just hang up.
    for (int i = 0; i < kPerBatch; i += 2) {
      bool closed = false;
      sockets[i]->ReadUntilClosed(milliseconds(20), &closed);
    }
    sockets.clear();
    REQUIRE(server.Alive());
    observer.Check();
  }
}

TEST_CASE_FIXTURE(ServerFixture, "a client that never reads its replies") {
  if (dynakv::itest::TestingRealRedis()) {
    // Redis buffers replies for normal clients without limit: this bound is dynakv's own
    // (client-output-buffer-soft-limit).
    MESSAGE("skipped: output backpressure is dynakv-only");
    return;
  }
  Observer observer(server.port());
  std::string big = dynakv::itest::RandomBytes(1 << 20, 7);
  REQUIRE(client.Command({"SET", "big", big}) == Reply::Status("OK"));
  std::uint64_t rss_before = server.RssBytes();

  // A million GETs of 1 MB each (22 MB of requests, far more than socket buffers hold) would be
  // 1 TB of replies: the server has to stop reading from this client instead.
  RawSocket hog(server.port());
  std::string get = EncodeCommand({"GET", "big"});
  std::string requests;
  for (int i = 0; i < 1000000; ++i) requests += get;
  bool all_sent = hog.Send(requests, seconds(3));
  CHECK_MESSAGE(!all_sent, "the server read 22 MB of requests while no reply was read");

  for (int i = 0; i < 10; ++i) {
    auto start = std::chrono::steady_clock::now();
    observer.Check();
    CHECK(std::chrono::steady_clock::now() - start < seconds(1));
  }
  std::uint64_t rss = server.RssBytes();
  MESSAGE("RSS growth with a stalled reader: ", (rss - rss_before) >> 20, " MB");
  CHECK(rss < rss_before + (128ull << 20));

  // Replies still come, in order and intact, once the client reads.
  std::vector<Reply> replies = hog.ReadReplies(3, seconds(10));
  REQUIRE(replies.size() == 3);
  for (const Reply& r : replies) CHECK((r == Reply::Bulk(big)));
  hog.Close();
  REQUIRE(server.Alive());
  observer.Check();
}
