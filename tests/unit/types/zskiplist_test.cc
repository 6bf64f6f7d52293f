// The skiplist encoding's node layout (members inline, level-0 spans implied, the member index
// threaded through the nodes) against a reference model: every operation, ranks and walks from
// every end, score moves in place and across neighbours, the index across growth and shrinkage
// (ZSCAN's cursor guarantee), members of every length (the inline bytes follow a variable
// number of levels), and snapshots: what one serializes is the list as it was when it started,
// whatever the owner changed meanwhile (on the same thread in turn, and on two at once).
#include "zskiplist.h"

#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "types/ops.h"

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

// z.Add(member, score) and the same change to the reference model (ordered, scores).
void AddToBoth(ZSkiplist& z, Ordered* ordered, std::map<std::string, double>* scores,
               const std::string& member, double score) {
  const auto it = scores->find(member);
  CHECK(z.Add(member, score) == (it == scores->end()));
  if (it != scores->end()) ordered->erase({it->second, member});
  ordered->insert({score, member});
  (*scores)[member] = score;
}

// What a snapshot serialized, parsed back: (member, score) in order.
std::vector<std::pair<std::string, double>> ParseSnapshot(std::string_view in) {
  std::vector<std::pair<std::string, double>> out;
  while (!in.empty()) {
    REQUIRE(in.size() >= 8);
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    }
    double score;
    std::memcpy(&score, &bits, sizeof(score));
    in.remove_prefix(8);
    std::string_view member;
    REQUIRE(GetLengthPrefixed(&in, &member));
    out.emplace_back(member, score);
  }
  return out;
}

std::string SerializeSnapshot(ZSkiplist::Snapshot* snapshot) {
  std::string out;
  snapshot->Serialize(&out);
  return out;
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
      AddToBoth(z, &ordered, &scores, member, score);
    }
    if (step % 997 == 0) CheckAgainst(z, ordered, scores);
  }
  CheckAgainst(z, ordered, scores);
  CHECK_FALSE(z.Score("absent").has_value());
  CHECK_FALSE(z.Rank("absent").has_value());
  CHECK_FALSE(z.Remove("absent"));
}

TEST_CASE("zskiplist: members moved across a large list keep its ranks and links") {
  // Add's move walks to the old and the new place at once and corrects the new place's walk for
  // the node it passed: moves up, down, to the first and last places and onto tied scores.
  std::mt19937_64 rng(11);
  ZSkiplist z;
  Ordered ordered;
  std::map<std::string, double> scores;
  for (int step = 0; step < 40000; ++step) {
    const std::string member = "m" + std::to_string(rng() % 3000);
    const std::uint64_t pick = rng() % 20;
    const double score = pick == 0 ? -1e9 : pick == 1 ? 1e9 : static_cast<double>(rng() % 2000);
    AddToBoth(z, &ordered, &scores, member, score);
    if (step % 4999 == 0) CheckAgainst(z, ordered, scores);
  }
  CheckAgainst(z, ordered, scores);
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

TEST_CASE("zskiplist snapshot: the list as it was, after the owner changed every part of it") {
  // Scores in groups of ten equal ones, so members order ties; runs start every 16+ nodes.
  ZSkiplist z;
  for (int i = 0; i < 20000; ++i) z.Add("m" + std::to_string(100000 + i), i / 10);
  const auto at_start = Walked(z, 0, false);
  std::unique_ptr<ZSkiplist::Snapshot> snapshot = z.StartSnapshot();
  CHECK(snapshot->size() == 20000);
  CHECK(snapshot->chunk_count() > 100);
  CHECK(snapshot->chunk_count() <= 1024);
  // Scores changed in place (a member keeps its neighbours) and across them, new members
  // everywhere, before, between and after the old ones. Without the settling the serializer
  // follows the changed links (runs that no longer end where they did: wrong bytes, or a walk
  // off the end of the list).
  for (int i = 0; i < 20000; i += 3) z.Add("m" + std::to_string(100000 + i), i / 10 + 0.01);
  for (int i = 1; i < 20000; i += 7) z.Add("m" + std::to_string(100000 + i), 5000 - i / 10);
  for (int i = -5; i < 2005; ++i) z.Add("n" + std::to_string(i), i);
  CHECK(ParseSnapshot(SerializeSnapshot(snapshot.get())) == at_start);
  z.EndSnapshot();
  CHECK(z.size() == 20000 + 2010);
}

TEST_CASE("zskiplist snapshot: removals of the runs' first nodes and of their predecessors") {
  // Every member goes, first ones of runs included (a run's first node is how the serializer
  // finds it, and its predecessor's link how it stops): settled before they are unlinked and
  // freed. Then the list grows again where they were.
  ZSkiplist z;
  std::vector<std::string> members;
  for (int i = 0; i < 5000; ++i) {
    members.push_back("k" + std::to_string(10000 + i));
    z.Add(members.back(), 1.5);
  }
  const auto at_start = Walked(z, 0, false);
  std::unique_ptr<ZSkiplist::Snapshot> snapshot = z.StartSnapshot();
  for (std::size_t i = 0; i < members.size(); i += 2) REQUIRE(z.Remove(members[i]));
  for (std::size_t i = 1; i < members.size(); i += 2) REQUIRE(z.Remove(members[i]));
  CHECK(z.size() == 0);
  for (const std::string& m : members) z.Add(m + "x", 1.5);
  CHECK(ParseSnapshot(SerializeSnapshot(snapshot.get())) == at_start);
  z.EndSnapshot();
  CHECK(z.size() == 5000);
}

TEST_CASE("zskiplist snapshot: serialized on another thread while the owner writes") {
  std::mt19937_64 rng(11);
  ZSkiplist z;
  Ordered ordered;
  std::map<std::string, double> scores;
  auto add = [&](const std::string& m, double s) {
    const bool fresh = z.Add(m, s);
    auto it = scores.find(m);
    REQUIRE(fresh == (it == scores.end()));
    if (it != scores.end()) ordered.erase({it->second, m});
    scores[m] = s;
    ordered.emplace(s, m);
  };
  for (int i = 0; i < 100000; ++i) add("m" + std::to_string(rng() % 200000), rng() % 1000);
  const auto at_start = Walked(z, 0, false);
  std::unique_ptr<ZSkiplist::Snapshot> snapshot = z.StartSnapshot();
  std::string bytes;
  std::thread serializer([&] { snapshot->Serialize(&bytes); });
  // The owner adds, moves and removes meanwhile, and the member index resizes as it pleases.
  for (int i = 0; i < 100000; ++i) {
    const std::string m = "m" + std::to_string(rng() % 300000);
    if (rng() % 3 == 0) {
      auto it = scores.find(m);
      REQUIRE(z.Remove(m) == (it != scores.end()));
      if (it != scores.end()) {
        ordered.erase({it->second, m});
        scores.erase(it);
      }
    } else {
      add(m, static_cast<double>(rng() % 1000) + (rng() % 2 == 0 ? 0.5 : 0));
    }
  }
  serializer.join();
  z.EndSnapshot();
  CHECK(ParseSnapshot(bytes) == at_start);
  CheckAgainst(z, ordered, scores);
}

}  // namespace dynakv::types
