// KEYS and SCAN MATCH patterns: a hostile pattern must not crash or stall the node, and every
// pattern must select the keys Redis 7 selects (compared against the installed redis-server).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using std::chrono::seconds;

namespace {

std::string Repeat(const std::string& part, int times) {
  std::string out;
  out.reserve(part.size() * static_cast<std::size_t>(times));
  for (int i = 0; i < times; ++i) out += part;
  return out;
}

// Every key SCAN MATCH `pattern` returns, following the cursor to the end (bounded).
std::vector<std::string> ScanAll(Client& client, const std::string& pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  for (int round = 0; round < 10000; ++round) {
    Reply reply = client.Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "100"});
    REQUIRE(reply.type == Reply::Type::kArray);
    REQUIRE(reply.elements.size() == 2);
    for (const Reply& key : reply.elements[1].elements) keys.push_back(key.str);
    cursor = reply.elements[0].str;
    if (cursor == "0") break;
  }
  CHECK(cursor == "0");
  return keys;
}

std::vector<std::string> Sorted(const Reply& reply) {
  std::vector<std::string> keys;
  for (const Reply& key : reply.elements) keys.push_back(key.str);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

TEST_CASE("KEYS and SCAN MATCH with a '*' per byte of a 200 KB key answer, without crashing") {
  ServerFixture f;
  const std::string key(200 * 1000, 'a');
  REQUIRE(f.client.Command({"SET", key, "v"}) == Reply::Status("OK"));
  REQUIRE(f.client.Command({"SET", "other", "v"}) == Reply::Status("OK"));
  // One stack frame per '*' overflowed the node's stack here.
  const std::string pattern = Repeat("*a", 200 * 1000) + "b";
  const auto start = std::chrono::steady_clock::now();
  CHECK(f.client.Command({"KEYS", pattern}) == Reply::Array({}));
  CHECK(ScanAll(f.client, pattern).empty());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < seconds(5));
  REQUIRE(f.server.Alive());
  CHECK(f.client.Command({"PING"}) == Reply::Status("PONG"));
  // Patterns that do match such keys still do.
  CHECK(f.client.Command({"KEYS", Repeat("*a", 1000)}) == Reply::Bulks({key}));
  CHECK(ScanAll(f.client, "a*a") == std::vector<std::string>{key});
}

namespace {

// Patterns and keys over a small alphabet dense in glob syntax, so that random ones hit the odd
// cases (unterminated and empty classes, ranges with '-' or ']' at their ends, escapes at the end
// of a pattern or a class, bytes above 0x7f in ranges).
class PatternGenerator {
 public:
  explicit PatternGenerator(std::uint64_t seed) : rng_(seed) {}

  std::string Pattern() { return Draw("ab*?[]^-\\!Ax\x80\xff", 1 + Pick(9)); }
  std::string Key() { return Draw("ab-]*[\\!Ax^?\x80\xff", 1 + Pick(6)); }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  std::string Draw(std::string_view alphabet, int length) {
    std::string out;
    for (int i = 0; i < length; ++i) out += alphabet[Pick(static_cast<int>(alphabet.size()))];
    return out;
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("KEYS and SCAN MATCH select the keys Redis 7 selects") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());

  PatternGenerator gen(42);
  std::vector<std::string> keys = {"a", "b", "ab", "aab", "-",    "]",    "[",   "\\",   "*", "?",
                                   "^", "!", "A",  "a\\", "\x80", "\xff", "a-b", "[ab]", "x"};
  for (int i = 0; i < 150; ++i) keys.push_back(gen.Key());
  for (const std::string& key : keys) {
    REQUIRE(a.Command({"SET", key, "v"}) == Reply::Status("OK"));
    REQUIRE(b.Command({"SET", key, "v"}) == Reply::Status("OK"));
  }
  REQUIRE(a.Command({"DBSIZE"}) == b.Command({"DBSIZE"}));

  std::vector<std::string> patterns = {"[!a]",
                                       "[a-]",
                                       "[a-]x",
                                       "[z-a]",
                                       "[^z-a]",
                                       "a\\",
                                       "\\",
                                       "[\\",
                                       "[a\\",
                                       "[]a]",
                                       "[]",
                                       "[^]",
                                       "[^",
                                       "[",
                                       "[ab",
                                       "x[a-",
                                       "[a-c-e]",
                                       "*[a",
                                       "*\\*",
                                       "[\\-]",
                                       "[a\\-z]",
                                       "?*?",
                                       "[\x01-\xff]",
                                       "[\x80-\xff]",
                                       "[\x7f-\x80]",
                                       "*\xff",
                                       "[A-a]",
                                       "[a-A]",
                                       Repeat("*a", 1001),
                                       Repeat("*a", 1000) + "*",
                                       Repeat("a*", 1001)};
  for (int i = 0; i < 3000; ++i) patterns.push_back(gen.Pattern());
  int mismatches = 0;
  for (const std::string& pattern : patterns) {
    const Reply want = b.Command({"KEYS", pattern});
    REQUIRE(want.type == Reply::Type::kArray);
    const Reply got = a.Command({"KEYS", pattern});
    REQUIRE(got.type == Reply::Type::kArray);
    if (Sorted(got) == Sorted(want)) continue;
    if (++mismatches <= 10) {
      const Reply quoted = Reply::Bulk(pattern);
      CAPTURE(quoted);
      CAPTURE(got);
      CAPTURE(want);
      FAIL_CHECK("KEYS selects other keys than Redis");
    }
  }
  CHECK(mismatches == 0);
  // SCAN MATCH filters with the same matcher.
  for (int i = 0; i < 200; ++i) {
    const std::string& pattern = patterns[static_cast<std::size_t>(i) * 7 % patterns.size()];
    const Reply quoted = Reply::Bulk(pattern);
    CAPTURE(quoted);
    std::vector<std::string> scanned = ScanAll(a, pattern);
    std::sort(scanned.begin(), scanned.end());
    CHECK(scanned == Sorted(b.Command({"KEYS", pattern})));
  }
}
