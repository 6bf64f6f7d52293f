// rdbLoadObjectType + rdbLoadObject: every value encoding Redis 6.x and 7.0 write, checked as
// Redis's deep sanitization checks them, built into this store's types.
#include <cmath>
#include <cstdlib>

#include "listpack.h"
#include "rdb/primitives.h"
#include "rdb/value.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::rdb {

namespace {

constexpr int kContainerPlain = 1;
constexpr int kContainerPacked = 2;

// zzlStrtod: a listpack or ziplist score entry's text; the whole text must be a number.
bool ParseScore(std::string_view text, double* score) {
  if (text.empty() || text.size() > 128) return false;
  const std::string copy(text);
  char* end = nullptr;
  *score = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && !std::isnan(*score);
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
  bool SetAdd(std::string_view member) {
    if (!set_) set_ = std::make_unique<types::Set>();
    return set_->Add(member, limits_);  // false: a duplicate
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

  // Pairs of a listpack or ziplist: field then value, or member then score.
  ElementVisitor HashPairs() {
    return [this](std::string_view element) {
      if (!pending_) {
        pending_ = std::string(element);
        return true;
      }
      const bool ok = HashSet(*pending_, element);
      pending_.reset();
      return ok;
    };
  }
  ElementVisitor ZsetPairs() {
    return [this](std::string_view element) {
      if (!pending_) {
        pending_ = std::string(element);
        return true;
      }
      double score;
      const bool ok = ParseScore(element, &score) && ZsetAdd(*pending_, score);
      pending_.reset();
      return ok;
    };
  }

  // The value; false for an empty one (Redis refuses empty keys) or a dangling pair half.
  bool Finish(DecodedValue* out) {
    if (pending_) return false;
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
  std::optional<std::string> pending_;
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
