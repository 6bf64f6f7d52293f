// Lists on disk: kill -9 keeps every acknowledged element (appendfsync always), pushes and pops
// on a big list log the element or the pop and not the list, and offloaded lists come back.
#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "durability_util.h"
#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

using dynakv::itest::KillAndRestart;
using dynakv::itest::LogBytesAppendedBy;
using dynakv::itest::SkipUnlessDynakv;

namespace {

using Model = std::map<std::string, std::deque<std::string>>;

void Verify(Client& c, const Model& model) {
  for (const auto& [key, elements] : model) {
    CAPTURE(key);
    if (elements.empty()) {
      CHECK(c.Command({"EXISTS", key}) == Reply::Int(0));
      continue;
    }
    REQUIRE(c.Command({"TYPE", key}) == Reply::Status("list"));
    std::vector<Reply> want;
    for (const std::string& e : elements) want.push_back(Reply::Bulk(e));
    CHECK(c.Command({"LRANGE", key, "0", "-1"}) == Reply::Array(want));
  }
}

// Random list writes to 10 lists (two grow to thousands of elements), mirrored in *model. Each
// reply is checked against the model as it arrives.
void WriteRandomly(Client& c, std::uint64_t seed, int commands, Model* model) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < commands; ++i) {
    const std::string key = "list:" + std::to_string(rng() % 10);
    std::deque<std::string>& list = (*model)[key];
    const bool big = key == "list:0" || key == "list:1";
    const std::string element = dynakv::itest::RandomBytes(1 + rng() % 60, rng());
    Reply want;
    std::vector<std::string> argv;
    switch (rng() % (big ? 5 : 7)) {
      case 0:
      case 1:
        argv = {"RPUSH", key, element, "x"};
        list.push_back(element);
        list.push_back("x");
        want = Reply::Int(static_cast<long long>(list.size()));
        break;
      case 2:
        argv = {"LPUSH", key, element};
        list.push_front(element);
        want = Reply::Int(static_cast<long long>(list.size()));
        break;
      case 3:
        if (list.empty()) continue;
        argv = {"LSET", key, "0", element};
        list.front() = element;
        want = Reply::Status("OK");
        break;
      case 4:
        argv = {"LREM", key, "1", "x"};
        {
          auto it = std::find(list.begin(), list.end(), "x");
          want = Reply::Int(it != list.end() ? 1 : 0);
          if (it != list.end()) list.erase(it);
        }
        break;
      case 5:
        argv = {"LPOP", key};
        if (list.empty()) {
          want = Reply::Nil();
        } else {
          want = Reply::Bulk(list.front());
          list.pop_front();
        }
        break;
      default:
        argv = {"LTRIM", key, "1", "-2"};
        if (list.size() <= 2) {
          list.clear();
        } else {
          list.pop_front();
          list.pop_back();
        }
        want = Reply::Status("OK");
    }
    const Reply got = c.Command(argv);
    if (got != want) {
      CAPTURE(argv[0]);
      CAPTURE(got);
      REQUIRE(got == want);
    }
  }
}

}  // namespace

TEST_CASE("kill -9 keeps every acknowledged list element (appendfsync always)") {
  if (SkipUnlessDynakv()) return;
  // Small checkpoints: recovery replays element records onto lists that segments hold whole.
  ServerProcess server({"--appendfsync", "always", "--log-checkpoint-bytes", "65536",
                        "--list-max-listpack-size", "16"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    WriteRandomly(c, 1, 5000, &model);
    REQUIRE(c.Command({"RPUSH", "moved-from", "a", "b", "c"}) == Reply::Int(3));
    REQUIRE(c.Command({"LMOVE", "moved-from", "moved-to", "LEFT", "RIGHT"}) == Reply::Bulk("a"));
    model["moved-from"] = {"b", "c"};
    model["moved-to"] = {"a"};
    REQUIRE(c.Command({"EXPIRE", "list:5", "1000"}) == Reply::Int(1));
    CHECK(ReadInfoNumber(c, "persistence", "checkpoints") > 0);
    Verify(c, model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
  CHECK(c.Command({"TTL", "list:5"}).integer > 900);

  WriteRandomly(c, 2, 3000, &model);
  Client again = KillAndRestart(server);
  Verify(again, model);
}

TEST_CASE("a push or a pop on a big list appends a small, bounded number of log bytes") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--log-checkpoint-bytes", "4gb"});
  server.Start();
  Client c(server.port());
  constexpr int kElements = 200000;
  for (int start = 0; start < kElements; start += 1000) {
    std::vector<std::string> argv = {"RPUSH", "big"};
    for (int i = start; i < start + 1000; ++i) argv.push_back("element:" + std::to_string(i));
    c.Append(argv);
  }
  for (int start = 0; start < kElements; start += 1000) {
    REQUIRE(c.GetReply() == Reply::Int(start + 1000));
  }
  REQUIRE(ReadInfoNumber(c, "persistence", "commit_log_bytes") > kElements * 10);
  CHECK(LogBytesAppendedBy(c, {"LPUSH", "big", "new"}, Reply::Int(kElements + 1)) < 48);
  CHECK(LogBytesAppendedBy(c, {"RPUSH", "big", "tail"}, Reply::Int(kElements + 2)) < 48);
  CHECK(LogBytesAppendedBy(c, {"LPOP", "big"}, Reply::Bulk("new")) < 48);
  CHECK(LogBytesAppendedBy(c, {"RPOP", "big", "2"},
                           Reply::Array({Reply::Bulk("tail"), Reply::Bulk("element:199999")})) <
        48);
  CHECK(LogBytesAppendedBy(c, {"LSET", "big", "100000", "changed"}, Reply::Status("OK")) < 48);
  CHECK(LogBytesAppendedBy(c, {"LINDEX", "big", "100000"}, Reply::Bulk("changed")) == 0);
  CHECK(LogBytesAppendedBy(c, {"LPUSH", "big", std::string(1000, 'v')}, Reply::Int(kElements)) <
        1100);
  CHECK(ReadInfoNumber(c, "memory", "used_memory") > kElements * 10);
}

TEST_CASE("lists offloaded under a small maxmemory come back intact, also after a restart") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "256kb", "--log-checkpoint-bytes", "128kb"});
  server.Start();
  Model model;
  {
    Client c(server.port());
    for (int k = 0; k < 60; ++k) {
      const std::string key = "offload:" + std::to_string(k);
      for (int i = 0; i < 200; i += 4) {
        std::vector<std::string> argv = {"RPUSH", key};
        for (int j = i; j < i + 4; ++j) {
          argv.push_back("element-" + std::to_string(j * k) + std::string(20, 'a' + k % 26));
          model[key].push_back(argv.back());
        }
        REQUIRE(c.Command(argv) == Reply::Int(i + 4));
      }
    }
    Verify(c, model);
  }
  Client c = KillAndRestart(server);
  Verify(c, model);
}

TEST_CASE("list-compress-depth: interior nodes compressed, reads right, memory down, kill -9") {
  if (SkipUnlessDynakv()) return;
  ServerProcess server({"--appendfsync", "always", "--list-compress-depth", "0"});
  server.Start();
  std::deque<std::string> elements;
  for (int i = 0; i < 50000; ++i) {
    elements.push_back("{\"id\":" + std::to_string(i) + ",\"event\":\"page_view\",\"ok\":true}");
  }
  auto fill = [&](Client& c, const std::string& key) {
    std::vector<std::vector<std::string>> pushes;
    for (std::size_t start = 0; start < elements.size(); start += 500) {
      std::vector<std::string> argv = {"RPUSH", key};
      for (std::size_t i = start; i < start + 500; ++i) argv.push_back(elements[i]);
      pushes.push_back(std::move(argv));
    }
    dynakv::itest::RunAcknowledged(c, pushes,
                                   [](const Reply& r) { return r.type == Reply::Type::kInteger; });
  };
  auto check = [&](Client& c, const std::string& key) {
    CAPTURE(key);
    CHECK(c.Command({"OBJECT", "ENCODING", key}) == Reply::Bulk("quicklist"));
    CHECK(c.Command({"LLEN", key}) == Reply::Int(static_cast<long long>(elements.size())));
    for (long long i : {0LL, 1LL, 777LL, 25000LL, 49998LL, -1LL}) {
      const std::size_t at = i < 0 ? elements.size() - 1 : static_cast<std::size_t>(i);
      CHECK(c.Command({"LINDEX", key, std::to_string(i)}) == Reply::Bulk(elements[at]));
    }
    const Reply all = c.Command({"LRANGE", key, "0", "-1"});
    REQUIRE(all.elements.size() == elements.size());
    bool same = true;
    for (std::size_t i = 0; i < elements.size(); ++i)
      same = same && all.elements[i].str == elements[i];
    CHECK(same);
    CHECK(c.Command({"LRANGE", key, "30000", "30002"}) ==
          Reply::Bulks({elements[30000], elements[30001], elements[30002]}));
    CHECK(c.Command({"LPOS", key, elements[40000]}) == Reply::Int(40000));
  };
  long long raw_bytes = 0;
  long long packed_bytes = 0;
  {
    Client c(server.port());
    fill(c, "raw");
    REQUIRE(c.Command({"CONFIG", "SET", "list-compress-depth", "1"}) == Reply::Status("OK"));
    CHECK(c.Command({"CONFIG", "GET", "list-compress-depth"}) ==
          Reply::Bulks({"list-compress-depth", "1"}));
    fill(c, "packed");
    raw_bytes = c.Command({"MEMORY", "USAGE", "raw"}).integer;
    packed_bytes = c.Command({"MEMORY", "USAGE", "packed"}).integer;
    MESSAGE("MEMORY USAGE of 50,000 ~50-byte elements: " << raw_bytes << " at depth 0, "
                                                         << packed_bytes << " at depth 1");
    CHECK(packed_bytes * 3 < raw_bytes);
    check(c, "raw");
    check(c, "packed");
    // Writes into compressed interior nodes and at the ends.
    REQUIRE(c.Command({"LSET", "packed", "20000", "changed"}) == Reply::Status("OK"));
    elements[20000] = "changed";
    REQUIRE(c.Command({"LINSERT", "packed", "BEFORE", elements[30000], "inserted"}) ==
            Reply::Int(50001));
    elements.insert(elements.begin() + 30000, "inserted");
    REQUIRE(c.Command({"LPOP", "packed"}) == Reply::Bulk(elements.front()));
    elements.pop_front();
    REQUIRE(c.Command({"RPUSH", "packed", "tail"}) == Reply::Int(50001));
    elements.push_back("tail");
    check(c, "packed");
  }
  server.Kill();
  server.Start();
  Client c(server.port());
  check(c, "packed");  // recovered with the configured depth 0: reads are the same
}
