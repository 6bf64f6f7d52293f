#include "types/set.h"

#include <algorithm>
#include <charconv>

#include "field_table.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {

// The serialized form's flags byte: the set was a hashtable, and stays one (Redis never converts
// back, and RENAME, COPY and replay keep what the set had become).
constexpr unsigned char kFlagHashtable = 1;

// An intset member's text; the view points into `buf`.
std::string_view Format(std::int64_t v, char (&buf)[24]) {
  const std::to_chars_result end = std::to_chars(buf, buf + sizeof(buf), v);
  return {buf, static_cast<std::size_t>(end.ptr - buf)};
}

}  // namespace

Set::Set() = default;
Set::~Set() = default;

bool Set::AsInteger(std::string_view member, std::int64_t* value) {
  // Redis's string2ll: at most 20 characters, and the text must be the number's own canonical
  // form (parsing then formatting gives it back).
  if (member.empty() || member.size() > 20) return false;
  std::int64_t v = 0;
  const std::from_chars_result r = std::from_chars(member.data(), member.data() + member.size(), v);
  if (r.ec != std::errc() || r.ptr != member.data() + member.size()) return false;
  char buf[24];
  if (Format(v, buf) != member) return false;
  *value = v;
  return true;
}

std::size_t Set::MemoryUsage() const {
  return sizeof(Set) +
         (table_ ? sizeof(FieldTable) + table_->bytes() : ints_.capacity() * sizeof(std::int64_t));
}

std::unique_ptr<storage::ObjectSnapshot> Set::StartSnapshot() {
  if (!table_) return nullptr;
  const char prefix[2] = {static_cast<char>(ValueType::kSet), static_cast<char>(kFlagHashtable)};
  return SnapshotTable(std::string_view(prefix, 2), table_.get(), /*with_values=*/false);
}

void Set::EndSnapshot() {
  if (table_) table_->EndSnapshot();
}

std::string_view Set::EncodingName() const { return table_ ? "hashtable" : "intset"; }

std::size_t Set::size() const { return table_ ? table_->size() : ints_.size(); }

void Set::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(ValueType::kSet));
  out->push_back(static_cast<char>(table_ ? kFlagHashtable : 0));
  PutVarint(out, size());
  ForEach([out](std::string_view member) {
    PutVarint(out, member.size());
    out->append(member);
  });
}

void Set::SerializeMembers(const std::vector<std::string>& members, std::string* out) {
  out->push_back(static_cast<char>(ValueType::kSet));
  out->push_back(0);
  PutVarint(out, members.size());
  for (const std::string& member : members) {
    PutVarint(out, member.size());
    out->append(member);
  }
}

std::unique_ptr<Set> Set::Decode(std::string_view in, const TypeLimits& limits) {
  if (in.size() < 2 || static_cast<ValueType>(in.front()) != ValueType::kSet) return nullptr;
  const auto flags = static_cast<unsigned char>(in[1]);
  if ((flags & ~kFlagHashtable) != 0) return nullptr;
  in.remove_prefix(2);
  std::uint64_t count;
  if (!GetVarint(&in, &count) || count > in.size()) return nullptr;
  auto set = std::make_unique<Set>();
  bool compact = (flags & kFlagHashtable) == 0 && count <= limits.set_max_intset_entries;
  std::string_view members = in;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view m;
    if (!GetLengthPrefixed(&in, &m)) return nullptr;
    std::int64_t v;
    if (compact && !AsInteger(m, &v)) compact = false;
  }
  if (!in.empty()) return nullptr;
  if (compact) {
    set->ints_.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      std::string_view m;
      GetLengthPrefixed(&members, &m);
      std::int64_t v = 0;
      AsInteger(m, &v);
      set->ints_.push_back(v);
    }
    std::sort(set->ints_.begin(), set->ints_.end());
    if (std::adjacent_find(set->ints_.begin(), set->ints_.end()) != set->ints_.end()) {
      return nullptr;  // a member twice: not our encoding
    }
    return set;
  }
  set->table_ = std::make_unique<FieldTable>();
  set->table_->Reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view m;
    GetLengthPrefixed(&members, &m);
    if (!set->table_->Set(m, {})) return nullptr;
  }
  return set;
}

bool Set::Contains(std::string_view member) const {
  if (table_) return table_->Get(member).has_value();
  std::int64_t v;
  return AsInteger(member, &v) && std::binary_search(ints_.begin(), ints_.end(), v);
}

void Set::ConvertToTable() {
  auto table = std::make_unique<FieldTable>();
  char buf[24];
  for (std::int64_t v : ints_) table->Set(Format(v, buf), {});
  table_ = std::move(table);
  ints_ = std::vector<std::int64_t>();
}

bool Set::Add(std::string_view member, const TypeLimits& limits) {
  if (!table_) {
    std::int64_t v;
    if (AsInteger(member, &v)) {
      const auto it = std::lower_bound(ints_.begin(), ints_.end(), v);
      if (it != ints_.end() && *it == v) return false;
      ints_.insert(it, v);
      if (ints_.size() > limits.set_max_intset_entries) ConvertToTable();
      return true;
    }
    ConvertToTable();
  }
  return table_->Set(member, {});
}

bool Set::Remove(std::string_view member) {
  if (table_) return table_->Remove(member);
  std::int64_t v;
  if (!AsInteger(member, &v)) return false;
  const auto it = std::lower_bound(ints_.begin(), ints_.end(), v);
  if (it == ints_.end() || *it != v) return false;
  ints_.erase(it);
  if (ints_.capacity() > 4 * ints_.size() + 16) ints_.shrink_to_fit();
  return true;
}

void Set::ForEach(const Visitor& fn) const {
  if (table_) {
    table_->ForEach([&fn](std::string_view member, std::string_view) { fn(member); });
    return;
  }
  char buf[24];
  for (std::int64_t v : ints_) fn(Format(v, buf));
}

std::uint64_t Set::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  if (table_) {
    return table_->Scan(cursor, count,
                        [&fn](std::string_view member, std::string_view) { fn(member); });
  }
  ForEach(fn);
  return 0;
}

std::string Set::Random(std::mt19937_64& rng) const {
  if (table_) return std::string(table_->Random(rng).first);
  char buf[24];
  return std::string(Format(ints_[static_cast<std::size_t>(rng() % ints_.size())], buf));
}

}  // namespace dynakv::types
