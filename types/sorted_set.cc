#include "types/sorted_set.h"

#include <cmath>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "types/ops.h"
#include "zskiplist.h"

namespace dynakv::types {

namespace {

// The serialized form's flags byte: the set was a skiplist, and stays one (Redis never converts
// back, and RENAME, COPY and replay keep what the set had become).
constexpr unsigned char kFlagSkiplist = 1;

double DecodeScore(std::string_view bytes) {
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) {
    bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  double score;
  std::memcpy(&score, &bits, sizeof(score));
  return score;
}

// Reads one listpack entry at *in.
bool NextEntry(std::string_view* in, std::string_view* member, double* score) {
  if (in->size() < 8) return false;
  *score = DecodeScore(*in);
  in->remove_prefix(8);
  return GetLengthPrefixed(in, member);
}

void AppendEntry(std::string* dst, std::string_view member, double score) {
  AppendScoredEntry(dst, member, score);
}

// Redis's order: score, then member bytes.
bool Before(double score, std::string_view member, double other_score,
            std::string_view other_member) {
  return score < other_score || (score == other_score && member < other_member);
}

}  // namespace

SortedSet::SortedSet() = default;
SortedSet::~SortedSet() = default;

std::size_t SortedSet::MemoryUsage() const {
  if (list()) return sizeof(SortedSet) + sizeof(ZSkiplist) + list()->bytes();
  return sizeof(SortedSet) + rep_.listpack().allocated();
}

std::unique_ptr<storage::ObjectSnapshot> SortedSet::StartSnapshot() {
  if (!list()) return nullptr;
  std::unique_ptr<ZSkiplist::Snapshot> snapshot = list()->StartSnapshot();
  std::string header;
  header.push_back(static_cast<char>(ValueType::kSortedSet));
  header.push_back(static_cast<char>(kFlagSkiplist));
  PutVarint(&header, snapshot->size());
  return WithHeader(std::move(header), std::move(snapshot));
}

void SortedSet::EndSnapshot() {
  if (list()) list()->EndSnapshot();
}

std::string_view SortedSet::EncodingName() const { return list() ? "skiplist" : "listpack"; }

std::size_t SortedSet::size() const { return list() ? list()->size() : rep_.listpack().count(); }

void SortedSet::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(ValueType::kSortedSet));
  out->push_back(static_cast<char>(list() ? kFlagSkiplist : 0));
  PutVarint(out, size());
  if (!list()) {
    out->append(rep_.listpack().view());  // the listpack body is the serialized entries already
    return;
  }
  out->reserve(out->size() + list()->bytes());
  list()->Walk(0, false, [&](std::string_view member, double score) {
    AppendEntry(out, member, score);
    return true;
  });
}

std::string SortedSet::SerializeEntries(
    const std::vector<std::pair<std::string_view, double>>& ascending) {
  std::string out;
  out.push_back(static_cast<char>(ValueType::kSortedSet));
  out.push_back(0);
  PutVarint(&out, ascending.size());
  for (const auto& [member, score] : ascending) AppendEntry(&out, member, score);
  return out;
}

std::unique_ptr<SortedSet> SortedSet::Decode(std::string_view in, const TypeLimits& limits) {
  if (in.size() < 2 || static_cast<ValueType>(in.front()) != ValueType::kSortedSet) return nullptr;
  const auto flags = static_cast<unsigned char>(in[1]);
  if ((flags & ~kFlagSkiplist) != 0) return nullptr;
  in.remove_prefix(2);
  std::uint64_t count;
  if (!GetVarint(&in, &count) || count > in.size()) return nullptr;
  auto set = std::make_unique<SortedSet>();
  bool compact = (flags & kFlagSkiplist) == 0 && count <= limits.zset_max_listpack_entries;
  const std::string_view entries = in;
  bool first = true;
  double last_score = 0;
  std::string_view last_member;
  bool negative_zero = false;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view member;
    double score;
    if (!NextEntry(&in, &member, &score) || std::isnan(score)) return nullptr;
    // Strictly ascending: anything else is not our encoding.
    if (!first && !Before(last_score, last_member, score, member)) return nullptr;
    first = false;
    last_score = score;
    last_member = member;
    if (member.size() > limits.zset_max_listpack_value) compact = false;
    if (score == 0 && std::signbit(score)) negative_zero = true;
  }
  if (!in.empty()) return nullptr;
  if (!Listpack::SafeToAdd(0, entries.size())) compact = false;
  if (compact) {
    // A member twice is not our encoding (the order check only sees neighbours).
    std::unordered_set<std::string_view> seen;
    in = entries;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::string_view member;
      double score;
      NextEntry(&in, &member, &score);
      if (!seen.insert(member).second) return nullptr;
    }
    if (!negative_zero) {
      set->rep_.listpack().Assign(entries, count);
    } else {  // a listpack keeps an integral score as an integer: -0 becomes 0, as in Redis
      in = entries;
      std::string rewritten;
      for (std::uint64_t i = 0; i < count; ++i) {
        std::string_view member;
        double score;
        NextEntry(&in, &member, &score);
        AppendEntry(&rewritten, member, score == 0 ? 0.0 : score);
      }
      set->rep_.listpack().Assign(rewritten, count);
    }
    return set;
  }
  auto list = std::make_unique<ZSkiplist>();
  in = entries;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view member;
    double score;
    NextEntry(&in, &member, &score);
    if (!list->Add(member, score)) return nullptr;  // a member twice
  }
  set->rep_.ConvertTo(std::move(list));
  return set;
}

std::size_t SortedSet::Find(std::string_view member, double* score) const {
  std::string_view in = rep_.listpack().view();
  while (!in.empty()) {
    const std::size_t at = rep_.listpack().size() - in.size();
    std::string_view m;
    double s;
    NextEntry(&in, &m, &s);
    if (m == member) {
      *score = s;
      return at;
    }
  }
  return std::string::npos;
}

std::optional<double> SortedSet::Score(std::string_view member) const {
  if (list()) return list()->Score(member);
  double score;
  if (Find(member, &score) == std::string::npos) return std::nullopt;
  return score;
}

void SortedSet::ListpackInsert(std::string_view member, double score) {
  // Redis's listpack stores an integral score as an integer: -0 comes back as 0.
  if (score == 0) score = 0;
  std::string_view in = rep_.listpack().view();
  std::size_t at = rep_.listpack().size();
  while (!in.empty()) {
    const std::size_t here = rep_.listpack().size() - in.size();
    std::string_view m;
    double s;
    NextEntry(&in, &m, &s);
    if (Before(score, member, s, m)) {
      at = here;
      break;
    }
  }
  std::string entry;
  AppendEntry(&entry, member, score);
  rep_.listpack().Replace(at, 0, entry);
  rep_.listpack().set_count(rep_.listpack().count() + 1);
}

void SortedSet::ListpackErase(std::size_t at) {
  std::string_view in = rep_.listpack().view().substr(at);
  const std::size_t before = in.size();
  std::string_view m;
  double s;
  NextEntry(&in, &m, &s);
  rep_.listpack().Replace(at, before - in.size(), {});
  rep_.listpack().set_count(rep_.listpack().count() - 1);
}

void SortedSet::ConvertToSkiplist() {
  auto list = std::make_unique<ZSkiplist>();
  std::string_view in = rep_.listpack().view();
  std::string_view m;
  double s;
  while (NextEntry(&in, &m, &s)) list->Add(m, s);
  rep_.ConvertTo(std::move(list));
}

bool SortedSet::Add(std::string_view member, double score, const TypeLimits& limits) {
  if (!list()) {
    double old;
    const std::size_t at = Find(member, &old);
    if (at != std::string::npos) {
      if (old != score) {
        ListpackErase(at);
        ListpackInsert(member, score);
      }
      return false;
    }
    if (rep_.listpack().count() + 1 > limits.zset_max_listpack_entries ||
        member.size() > limits.zset_max_listpack_value ||
        !Listpack::SafeToAdd(rep_.listpack().size(), member.size() + 18)) {
      ConvertToSkiplist();
    } else {
      ListpackInsert(member, score);
      return true;
    }
  }
  return list()->Add(member, score);
}

bool SortedSet::Remove(std::string_view member) {
  if (list()) return list()->Remove(member);
  double score;
  const std::size_t at = Find(member, &score);
  if (at == std::string::npos) return false;
  ListpackErase(at);
  return true;
}

std::optional<std::size_t> SortedSet::Rank(std::string_view member) const {
  if (list()) return list()->Rank(member);
  std::string_view in = rep_.listpack().view();
  std::string_view m;
  double s;
  for (std::size_t rank = 0; NextEntry(&in, &m, &s); ++rank) {
    if (m == member) return rank;
  }
  return std::nullopt;
}

std::size_t SortedSet::CountLeading(const Pred& before) const {
  if (list()) return list()->CountLeading(before);
  std::string_view in = rep_.listpack().view();
  std::string_view m;
  double s;
  std::size_t n = 0;
  while (NextEntry(&in, &m, &s) && before(m, s)) ++n;
  return n;
}

void SortedSet::Walk(std::size_t rank, bool reverse, const Visitor& fn) const {
  if (list()) {
    list()->Walk(rank, reverse, fn);
    return;
  }
  if (rank >= rep_.listpack().count()) return;
  std::string_view in = rep_.listpack().view();
  std::string_view m;
  double s;
  if (!reverse) {
    for (std::size_t i = 0; NextEntry(&in, &m, &s); ++i) {
      if (i >= rank && !fn(m, s)) return;
    }
    return;
  }
  // Entries are only walkable forwards: a listpack is small, so collect the prefix first.
  std::vector<std::pair<std::string_view, double>> prefix;
  prefix.reserve(rank + 1);
  while (prefix.size() <= rank && NextEntry(&in, &m, &s)) prefix.emplace_back(m, s);
  for (std::size_t i = prefix.size(); i-- > 0;) {
    if (!fn(prefix[i].first, prefix[i].second)) return;
  }
}

std::uint64_t SortedSet::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  if (list()) return list()->Scan(cursor, count, fn);
  Walk(0, false, fn);
  return 0;
}

std::pair<std::string_view, double> SortedSet::Random(std::mt19937_64& rng) const {
  if (list()) return list()->Random(rng);
  std::size_t pick = static_cast<std::size_t>(rng() % rep_.listpack().count());
  std::pair<std::string_view, double> out;
  Walk(pick, false, [&](std::string_view m, double s) {
    out = {m, s};
    return false;
  });
  return out;
}

}  // namespace dynakv::types
