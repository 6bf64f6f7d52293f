// Pipelining: many requests in flight on one connection, replies strictly in request order, no
// matter how the request bytes are split across reads.
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using std::chrono::seconds;

namespace {

struct Step {
  std::vector<std::string> argv;
  Reply expected;
};

// SET, GET of the key just set and INCR of a shared counter, interleaved: each reply depends on
// the requests before it, so a reordered or dropped reply shows up.
std::vector<Step> MixedPipeline(int count, const std::string& prefix) {
  std::vector<Step> steps;
  long long counter = 0;
  for (int i = 0; i < count; ++i) {
    std::string key = prefix + "key:" + std::to_string(i / 3);
    switch (i % 3) {
      case 0:
        steps.push_back({{"SET", key, "value:" + std::to_string(i)}, Reply::Status("OK")});
        break;
      case 1:
        steps.push_back({{"GET", key}, Reply::Bulk("value:" + std::to_string(i - 1))});
        break;
      default:
        steps.push_back({{"INCR", prefix + "counter"}, Reply::Int(++counter)});
    }
  }
  return steps;
}

std::string Encode(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& step : steps) out += EncodeCommand(step.argv);
  return out;
}

// Compares replies to expectations; reports the first mismatch only, not thousands.
void CheckReplies(const std::vector<Reply>& got, const std::vector<Step>& steps) {
  REQUIRE(got.size() == steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!(got[i] == steps[i].expected)) {
      CAPTURE(i);
      CHECK(got[i] == steps[i].expected);
      return;
    }
  }
}

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "10,000 pipelined commands through hiredis") {
  std::vector<Step> steps = MixedPipeline(10000, "h:");
  for (const Step& step : steps) client.Append(step.argv);
  std::vector<Reply> got;
  for (std::size_t i = 0; i < steps.size(); ++i) got.push_back(client.GetReply());
  CheckReplies(got, steps);
  CHECK(client.Command({"GET", "h:counter"}) == Reply::Bulk("3333"));
}

TEST_CASE_FIXTURE(ServerFixture, "10,000 pipelined commands in one write") {
  std::vector<Step> steps = MixedPipeline(10000, "w:");
  RawSocket raw(server.port());
  REQUIRE(raw.Send(Encode(steps)));
  CheckReplies(raw.ReadReplies(steps.size(), seconds(30)), steps);
}

TEST_CASE_FIXTURE(ServerFixture, "pipelines split into random-sized chunks") {
  std::mt19937 rng(20240611);
  SUBCASE("one connection, chunks of 1 byte to 4 KB") {
    std::vector<Step> steps = MixedPipeline(10000, "c:");
    std::string bytes = Encode(steps);
    RawSocket raw(server.port());
    std::uniform_int_distribution<std::size_t> size(1, 4096);
    for (std::size_t pos = 0; pos < bytes.size();) {
      std::size_t n = std::min(size(rng), bytes.size() - pos);
      REQUIRE(raw.Send(std::string_view(bytes).substr(pos, n)));
      pos += n;
    }
    CheckReplies(raw.ReadReplies(steps.size(), seconds(30)), steps);
  }
  SUBCASE("four connections interleaved, with inline commands and big values") {
    constexpr int kConns = 4;
    std::vector<std::unique_ptr<RawSocket>> sockets;
    std::vector<std::vector<Step>> steps(kConns);
    std::vector<std::string> bytes(kConns);
    std::vector<std::size_t> sent(kConns, 0);
    for (int c = 0; c < kConns; ++c) {
      sockets.push_back(std::make_unique<RawSocket>(server.port()));
      steps[c] = MixedPipeline(2500, "conn" + std::to_string(c) + ":");
      // A big value every 500 commands, so some requests span many reads.
      for (std::size_t i = 500; i < steps[c].size(); i += 500) {
        std::string key = "conn" + std::to_string(c) + ":big" + std::to_string(i);
        std::string value = dynakv::itest::RandomBytes(200000 + i, c * 10000 + i);
        steps[c].insert(steps[c].begin() + i, {{"GET", key}, Reply::Bulk(value)});
        steps[c].insert(steps[c].begin() + i, {{"SET", key, value}, Reply::Status("OK")});
      }
      bytes[c] = Encode(steps[c]);
      // Inline commands work in a pipeline too.
      for (int i = 0; i < 100; ++i) {
        bytes[c] += "INCR inline" + std::to_string(c) + "\r\n";
        steps[c].push_back({{}, Reply::Int(i + 1)});
      }
    }
    std::uniform_int_distribution<std::size_t> size(1, 3000);
    for (bool more = true; more;) {
      more = false;
      for (int c = 0; c < kConns; ++c) {
        if (sent[c] == bytes[c].size()) continue;
        std::size_t n = std::min(size(rng), bytes[c].size() - sent[c]);
        REQUIRE(sockets[c]->Send(std::string_view(bytes[c]).substr(sent[c], n)));
        sent[c] += n;
        more = true;
      }
    }
    for (int c = 0; c < kConns; ++c) {
      CAPTURE(c);
      CheckReplies(sockets[c]->ReadReplies(steps[c].size(), seconds(30)), steps[c]);
    }
  }
}

TEST_CASE_FIXTURE(ServerFixture, "50 connections pipelining at once") {
  constexpr int kConns = 50;
  constexpr int kRounds = 200;
  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int c = 0; c < kConns; ++c) {
    sockets.push_back(std::make_unique<RawSocket>(server.port()));
    REQUIRE(sockets.back()->connected());
  }
  // Each round sends one request batch per connection, so all of them are in flight together.
  for (int round = 0; round < kRounds; ++round) {
    for (int c = 0; c < kConns; ++c) {
      std::string key = "conn:" + std::to_string(c);
      std::string value = std::to_string(round);
      REQUIRE(sockets[c]->Send(EncodeCommand({"INCR", "shared"}) +
                               EncodeCommand({"SET", key, value}) + EncodeCommand({"GET", key})));
    }
  }
  // Every INCR got a distinct number: together they are exactly 1..kConns*kRounds, and each
  // connection saw its own increasing.
  std::vector<bool> seen(kConns * kRounds + 1, false);
  for (int c = 0; c < kConns; ++c) {
    CAPTURE(c);
    std::vector<Reply> replies = sockets[c]->ReadReplies(3 * kRounds, seconds(30));
    REQUIRE(replies.size() == 3 * kRounds);
    long long last = 0;
    for (int round = 0; round < kRounds; ++round) {
      const Reply& incr = replies[3 * round];
      REQUIRE(incr.type == Reply::Type::kInteger);
      REQUIRE(incr.integer > last);
      REQUIRE(incr.integer <= kConns * kRounds);
      REQUIRE(!seen[incr.integer]);
      seen[incr.integer] = true;
      last = incr.integer;
      REQUIRE(replies[3 * round + 1] == Reply::Status("OK"));
      REQUIRE(replies[3 * round + 2] == Reply::Bulk(std::to_string(round)));
    }
  }
  CHECK(client.Command({"GET", "shared"}) == Reply::Bulk(std::to_string(kConns * kRounds)));
}
