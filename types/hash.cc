#include "types/hash.h"

#include "field_table.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {

// The serialized form's flags byte: the hash was a hashtable, and stays one (Redis never
// converts back, and RENAME, COPY and replay keep what the hash had become).
constexpr unsigned char kFlagHashtable = 1;

// Reads one listpack entry (field and value) at *in.
bool NextPair(std::string_view* in, std::string_view* field, std::string_view* value) {
  return GetLengthPrefixed(in, field) && GetLengthPrefixed(in, value);
}

void AppendPair(std::string* dst, std::string_view field, std::string_view value) {
  PutVarint(dst, field.size());
  dst->append(field);
  PutVarint(dst, value.size());
  dst->append(value);
}

}  // namespace

Hash::Hash() = default;
Hash::~Hash() = default;

std::size_t Hash::MemoryUsage() const {
  return sizeof(Hash) +
         (table() ? sizeof(FieldTable) + table()->bytes() : rep_.listpack().allocated());
}

std::unique_ptr<storage::ObjectSnapshot> Hash::StartSnapshot() {
  if (!table()) return nullptr;
  const char prefix[2] = {static_cast<char>(ValueType::kHash), static_cast<char>(kFlagHashtable)};
  return SnapshotTable(std::string_view(prefix, 2), table(), /*with_values=*/true);
}

void Hash::EndSnapshot() {
  if (table()) table()->EndSnapshot();
}

std::string_view Hash::EncodingName() const { return table() ? "hashtable" : "listpack"; }

std::size_t Hash::size() const { return table() ? table()->size() : rep_.listpack().count(); }

void Hash::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(ValueType::kHash));
  out->push_back(static_cast<char>(table() ? kFlagHashtable : 0));
  PutVarint(out, size());
  if (!table()) {
    out->append(rep_.listpack().view());  // the listpack body is the serialized pairs already
    return;
  }
  table()->AppendPairs(out);
}

bool Hash::SerializeListpack(const std::vector<std::pair<std::string, std::string>>& pairs,
                             const TypeLimits& limits, std::string* out) {
  if (pairs.size() > limits.hash_max_listpack_entries) return false;
  for (const auto& [field, value] : pairs) {
    if (field.size() > limits.hash_max_listpack_value ||
        value.size() > limits.hash_max_listpack_value) {
      return false;
    }
  }
  out->push_back(static_cast<char>(ValueType::kHash));
  out->push_back(0);
  PutVarint(out, pairs.size());
  for (const auto& [field, value] : pairs) AppendPair(out, field, value);
  return true;
}

std::unique_ptr<Hash> Hash::Decode(std::string_view in, const TypeLimits& limits) {
  if (in.size() < 2 || static_cast<ValueType>(in.front()) != ValueType::kHash) return nullptr;
  const auto flags = static_cast<unsigned char>(in[1]);
  if ((flags & ~kFlagHashtable) != 0) return nullptr;
  in.remove_prefix(2);
  std::uint64_t count;
  if (!GetVarint(&in, &count) || count > in.size()) return nullptr;
  auto hash = std::make_unique<Hash>();
  // The pairs are checked first: a listpack is then a plain copy of them.
  bool compact = (flags & kFlagHashtable) == 0 && count <= limits.hash_max_listpack_entries;
  std::string_view pairs = in;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view f, v;
    if (!NextPair(&in, &f, &v)) return nullptr;
    if (f.size() > limits.hash_max_listpack_value || v.size() > limits.hash_max_listpack_value) {
      compact = false;
    }
  }
  if (!in.empty()) return nullptr;
  if (!Listpack::SafeToAdd(0, pairs.size())) compact = false;
  if (compact) {
    hash->rep_.listpack().Assign(pairs, count);
    return hash;
  }
  auto table = std::make_unique<FieldTable>();
  table->Reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view f, v;
    NextPair(&pairs, &f, &v);
    if (!table->Set(f, v)) return nullptr;  // a field twice: not our encoding
  }
  hash->rep_.ConvertTo(std::move(table));
  return hash;
}

std::size_t Hash::Find(std::string_view field, std::string_view* value) const {
  std::string_view in = rep_.listpack().view();
  while (!in.empty()) {
    const std::size_t at = rep_.listpack().size() - in.size();
    std::string_view f, v;
    NextPair(&in, &f, &v);
    if (f == field) {
      *value = v;
      return at;
    }
  }
  return std::string::npos;
}

std::optional<std::string_view> Hash::Get(std::string_view field) const {
  if (table()) return table()->Get(field);
  std::string_view value;
  if (Find(field, &value) == std::string::npos) return std::nullopt;
  return value;
}

void Hash::ConvertToTable() {
  auto table = std::make_unique<FieldTable>();
  std::string_view in = rep_.listpack().view();
  std::string_view f, v;
  while (NextPair(&in, &f, &v)) table->Set(f, v);
  rep_.ConvertTo(std::move(table));
}

bool Hash::Set(std::string_view field, std::string_view value, const TypeLimits& limits) {
  // A varint length is at most 10 bytes.
  if (!table() &&
      (field.size() > limits.hash_max_listpack_value ||
       value.size() > limits.hash_max_listpack_value ||
       !Listpack::SafeToAdd(rep_.listpack().size(), field.size() + value.size() + 20))) {
    ConvertToTable();
  }
  if (table()) return table()->Set(field, value);
  std::string_view old;
  const std::size_t at = Find(field, &old);
  if (at != std::string::npos) {
    // The value is replaced where it is: the field keeps its place, as in Redis's listpack.
    // The value's length prefix follows the field.
    std::string_view probe = rep_.listpack().view().substr(at);
    std::string_view f;
    GetLengthPrefixed(&probe, &f);
    const std::size_t old_start = static_cast<std::size_t>(probe.data() - rep_.listpack().data());
    const std::size_t old_end =
        static_cast<std::size_t>(old.data() - rep_.listpack().data()) + old.size();
    std::string entry;
    PutVarint(&entry, value.size());
    entry.append(value);
    rep_.listpack().Replace(old_start, old_end - old_start, entry);
    return false;
  }
  std::string entry;
  AppendPair(&entry, field, value);
  rep_.listpack().Append(entry);
  rep_.listpack().set_count(rep_.listpack().count() + 1);
  if (rep_.listpack().count() > limits.hash_max_listpack_entries) ConvertToTable();
  return true;
}

bool Hash::Remove(std::string_view field) {
  if (table()) return table()->Remove(field);
  std::string_view value;
  const std::size_t at = Find(field, &value);
  if (at == std::string::npos) return false;
  const std::size_t end =
      static_cast<std::size_t>(value.data() - rep_.listpack().data()) + value.size();
  rep_.listpack().Replace(at, end - at, {});
  rep_.listpack().set_count(rep_.listpack().count() - 1);
  return true;
}

void Hash::ForEach(const Visitor& fn) const {
  if (table()) {
    table()->ForEach(fn);
    return;
  }
  std::string_view in = rep_.listpack().view();
  std::string_view f, v;
  while (NextPair(&in, &f, &v)) fn(f, v);
}

std::uint64_t Hash::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  if (table()) return table()->Scan(cursor, count, fn);
  ForEach(fn);
  return 0;
}

std::pair<std::string_view, std::string_view> Hash::Random(std::mt19937_64& rng) const {
  if (table()) return table()->Random(rng);
  std::size_t pick = static_cast<std::size_t>(rng() % rep_.listpack().count());
  std::string_view in = rep_.listpack().view();
  std::string_view f, v;
  do {
    NextPair(&in, &f, &v);
  } while (pick-- > 0);
  return {f, v};
}

}  // namespace dynakv::types
