// Keyspace commands and expiry over the wire, with the exact replies Redis 7 gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;

namespace {

const Reply kOk = Reply::Status("OK");
const Reply kNotInt = Reply::Error("ERR value is not an integer or out of range");

long long NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void CheckTtlBetween(const Reply& ttl, long long lo, long long hi) {
  REQUIRE(ttl.type == Reply::Type::kInteger);
  CHECK(ttl.integer >= lo);
  CHECK(ttl.integer <= hi);
}

// The elements of an array reply of bulk strings, sorted.
std::vector<std::string> SortedStrings(const Reply& reply) {
  REQUIRE(reply.type == Reply::Type::kArray);
  std::vector<std::string> out;
  for (const Reply& e : reply.elements) {
    REQUIRE(e.type == Reply::Type::kString);
    out.push_back(e.str);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void SetMany(Client& c, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) c.Append({"SET", key, "v:" + key});
  for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(c.GetReply() == kOk);
}

// Iterates SCAN to the end with the given extra arguments; every key seen, duplicates folded.
std::set<std::string> ScanAll(Client& c, std::vector<std::string> extra) {
  std::set<std::string> seen;
  std::string cursor = "0";
  // Far more rounds than any correct cursor needs: a cursor that never returns to 0 fails here.
  for (int round = 0; round < 100000; ++round) {
    std::vector<std::string> argv = {"SCAN", cursor};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Reply r = c.Command(argv);
    REQUIRE(r.type == Reply::Type::kArray);
    REQUIRE(r.elements.size() == 2);
    REQUIRE(r.elements[0].type == Reply::Type::kString);
    for (const std::string& key : SortedStrings(r.elements[1])) seen.insert(key);
    cursor = r.elements[0].str;
    if (cursor == "0") return seen;
  }
  FAIL("SCAN cursor never returned to 0");
  return seen;
}

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "DEL UNLINK EXISTS TYPE") {
  auto& c = client;
  SetMany(c, {"a", "b", "c", "d"});
  CHECK(c.Command({"EXISTS", "a"}) == Reply::Int(1));
  CHECK(c.Command({"EXISTS", "a", "a", "missing", "b"}) == Reply::Int(3));
  CHECK(c.Command({"TYPE", "a"}) == Reply::Status("string"));
  CHECK(c.Command({"TYPE", "missing"}) == Reply::Status("none"));
  CHECK(c.Command({"DEL", "a", "b", "missing"}) == Reply::Int(2));
  CHECK(c.Command({"DEL", "a"}) == Reply::Int(0));
  CHECK(c.Command({"UNLINK", "c", "missing"}) == Reply::Int(1));
  CHECK(c.Command({"EXISTS", "a", "b", "c", "d"}) == Reply::Int(1));
  CHECK(c.Command({"GET", "c"}) == Reply::Nil());
  CHECK(c.Command({"DEL"}) == Reply::Error("ERR wrong number of arguments for 'del' command"));
  CHECK(c.Command({"EXISTS"}) ==
        Reply::Error("ERR wrong number of arguments for 'exists' command"));
}

TEST_CASE_FIXTURE(ServerFixture, "EXPIRE family, TTL, PTTL, PERSIST") {
  auto& c = client;
  SUBCASE("relative and absolute expiry") {
    CHECK(c.Command({"EXPIRE", "missing", "100"}) == Reply::Int(0));
    CHECK(c.Command({"TTL", "missing"}) == Reply::Int(-2));
    CHECK(c.Command({"PTTL", "missing"}) == Reply::Int(-2));
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
    CHECK(c.Command({"PTTL", "k"}) == Reply::Int(-1));
    CHECK(c.Command({"EXPIRE", "k", "100"}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"TTL", "k"}), 99, 100);
    CHECK(c.Command({"PEXPIRE", "k", "200000"}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"PTTL", "k"}), 199000, 200000);
    CHECK(c.Command({"EXPIREAT", "k", std::to_string(NowMs() / 1000 + 300)}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"TTL", "k"}), 298, 300);
    CHECK(c.Command({"PEXPIREAT", "k", std::to_string(NowMs() + 400000)}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"PTTL", "k"}), 398000, 400000);
    // TTL rounds to the nearest second, as Redis does.
    CHECK(c.Command({"PEXPIRE", "k", "1900"}) == Reply::Int(1));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(2));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
  }
  SUBCASE("PERSIST") {
    CHECK(c.Command({"PERSIST", "missing"}) == Reply::Int(0));
    CHECK(c.Command({"SET", "k", "v", "EX", "100"}) == kOk);
    CHECK(c.Command({"PERSIST", "k"}) == Reply::Int(1));
    CHECK(c.Command({"PERSIST", "k"}) == Reply::Int(0));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
  }
  SUBCASE("a time in the past deletes the key") {
    SetMany(c, {"a", "b", "c", "d"});
    CHECK(c.Command({"EXPIRE", "a", "0"}) == Reply::Int(1));
    CHECK(c.Command({"PEXPIRE", "b", "-10"}) == Reply::Int(1));
    CHECK(c.Command({"EXPIREAT", "c", "1"}) == Reply::Int(1));
    CHECK(c.Command({"PEXPIREAT", "d", std::to_string(NowMs() - 1000)}) == Reply::Int(1));
    CHECK(c.Command({"EXISTS", "a", "b", "c", "d"}) == Reply::Int(0));
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  }
  SUBCASE("NX XX GT LT") {
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"EXPIRE", "k", "100", "XX"}) == Reply::Int(0));
    // With no TTL the key counts as living forever: GT never applies, LT always does.
    CHECK(c.Command({"EXPIRE", "k", "100", "GT"}) == Reply::Int(0));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
    CHECK(c.Command({"EXPIRE", "k", "100", "NX"}) == Reply::Int(1));
    CHECK(c.Command({"EXPIRE", "k", "200", "NX"}) == Reply::Int(0));
    CHECK(c.Command({"EXPIRE", "k", "200", "XX"}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"TTL", "k"}), 199, 200);
    CHECK(c.Command({"EXPIRE", "k", "100", "GT"}) == Reply::Int(0));
    CHECK(c.Command({"EXPIRE", "k", "300", "GT"}) == Reply::Int(1));
    CHECK(c.Command({"PEXPIRE", "k", "400000", "LT"}) == Reply::Int(0));
    CHECK(c.Command({"PEXPIRE", "k", "50000", "lt"}) == Reply::Int(1));
    CheckTtlBetween(c.Command({"PTTL", "k"}), 49000, 50000);
    CHECK(c.Command({"EXPIREAT", "k", std::to_string(NowMs() / 1000 + 1000), "GT"}) ==
          Reply::Int(1));
    CHECK(c.Command({"PEXPIREAT", "k", std::to_string(NowMs() + 2000000), "XX"}) == Reply::Int(1));
    CHECK(c.Command({"PERSIST", "k"}) == Reply::Int(1));
    CHECK(c.Command({"PEXPIRE", "k", "5000", "LT"}) == Reply::Int(1));
  }
  SUBCASE("errors") {
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"EXPIRE", "k", "100", "NX", "XX"}) ==
          Reply::Error("ERR NX and XX, GT or LT options at the same time are not compatible"));
    CHECK(c.Command({"EXPIRE", "k", "100", "NX", "GT"}) ==
          Reply::Error("ERR NX and XX, GT or LT options at the same time are not compatible"));
    CHECK(c.Command({"EXPIRE", "k", "100", "GT", "LT"}) ==
          Reply::Error("ERR GT and LT options at the same time are not compatible"));
    CHECK(c.Command({"EXPIRE", "k", "100", "FOO"}) == Reply::Error("ERR Unsupported option FOO"));
    CHECK(c.Command({"EXPIRE", "k", "abc"}) == kNotInt);
    CHECK(c.Command({"EXPIRE", "k", "9223372036854775807"}) ==
          Reply::Error("ERR invalid expire time in 'expire' command"));
    CHECK(c.Command({"PEXPIRE", "k", "9223372036854775807"}) ==
          Reply::Error("ERR invalid expire time in 'pexpire' command"));
    CHECK(c.Command({"EXPIREAT", "k", "9223372036854775807"}) ==
          Reply::Error("ERR invalid expire time in 'expireat' command"));
    CHECK(c.Command({"EXPIRE", "k"}) ==
          Reply::Error("ERR wrong number of arguments for 'expire' command"));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "lazy expiry") {
  auto& c = client;
  CHECK(c.Command({"SET", "k", "v", "PX", "100"}) == kOk);
  CHECK(c.Command({"SET", "keep", "v"}) == kOk);
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(c.Command({"GET", "k"}) == Reply::Nil());
  CHECK(c.Command({"EXISTS", "k"}) == Reply::Int(0));
  CHECK(c.Command({"TTL", "k"}) == Reply::Int(-2));
  CHECK(c.Command({"TYPE", "k"}) == Reply::Status("none"));
  CHECK(c.Command({"KEYS", "*"}) == Reply::Bulks({"keep"}));
  // An expired key does not block SET NX.
  CHECK(c.Command({"SET", "k", "new", "NX"}) == kOk);
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("new"));
  CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
}

TEST_CASE_FIXTURE(ServerFixture, "active expiry removes untouched keys") {
  auto& c = client;
  for (int i = 0; i < 100; ++i) c.Append({"SET", "tmp:" + std::to_string(i), "v", "PX", "100"});
  for (int i = 0; i < 100; ++i) REQUIRE(c.GetReply() == kOk);
  CHECK(c.Command({"SET", "stays", "v"}) == kOk);
  // DBSIZE counts keys without touching them, so only the background cycle can bring it down.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  Reply size = c.Command({"DBSIZE"});
  while (size != Reply::Int(1) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    size = c.Command({"DBSIZE"});
  }
  CHECK(size == Reply::Int(1));
}

TEST_CASE_FIXTURE(ServerFixture, "KEYS patterns") {
  auto& c = client;
  SetMany(c, {"hello", "hallo", "hxllo", "hllo", "heeeello", "hbllo", "a*b", "axb", "other"});
  using V = std::vector<std::string>;
  CHECK(SortedStrings(c.Command({"KEYS", "h?llo"})) == V{"hallo", "hbllo", "hello", "hxllo"});
  CHECK(SortedStrings(c.Command({"KEYS", "h*llo"})) ==
        V{"hallo", "hbllo", "heeeello", "hello", "hllo", "hxllo"});
  CHECK(SortedStrings(c.Command({"KEYS", "h[ae]llo"})) == V{"hallo", "hello"});
  CHECK(SortedStrings(c.Command({"KEYS", "h[^e]llo"})) == V{"hallo", "hbllo", "hxllo"});
  CHECK(SortedStrings(c.Command({"KEYS", "h[a-b]llo"})) == V{"hallo", "hbllo"});
  CHECK(SortedStrings(c.Command({"KEYS", "a\\*b"})) == V{"a*b"});
  CHECK(SortedStrings(c.Command({"KEYS", "a*b"})) == V{"a*b", "axb"});
  CHECK(SortedStrings(c.Command({"KEYS", "nothing*"})) == V{});
  CHECK(c.Command({"KEYS", "*"}).elements.size() == 9);
}

TEST_CASE_FIXTURE(ServerFixture, "SCAN") {
  auto& c = client;
  std::vector<std::string> users, others;
  for (int i = 0; i < 1000; ++i) users.push_back("user:" + std::to_string(i));
  for (int i = 0; i < 300; ++i) others.push_back("other:" + std::to_string(i));
  SetMany(c, users);
  SetMany(c, others);
  std::set<std::string> all(users.begin(), users.end());
  all.insert(others.begin(), others.end());

  CHECK(ScanAll(c, {}) == all);
  CHECK(ScanAll(c, {"COUNT", "7"}) == all);
  CHECK(ScanAll(c, {"COUNT", "5000"}) == all);
  CHECK(ScanAll(c, {"MATCH", "user:*", "COUNT", "13"}) ==
        std::set<std::string>(users.begin(), users.end()));
  CHECK(ScanAll(c, {"MATCH", "other:1?", "COUNT", "100"}) ==
        std::set<std::string>{"other:10", "other:11", "other:12", "other:13", "other:14",
                              "other:15", "other:16", "other:17", "other:18", "other:19"});
  CHECK(ScanAll(c, {"TYPE", "string", "COUNT", "100"}) == all);
  CHECK(ScanAll(c, {"MATCH", "none*"}).empty());

  CHECK(c.Command({"SCAN", "abc"}) == Reply::Error("ERR invalid cursor"));
  CHECK(c.Command({"SCAN", "0", "COUNT", "0"}) == Reply::Error("ERR syntax error"));
  CHECK(c.Command({"SCAN", "0", "COUNT", "x"}) == kNotInt);
  CHECK(c.Command({"SCAN", "0", "MATCH"}) == Reply::Error("ERR syntax error"));
  CHECK(c.Command({"SCAN", "0", "FOO", "bar"}) == Reply::Error("ERR syntax error"));
}

TEST_CASE_FIXTURE(ServerFixture, "RANDOMKEY DBSIZE FLUSHALL") {
  auto& c = client;
  CHECK(c.Command({"RANDOMKEY"}) == Reply::Nil());
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  SetMany(c, {"a", "b", "c"});
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(3));
  std::set<std::string> keys = {"a", "b", "c"};
  for (int i = 0; i < 50; ++i) {
    Reply r = c.Command({"RANDOMKEY"});
    REQUIRE(r.type == Reply::Type::kString);
    CHECK(keys.count(r.str) == 1);
  }
  CHECK(c.Command({"FLUSHALL"}) == kOk);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  CHECK(c.Command({"GET", "a"}) == Reply::Nil());
  CHECK(c.Command({"RANDOMKEY"}) == Reply::Nil());
  SetMany(c, {"x", "y"});
  CHECK(c.Command({"FLUSHALL", "SYNC"}) == kOk);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
  SetMany(c, {"x"});
  CHECK(c.Command({"FLUSHALL", "ASYNC"}) == kOk);
  CHECK(c.Command({"EXISTS", "x"}) == Reply::Int(0));
  CHECK(c.Command({"FLUSHALL", "FOO"}) == Reply::Error("ERR syntax error"));
  SetMany(c, {"z"});
  CHECK(c.Command({"FLUSHDB"}) == kOk);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(0));
}

TEST_CASE("SCAN returns every key that exists throughout, despite writes between calls") {
  // Also with a tiny memtable, where the writes between calls keep moving keys to disk segments
  // (and merging those) under the cursor.
  for (const dynakv::itest::Flags& flags :
       {dynakv::itest::Flags{}, dynakv::itest::Flags{"--maxmemory", "64kb"}}) {
    std::string config = flags.empty() ? "defaults" : flags[0] + " " + flags[1];
    CAPTURE(config);
    ServerFixture f(flags);
    Client& c = f.client;
    std::vector<std::string> stable;
    for (int i = 0; i < 2000; ++i) stable.push_back("stable:" + std::to_string(i));
    SetMany(c, stable);
    std::set<std::string> seen;
    std::string cursor = "0";
    int churn = 0;
    for (int round = 0; round < 100000; ++round) {
      Reply r = c.Command({"SCAN", cursor, "COUNT", "20"});
      REQUIRE(r.elements.size() == 2);
      for (const std::string& key : SortedStrings(r.elements[1])) seen.insert(key);
      cursor = r.elements[0].str;
      if (cursor == "0") break;
      // Between calls: new keys, deletes of earlier new keys, overwrites of stable ones.
      std::vector<std::string> fresh;
      for (int i = 0; i < 20; ++i) fresh.push_back("churn:" + std::to_string(churn++));
      SetMany(c, fresh);
      for (int i = churn - 30; i >= 0 && i < churn - 20; ++i) {
        c.Command({"DEL", "churn:" + std::to_string(i)});
      }
      for (int i = 0; i < 5; ++i) {
        REQUIRE(c.Command({"SET", stable[(round * 37 + i * 401) % stable.size()], "changed"}) ==
                kOk);
      }
    }
    CHECK(cursor == "0");
    int missing = 0;
    for (const std::string& key : stable) missing += seen.count(key) == 0 ? 1 : 0;
    CHECK(missing == 0);
    for (const std::string& key : seen) {
      CAPTURE(key);
      CHECK((key.starts_with("stable:") || key.starts_with("churn:")));
    }
  }
}
