// The skiplist encoding's node layout (members inline, level-0 spans implied, the member index
// threaded through the nodes) against a reference model: every operation, ranks and walks from
// every end, score moves in place and across neighbours, the index across growth and shrinkage
// (ZSCAN's cursor guarantee), and members of every length (the inline bytes follow a variable
// number of levels).
#include "zskiplist.h"

#include <doctest/doctest.h>

#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dynakv::types {

namespace {

using Ordered = std::set<std::pair<double, std::string>>;

std::vector<std::pair<std::string, double>> Walked(const ZSkiplist& z, std::size_t rank,
                                                   bool reverse) {
  std::vector<std::pair<std::string, double>> out;
  z.Walk(rank, reverse, [&](std::string_view m, double s) {
    out.emplace_back(m, s);
    return true;
  });
  return out;
}

void CheckAgainst(const ZSkiplist& z, const Ordered& ordered,
                  const std::map<std::string, double>& scores) {
  REQUIRE(z.size() == ordered.size());
  std::vector<std::pair<std::string, double>> want;
  for (const auto& [s, m] : ordered) want.emplace_back(m, s);
  CHECK(Walked(z, 0, false) == want);
  if (!want.empty()) {
    auto reversed = want;
    std::reverse(reversed.begin(), reversed.end());
    CHECK(Walked(z, want.size() - 1, true) == reversed);
  }
  std::size_t rank = 0;
  for (const auto& [m, s] : want) {
    REQUIRE(z.Rank(m) == rank);
    REQUIRE(z.Score(m) == s);
    ++rank;
  }
  for (const auto& [m, s] : scores) REQUIRE(z.Score(m) == s);
}

}  // namespace

TEST_CASE("zskiplist: random operations agree with a reference model") {
  std::mt19937_64 rng(7);
  ZSkiplist z;
  Ordered ordered;
  std::map<std::string, double> scores;
  for (int step = 0; step < 20000; ++step) {
    // Members of 0 to 40 bytes; few distinct scores, so ties are ordered by member bytes.
    std::string member(rng() % 41, 'a');
    for (char& c : member) c = static_cast<char>('a' + rng() % 3);
    const double score = static_cast<double>(static_cast<int>(rng() % 50) - 25) / 2;
    const auto it = scores.find(member);
    if (rng() % 3 == 0) {
      CHECK(z.Remove(member) == (it != scores.end()));
      if (it != scores.end()) {
        ordered.erase({it->second, member});
        scores.erase(it);
      }
    } else {
      CHECK(z.Add(member, score) == (it == scores.end()));
      if (it != scores.end()) ordered.erase({it->second, member});
      ordered.insert({score, member});
      scores[member] = score;
    }
    if (step % 997 == 0) CheckAgainst(z, ordered, scores);
  }
  CheckAgainst(z, ordered, scores);
  CHECK_FALSE(z.Score("absent").has_value());
  CHECK_FALSE(z.Rank("absent").has_value());
  CHECK_FALSE(z.Remove("absent"));
}

TEST_CASE("zskiplist: a score change moves the member, in place or across its neighbours") {
  ZSkiplist z;
  for (int i = 0; i < 100; ++i) z.Add("m" + std::to_string(i), i);
  const std::size_t bytes = z.bytes();
  CHECK_FALSE(z.Add("m50", 50.5));  // stays between m50's neighbours
  CHECK(z.Rank("m50") == 50);
  CHECK_FALSE(z.Add("m50", -1));  // moves to the head
  CHECK(z.Rank("m50") == 0);
  CHECK(z.Rank("m0") == 1);
  CHECK_FALSE(z.Add("m0", 1000));  // to the tail
  CHECK(z.Rank("m0") == 99);
  CHECK(Walked(z, 99, true).front() == std::pair<std::string, double>("m0", 1000));
  CHECK(z.bytes() == bytes);  // the same nodes
  CHECK(z.size() == 100);
}

TEST_CASE("zskiplist: CountLeading counts the prefix a predicate holds for") {
  ZSkiplist z;
  for (int i = 0; i < 1000; ++i) z.Add("m" + std::to_string(i), i % 100);
  CHECK(z.CountLeading([](std::string_view, double s) { return s < 10; }) == 100);
  CHECK(z.CountLeading([](std::string_view, double s) { return s < 1000; }) == 1000);
  CHECK(z.CountLeading([](std::string_view, double s) { return s < 0; }) == 0);
}

TEST_CASE("zskiplist: a scan returns every member present throughout, across resizes") {
  ZSkiplist z;
  for (int i = 0; i < 5000; ++i) z.Add("m" + std::to_string(i), i);
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = z.Scan(cursor, 10, [&](std::string_view m, double) {
      seen.emplace(m);
      return true;
    });
    // Halfway, the index shrinks twice (a cursor may then fall inside a bucket), later it grows.
    if (++calls == 50) {
      for (int i = 1000; i < 5000; ++i) z.Remove("m" + std::to_string(i));
    }
    if (calls == 80) {
      for (int i = 0; i < 20000; ++i) z.Add("n" + std::to_string(i), i);
    }
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i) CHECK(seen.count("m" + std::to_string(i)) == 1);
}

TEST_CASE("zskiplist: random picks come from the set and reach all of it") {
  ZSkiplist z;
  for (int i = 0; i < 50; ++i) z.Add("m" + std::to_string(i), i);
  std::mt19937_64 rng(1);
  std::set<std::string> picked;
  for (int i = 0; i < 5000; ++i) {
    const auto [m, s] = z.Random(rng);
    REQUIRE(z.Score(m) == s);
    picked.emplace(m);
  }
  CHECK(picked.size() == 50);
}

TEST_CASE("zskiplist: memory grows by one small node per 14-byte member") {
  ZSkiplist z;
  const std::size_t empty = z.bytes();
  for (int i = 0; i < 100000; ++i) {
    char member[16];
    std::snprintf(member, sizeof member, "member:%07d", i);
    z.Add(member, i);
  }
  // Nodes of 54 to 90 bytes (mostly 64 allocated) and 8 bytes of index per bucket.
  const double per = static_cast<double>(z.bytes() - empty) / z.size();
  CHECK(per < 85);
  CHECK(per > 64);
}

TEST_CASE("zskiplist index: a resize moves a few buckets per change; lookups and scans meanwhile") {
  ZSkiplist z;
  std::map<std::string, double> ref;
  int i = 0;
  while (!(z.index_rehashing() && z.size() > 4096)) {
    const std::string m = "m" + std::to_string(i);
    z.Add(m, i);
    ref[m] = i++;
  }
  // Every member is found while both arrays hold some; a scan meets each once while writes
  // move the resize along under its cursor.
  for (const auto& [m, score] : ref) REQUIRE(z.Score(m) == score);
  std::multiset<std::string> seen;
  std::uint64_t cursor = 0;
  int writes = 0;
  do {
    cursor = z.Scan(cursor, 5, [&](std::string_view m, double) {
      seen.emplace(m);
      return true;
    });
    const std::string extra = "extra" + std::to_string(writes++);  // a new member: an index change
    z.Add(extra, 0);
    ref[extra] = 0;
  } while (cursor != 0);
  for (int k = 0; k < i; ++k) REQUIRE(seen.count("m" + std::to_string(k)) == 1);
  // The resize ends within the old array's size worth of index changes.
  for (int k = 0; k < 4096 && z.index_rehashing(); ++k) {
    const std::string more = "more" + std::to_string(k);
    z.Add(more, 1);
    ref[more] = 1;
  }
  CHECK_FALSE(z.index_rehashing());
  // Shrinking is incremental too, and removals during it find their members.
  bool shrank = false;
  for (auto it = ref.begin(); it != ref.end();) {
    if (std::hash<std::string>()(it->first) % 10 == 0) {
      ++it;
      continue;
    }
    REQUIRE(z.Remove(it->first));
    it = ref.erase(it);
    shrank |= z.index_rehashing();
    if (shrank) {  // lookups while the shrink runs
      for (int k = 0; k < 3; ++k) REQUIRE(z.Score(std::next(ref.begin(), k)->first).has_value());
    }
  }
  CHECK(shrank);
  for (const auto& [m, score] : ref) REQUIRE(z.Score(m) == score);
  CHECK(z.size() == ref.size());
}

}  // namespace dynakv::types
