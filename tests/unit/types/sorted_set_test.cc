// Sorted sets: both encodings against a reference model (std::set of (score, member)), ranks,
// ranges, the conversion thresholds, the serialized form and element operations.
#include "types/sorted_set.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "types/codec.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {

using Entries = std::vector<std::pair<std::string, double>>;

Entries Contents(const SortedSet& z, bool reverse = false) {
  Entries out;
  if (z.size() == 0) return out;
  z.Walk(reverse ? z.size() - 1 : 0, reverse, [&](std::string_view m, double s) {
    out.emplace_back(m, s);
    return true;
  });
  return out;
}

std::string Serialized(const SortedSet& z) {
  std::string out;
  z.Serialize(&out);
  return out;
}

// The reference: Redis's order is (score, member bytes).
struct Model {
  std::map<std::string, double> scores;
  std::set<std::pair<double, std::string>> order;
  bool Add(const std::string& m, double s) {
    auto it = scores.find(m);
    const bool fresh = it == scores.end();
    if (!fresh) order.erase({it->second, m});
    scores[m] = s;
    order.insert({s, m});
    return fresh;
  }
  bool Remove(const std::string& m) {
    auto it = scores.find(m);
    if (it == scores.end()) return false;
    order.erase({it->second, m});
    scores.erase(it);
    return true;
  }
  Entries Contents() const {
    Entries out;
    for (const auto& [s, m] : order) out.emplace_back(m, s);
    return out;
  }
};

void CheckAgainst(const SortedSet& z, const Model& model, std::mt19937_64& rng) {
  const Entries want = model.Contents();
  REQUIRE(z.size() == want.size());
  CHECK(Contents(z) == want);
  Entries reversed(want.rbegin(), want.rend());
  CHECK(Contents(z, true) == reversed);
  for (int probe = 0; probe < 20 && !want.empty(); ++probe) {
    const std::size_t rank = rng() % want.size();
    const auto& [member, score] = want[rank];
    CHECK(z.Rank(member) == rank);
    CHECK(z.Score(member) == score);
    // Ranges: how many entries score below `score` (an O(log n) descent for a skiplist).
    std::size_t below = 0;
    while (below < want.size() && want[below].second < score) ++below;
    CHECK(z.CountLeading([&](std::string_view, double s) { return s < score; }) == below);
    Entries from;
    z.Walk(rank, false, [&](std::string_view m, double s) {
      from.emplace_back(m, s);
      return from.size() < 3;
    });
    CHECK(from == Entries(want.begin() + static_cast<long>(rank),
                          want.begin() + static_cast<long>(std::min(want.size(), rank + 3))));
  }
  CHECK_FALSE(z.Rank("absent-member").has_value());
}

}  // namespace

TEST_CASE("sorted set listpack: ordered by score then member, moves, removal") {
  TypeLimits limits;
  SortedSet z;
  CHECK(z.encoding() == SortedSet::Encoding::kListpack);
  CHECK(z.Add("b", 1, limits));
  CHECK(z.Add("a", 1, limits));
  CHECK(z.Add("c", -std::numeric_limits<double>::infinity(), limits));
  CHECK(z.Add("d", std::numeric_limits<double>::infinity(), limits));
  CHECK_FALSE(z.Add("c", 5, limits));
  CHECK(Contents(z) == Entries{{"a", 1}, {"b", 1}, {"c", 5}, {"d", INFINITY}});
  CHECK(z.Rank("c") == 2);
  CHECK(z.Remove("a"));
  CHECK_FALSE(z.Remove("a"));
  CHECK(Contents(z) == Entries{{"b", 1}, {"c", 5}, {"d", INFINITY}});
  // -0 is stored as 0, as Redis's listpack stores integral scores as integers.
  CHECK(z.Add("zero", -0.0, limits));
  CHECK_FALSE(std::signbit(*z.Score("zero")));
  CHECK(z.EncodingName() == "listpack");
}

TEST_CASE("sorted set converts to a skiplist past either threshold, never back") {
  TypeLimits limits;
  limits.zset_max_listpack_entries = 3;
  limits.zset_max_listpack_value = 4;
  SortedSet z;
  z.Add("a", 1, limits);
  z.Add("b", 2, limits);
  z.Add("c", 3, limits);
  CHECK(z.encoding() == SortedSet::Encoding::kListpack);
  z.Add("d", 4, limits);
  CHECK(z.encoding() == SortedSet::Encoding::kSkiplist);
  CHECK(z.EncodingName() == "skiplist");
  z.Remove("d");
  z.Remove("c");
  CHECK(z.encoding() == SortedSet::Encoding::kSkiplist);

  SortedSet long_member;
  long_member.Add("abcd", 1, limits);
  CHECK(long_member.encoding() == SortedSet::Encoding::kListpack);
  long_member.Add("abcde", 1, limits);
  CHECK(long_member.encoding() == SortedSet::Encoding::kSkiplist);
  CHECK(Contents(long_member) == Entries{{"abcd", 1}, {"abcde", 1}});

  limits.zset_max_listpack_entries = 0;
  SortedSet none;
  none.Add("a", 1, limits);
  CHECK(none.encoding() == SortedSet::Encoding::kSkiplist);
}

TEST_CASE("sorted set: random operations match a reference model in both encodings") {
  for (const std::size_t entries : {std::size_t{128}, std::size_t{0}, std::size_t{16}}) {
    CAPTURE(entries);
    TypeLimits limits;
    limits.zset_max_listpack_entries = entries;
    std::mt19937_64 rng(entries + 7);
    SortedSet z;
    Model model;
    for (int i = 0; i < 4000; ++i) {
      const std::string member = "m" + std::to_string(rng() % 300);
      const double scores[] = {0, 1, 2, 2.5, -1, 1e300, -INFINITY, INFINITY};
      const double score =
          rng() % 3 == 0 ? static_cast<double>(rng() % 1000) / 7 : scores[rng() % 8];
      if (rng() % 4 == 0) {
        CHECK(z.Remove(member) == model.Remove(member));
      } else {
        CHECK(z.Add(member, score, limits) == model.Add(member, score));
      }
      if (i % 200 == 0) CheckAgainst(z, model, rng);
    }
    CheckAgainst(z, model, rng);
    // The serialized form decodes to the same set, in the same encoding.
    std::unique_ptr<SortedSet> back = SortedSet::Decode(Serialized(z), limits);
    REQUIRE(back != nullptr);
    CHECK(back->encoding() == z.encoding());
    CheckAgainst(*back, model, rng);
    // Emptied, it is Empty() (the engine then drops the key).
    for (const auto& [m, s] : model.Contents()) z.Remove(m);
    CHECK(z.Empty());
  }
}

TEST_CASE("sorted set serialized form: a stored listpack picks its encoding by today's limits") {
  TypeLimits limits;
  SortedSet z;
  for (int i = 0; i < 10; ++i) z.Add("m" + std::to_string(i), i % 3, limits);
  const std::string form = Serialized(z);
  CHECK(form[0] == static_cast<char>(ValueType::kSortedSet));
  TypeLimits tight;
  tight.zset_max_listpack_entries = 5;
  auto decoded = SortedSet::Decode(form, tight);
  REQUIRE(decoded != nullptr);
  CHECK(decoded->encoding() == SortedSet::Encoding::kSkiplist);
  CHECK(Contents(*decoded) == Contents(z));
  // SerializeEntries is that same form.
  const Entries keep = Contents(z);
  std::vector<std::pair<std::string_view, double>> view;
  for (const auto& e : keep) view.emplace_back(e.first, e.second);
  CHECK(SortedSet::SerializeEntries(view) == form);
  // Malformed forms are refused: truncated, out of order, NaN, a flag we do not know.
  CHECK(SortedSet::Decode(form.substr(0, form.size() - 1), limits) == nullptr);
  std::string bad_flag = form;
  bad_flag[1] = 2;
  CHECK(SortedSet::Decode(bad_flag, limits) == nullptr);
  std::vector<std::pair<std::string_view, double>> unordered = {{"b", 1}, {"a", 1}};
  CHECK(SortedSet::Decode(SortedSet::SerializeEntries(unordered), limits) == nullptr);
  // A stored -0 decodes as 0 into a listpack (Redis's integer form), and stays -0 in a skiplist.
  std::vector<std::pair<std::string_view, double>> zero = {{"a", -0.0}};
  CHECK_FALSE(
      std::signbit(*SortedSet::Decode(SortedSet::SerializeEntries(zero), limits)->Score("a")));
  TypeLimits none;
  none.zset_max_listpack_entries = 0;
  CHECK(std::signbit(*SortedSet::Decode(SortedSet::SerializeEntries(zero), none)->Score("a")));
  std::vector<std::pair<std::string_view, double>> twice = {{"a", 1}, {"a", 2}};
  CHECK(SortedSet::Decode(SortedSet::SerializeEntries(twice), limits) == nullptr);
  CHECK(SortedSet::Decode(SortedSet::SerializeEntries(twice), tight) == nullptr);
  tight.zset_max_listpack_entries = 0;
  CHECK(SortedSet::Decode(SortedSet::SerializeEntries(twice), tight) == nullptr);
  std::vector<std::pair<std::string_view, double>> nan = {{"a", std::nan("")}};
  CHECK(SortedSet::Decode(SortedSet::SerializeEntries(nan), limits) == nullptr);
}

TEST_CASE("sorted set element operations through the codec") {
  TypesCodec codec;
  std::unique_ptr<storage::ValueObject> created;
  std::int64_t result = 0;
  OpBuilder add(OpCode::kZsetAdd, 4);
  add.Add(EncodeScoreArg(2)).Add("b").Add(EncodeScoreArg(1)).Add("a");
  REQUIRE(codec.Apply(nullptr, add.op(), &result, &created));
  CHECK(result == 2);
  REQUIRE(created != nullptr);
  CHECK(TypeOf(created.get()) == ValueType::kSortedSet);
  auto* z = dynamic_cast<SortedSet*>(created.get());
  CHECK(Contents(*z) == Entries{{"a", 1}, {"b", 2}});
  OpBuilder move(OpCode::kZsetAdd, 2);
  move.Add(EncodeScoreArg(0)).Add("b");
  std::unique_ptr<storage::ValueObject> none;
  REQUIRE(codec.Apply(z, move.op(), &result, &none));
  CHECK(result == 0);
  CHECK(Contents(*z) == Entries{{"b", 0}, {"a", 1}});
  OpBuilder rem(OpCode::kZsetRem, 2);
  rem.Add("a").Add("zz");
  REQUIRE(codec.Apply(z, rem.op(), &result, &none));
  CHECK(result == 1);
  // A NaN or short score is refused and changes nothing.
  OpBuilder bad(OpCode::kZsetAdd, 4);
  bad.Add(EncodeScoreArg(5)).Add("c").Add("short").Add("d");
  CHECK_FALSE(codec.Apply(z, bad.op(), &result, &none));
  OpBuilder nan(OpCode::kZsetAdd, 2);
  nan.Add(EncodeScoreArg(std::nan(""))).Add("c");
  CHECK_FALSE(codec.Apply(z, nan.op(), &result, &none));
  CHECK(Contents(*z) == Entries{{"b", 0}});
  // The serialized form decodes through the codec as a zset.
  auto decoded = codec.Decode(Serialized(*z));
  REQUIRE(decoded != nullptr);
  CHECK(TypeName(TypeOf(decoded.get())) == "zset");
}

TEST_CASE("codec: decoding and applying sorted set garbage never crashes") {
  TypesCodec codec;
  codec.mutable_limits().zset_max_listpack_entries = 4;
  SortedSet z;
  for (int i = 0; i < 10; ++i) z.Add("m" + std::to_string(i), i % 3, codec.limits());
  const std::string good = Serialized(z);
  OpBuilder add(OpCode::kZsetAdd, 4);
  add.Add(EncodeScoreArg(1)).Add("a").Add(EncodeScoreArg(2)).Add("b");
  OpBuilder rem(OpCode::kZsetRem, 2);
  rem.Add("m1").Add("zz");
  std::mt19937 rng(5);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = round % 2 == 0 ? good : (round % 4 == 1 ? add.op() : rem.op());
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    if (round % 2 == 0) {
      auto decoded = codec.Decode(bytes);
      const auto* set = dynamic_cast<const SortedSet*>(decoded.get());
      if (set == nullptr) continue;
      // Whatever decoded as a sorted set is a consistent one: ordered, every member ranked.
      Entries entries = Contents(*set);
      CHECK(entries.size() == set->size());
      for (std::size_t i = 0; i < entries.size(); ++i) {
        CHECK(set->Rank(entries[i].first) == i);
        CHECK(set->Score(entries[i].first) == entries[i].second);
      }
    } else {
      std::unique_ptr<storage::ValueObject> target = codec.Decode(good);
      std::unique_ptr<storage::ValueObject> created;
      std::int64_t result = 0;
      codec.Apply(target.get(), bytes, &result, &created);
      codec.Apply(nullptr, bytes, &result, &created);
      const auto& after = dynamic_cast<const SortedSet&>(*target);
      CHECK(Contents(after).size() == after.size());
    }
  }
}

}  // namespace dynakv::types
