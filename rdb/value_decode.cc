// rdbLoadObjectType + rdbLoadObject: every value encoding Redis 6.x and 7.0 write, checked as
// Redis's deep sanitization checks them, built into this store's types.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "listpack.h"
#include "rdb/primitives.h"
#include "rdb/value.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/ops.h"
#include "types/set.h"
#include "types/sorted_set.h"
#include "types/value_type.h"

namespace dynakv::rdb {

namespace {

constexpr int kContainerPlain = 1;
constexpr int kContainerPacked = 2;

// zzlStrtod: a listpack or ziplist score entry's text; the whole text must be a number.
bool ParseScore(std::string_view text, double* score) {
  if (text.empty() || text.size() > 128) return false;
  // A plain decimal (what Redis writes) the fast way: from_chars rounds as strtod does. The
  // rest (a leading '+' or space, hex, out of range) goes to strtod as before.
  const char* last = text.data() + text.size();
  if (const auto [end, ec] = std::from_chars(text.data(), last, *score);
      ec == std::errc() && end == last) {
    return !std::isnan(*score);
  }
  char copy[129];  // strtod needs the terminator; on the stack, not a string per score
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  char* end = nullptr;
  *score = std::strtod(copy, &end);
  return end == copy + text.size() && !std::isnan(*score);
}

// Collects what a value's elements build, failing on the first bad one.
class Builder {
 public:
  explicit Builder(const types::TypeLimits& limits) : limits_(limits) {}

  bool ListPush(std::string_view element) {
    if (!list_) list_ = std::make_unique<types::List>();
    list_->PushBack(element, limits_);
    return true;
  }
  // A set's members are collected and the set is built once in Finish, as packed pairs are
  // below (Set::Decode reserves its table once; a duplicate makes it refuse the value).
  bool SetAdd(std::string_view member) {
    pairs_ = PairKind::kSet;
    ++members_;
    types::PutVarint(&body_, member.size());  // the serialized set's members (set.h)
    body_.append(member);
    return true;
  }
  bool HashSet(std::string_view field, std::string_view value) {
    if (!hash_) hash_ = std::make_unique<types::Hash>();
    return hash_->Set(field, value, limits_);
  }
  bool ZsetAdd(std::string_view member, double score) {
    if (std::isnan(score)) return false;
    if (!zset_) zset_ = std::make_unique<types::SortedSet>();
    return zset_->Add(member, score, limits_);
  }

  // Pairs of a listpack, ziplist or zipmap: field then value, or member then score. They are
  // collected and the collection is built once in Finish (the types' Decode of its serialized
  // form, which copies a compact encoding in one piece) instead of by a search and an insert per
  // element: a 10-member sorted set cost about 13,000 instructions that way.
  ElementVisitor HashPairs() {
    pairs_ = PairKind::kHash;
    return [this](std::string_view element) {
      if (!has_pending_) {
        fields_.push_back({body_.size() + VarintSize(element.size()), element.size(), 0});
        has_pending_ = true;
      } else {
        has_pending_ = false;
      }
      types::PutVarint(&body_, element.size());  // the serialized hash's pairs (hash.h)
      body_.append(element);
      return true;
    };
  }
  ElementVisitor ZsetPairs() {
    pairs_ = PairKind::kZset;
    return [this](std::string_view element) {
      if (!has_pending_) {
        fields_.push_back({body_.size(), element.size(), 0});
        body_.append(element);
        has_pending_ = true;
        return true;
      }
      has_pending_ = false;
      return ParseScore(element, &fields_.back().score);
    };
  }

  // The value; false for an empty one (Redis refuses empty keys) or a dangling pair half.
  bool Finish(DecodedValue* out) {
    if (has_pending_) return false;
    if (pairs_ == PairKind::kHash && !BuildHash()) return false;
    if (pairs_ == PairKind::kZset && !BuildZset()) return false;
    if (pairs_ == PairKind::kSet && !BuildSet()) return false;
    if (list_) out->object = std::move(list_);
    if (set_) out->object = std::move(set_);
    if (hash_) out->object = std::move(hash_);
    if (zset_) out->object = std::move(zset_);
    return out->object != nullptr;
  }

 private:
  const types::TypeLimits& limits_;
  std::unique_ptr<types::List> list_;
  std::unique_ptr<types::Set> set_;
  std::unique_ptr<types::Hash> hash_;
  std::unique_ptr<types::SortedSet> zset_;
  struct Field {
    std::size_t at;  // in body_
    std::size_t len;
    double score;  // a sorted set member's
  };

  static std::size_t VarintSize(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

  std::string_view Name(const Field& f) const { return {body_.data() + f.at, f.len}; }

  // A field or member twice makes the value corrupt, as an insert of it would have.
  bool Distinct() const {
    std::vector<std::string_view> names;
    names.reserve(fields_.size());
    for (const Field& f : fields_) names.push_back(Name(f));
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
  }

  bool BuildHash() {
    if (fields_.empty()) return true;  // no value: Finish refuses it
    if (!Distinct()) return false;
    std::string serialized;
    serialized.reserve(body_.size() + 12);
    serialized.push_back(static_cast<char>(types::ValueType::kHash));
    serialized.push_back(0);  // no encoding flag: Decode picks it by the limits
    types::PutVarint(&serialized, fields_.size());
    serialized.append(body_);
    hash_ = types::Hash::Decode(serialized, limits_);
    return hash_ != nullptr;
  }

  bool BuildSet() {
    std::string serialized;
    serialized.reserve(body_.size() + 12);
    serialized.push_back(static_cast<char>(types::ValueType::kSet));
    serialized.push_back(0);  // no encoding flag: Decode picks it by the members and the limits
    types::PutVarint(&serialized, members_);
    serialized.append(body_);
    set_ = types::Set::Decode(serialized, limits_);
    return set_ != nullptr;
  }

  bool BuildZset() {
    if (fields_.empty()) return true;
    std::vector<std::pair<std::string_view, double>> entries;
    entries.reserve(fields_.size());
    bool ascending = true;
    for (const Field& f : fields_) {
      if (std::isnan(f.score)) return false;
      const std::string_view member = Name(f);
      if (!entries.empty()) {
        const auto& [last, last_score] = entries.back();
        if (!(last_score < f.score || (last_score == f.score && last < member))) ascending = false;
      }
      entries.emplace_back(member, f.score);
    }
    if (!ascending) {
      // Not in the set's order (Redis writes it in order): added one by one, which sorts.
      for (const auto& [member, score] : entries) {
        if (!ZsetAdd(member, score)) return false;
      }
      return true;
    }
    if (!Distinct()) return false;
    zset_ = types::SortedSet::Decode(types::SortedSet::SerializeEntries(entries), limits_);
    return zset_ != nullptr;
  }

  enum class PairKind { kNone, kHash, kZset, kSet };
  PairKind pairs_ = PairKind::kNone;
  // The elements' bytes: a hash's serialized pairs, a sorted set's members, a set's serialized
  // members.
  std::string body_;
  std::uint64_t members_ = 0;  // a set's
  std::vector<Field> fields_;  // the fields or members in body_
  bool has_pending_ = false;   // the first half of a pair was seen
};

bool DecodeStrings(std::string_view* in, const std::function<bool(std::string_view)>& fn) {
  std::uint64_t n;
  if (!GetLength(in, &n)) return false;
  std::string element;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!GetString(in, &element) || !fn(element)) return false;
  }
  return true;
}

bool DecodeBlob(std::string_view* in, const std::function<bool(std::string_view)>& parse) {
  std::string blob;
  return GetString(in, &blob) && parse(blob);
}

bool DecodeQuicklist(std::string_view* in, bool version2, Builder& b) {
  std::uint64_t nodes;
  if (!GetLength(in, &nodes)) return false;
  auto push = [&](std::string_view element) { return b.ListPush(element); };
  std::string blob;
  for (std::uint64_t i = 0; i < nodes; ++i) {
    std::uint64_t container = kContainerPacked;
    if (version2 && !GetLength(in, &container)) return false;
    if (!GetString(in, &blob)) return false;
    if (container == kContainerPlain) {
      if (!push(blob)) return false;
    } else if (container != kContainerPacked) {
      return false;
    } else if (!(version2 ? ParseListpack(blob, push) : ParseZiplist(blob, push))) {
      return false;
    }
    // An empty node is skipped, as Redis does; a list left empty fails in Finish.
  }
  return true;
}

bool DecodeZset(std::string_view* in, bool binary_scores, Builder& b) {
  std::uint64_t n;
  if (!GetLength(in, &n)) return false;
  std::string member;
  for (std::uint64_t i = 0; i < n; ++i) {
    double score;
    if (!GetString(in, &member)) return false;
    if (!(binary_scores ? GetBinaryDouble(in, &score) : GetStringDouble(in, &score))) return false;
    if (!b.ZsetAdd(member, score)) return false;
  }
  return true;
}

bool DecodeHash(std::string_view* in, Builder& b) {
  std::uint64_t n;
  if (!GetLength(in, &n)) return false;
  std::string field, value;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!GetString(in, &field) || !GetString(in, &value) || !b.HashSet(field, value)) return false;
  }
  return true;
}

bool DecodeCollection(ObjectType type, std::string_view* in, Builder& b) {
  switch (type) {
    case ObjectType::kList:
      return DecodeStrings(in, [&](std::string_view e) { return b.ListPush(e); });
    case ObjectType::kListZiplist:
      return DecodeBlob(in, [&](std::string_view blob) {
        return ParseZiplist(blob, [&](std::string_view e) { return b.ListPush(e); });
      });
    case ObjectType::kListQuicklist:
      return DecodeQuicklist(in, false, b);
    case ObjectType::kListQuicklist2:
      return DecodeQuicklist(in, true, b);
    case ObjectType::kSet:
      return DecodeStrings(in, [&](std::string_view m) { return b.SetAdd(m); });
    case ObjectType::kSetIntset:
      return DecodeBlob(in, [&](std::string_view blob) {
        return ParseIntset(blob, [&](std::int64_t v) { return b.SetAdd(std::to_string(v)); });
      });
    case ObjectType::kSetListpack:
      return DecodeBlob(in, [&](std::string_view blob) {
        return ParseListpack(blob, [&](std::string_view m) { return b.SetAdd(m); });
      });
    case ObjectType::kZset:
      return DecodeZset(in, false, b);
    case ObjectType::kZset2:
      return DecodeZset(in, true, b);
    case ObjectType::kZsetZiplist:
      return DecodeBlob(in,
                        [&](std::string_view blob) { return ParseZiplist(blob, b.ZsetPairs()); });
    case ObjectType::kZsetListpack:
      return DecodeBlob(in,
                        [&](std::string_view blob) { return ParseListpack(blob, b.ZsetPairs()); });
    case ObjectType::kHash:
      return DecodeHash(in, b);
    case ObjectType::kHashZiplist:
      return DecodeBlob(in,
                        [&](std::string_view blob) { return ParseZiplist(blob, b.HashPairs()); });
    case ObjectType::kHashZipmap:
      return DecodeBlob(in,
                        [&](std::string_view blob) { return ParseZipmap(blob, b.HashPairs()); });
    case ObjectType::kHashListpack:
      return DecodeBlob(in,
                        [&](std::string_view blob) { return ParseListpack(blob, b.HashPairs()); });
    default:
      return false;
  }
}

}  // namespace

std::string_view ObjectTypeName(ObjectType type) {
  switch (type) {
    case ObjectType::kModule:
    case ObjectType::kModule2:
      return "module";
    case ObjectType::kStreamListpacks:
    case ObjectType::kStreamListpacks2:
    case ObjectType::kStreamListpacks3:
      return "stream";
    default:
      return "unknown";
  }
}

DecodeError DecodeValue(ObjectType type, std::string_view* in, const types::TypeLimits& limits,
                        DecodedValue* out) {
  out->type = type;
  out->object.reset();
  out->string.clear();
  switch (type) {
    case ObjectType::kString:
      return GetString(in, &out->string) ? DecodeError::kNone : DecodeError::kCorrupt;
    case ObjectType::kModule:
    case ObjectType::kModule2:
    case ObjectType::kStreamListpacks:
    case ObjectType::kStreamListpacks2:
    case ObjectType::kStreamListpacks3:
      return DecodeError::kUnsupported;
    default:
      break;
  }
  Builder b(limits);
  if (!DecodeCollection(type, in, b) || !b.Finish(out)) return DecodeError::kCorrupt;
  return DecodeError::kNone;
}

DecodeError DecodeTypedValue(std::string_view* in, const types::TypeLimits& limits,
                             DecodedValue* out) {
  if (in->empty()) return DecodeError::kCorrupt;
  const auto type = static_cast<ObjectType>(in->front());
  in->remove_prefix(1);
  return DecodeValue(type, in, limits, out);
}

}  // namespace dynakv::rdb
