// Merge metadata per element stays small (issue 13's target: <= 16 bytes per element on average
// for large sets). bench/crdt_metadata.cc measures 1,000,000 members; this keeps 100,000, written
// through 3 replicas that exchange deltas in random batches, one in ten members added on two
// replicas concurrently (two dots), and a tenth removed again.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "crdt/or_set.h"

namespace dynakv::crdt {

TEST_CASE("ORSet: merge metadata of a 100,000-member set written through 3 actors") {
  constexpr int kMembers = 100000;
  std::mt19937_64 rng(13);
  ORSet r[3];
  const std::string actors[3] = {"node-1:1765099533", "node-2:1765099541", "node-3:1765099548"};
  std::vector<std::vector<ORSet>> outbox(3);
  auto flush = [&](int from) {
    for (const ORSet& d : outbox[from]) {
      for (int to = 0; to < 3; ++to) {
        if (to != from) r[to].Join(d);
      }
    }
    outbox[from].clear();
  };
  for (int i = 0; i < kMembers; ++i) {
    const int w = i % 3;
    const std::string m = "member:" + std::to_string(i);
    outbox[w].push_back(r[w].Add(actors[w], m));
    if (i % 10 == 0) outbox[(w + 1) % 3].push_back(r[(w + 1) % 3].Add(actors[(w + 1) % 3], m));
    if (i % 10 == 5) outbox[w].push_back(r[w].Remove("member:" + std::to_string(i - 3)));
    if (rng() % 64 == 0) flush(static_cast<int>(rng() % 3));
  }
  for (int w = 0; w < 3; ++w) flush(w);
  const std::string bytes = r[0].Encode();
  CHECK(r[1].Encode() == bytes);
  CHECK(r[2].Encode() == bytes);
  std::size_t member_bytes = 0;
  for (const std::string& m : r[0].Members()) member_bytes += m.size();
  const double per_element =
      static_cast<double>(bytes.size() - member_bytes) / static_cast<double>(r[0].size());
  MESSAGE("members " << r[0].size() << ", encoded " << bytes.size() << " bytes, metadata "
                     << per_element << " bytes per member");
  CHECK(r[0].size() > kMembers * 8 / 10);
  CHECK(per_element <= 16.0);
  CHECK(r[0].context().DotCount() > static_cast<std::uint64_t>(kMembers));  // removes remembered
}

}  // namespace dynakv::crdt
