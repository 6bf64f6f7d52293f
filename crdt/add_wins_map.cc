#include "crdt/add_wins_map.h"

#include <limits>

namespace dynakv::crdt {

bool ParseRedisInteger(std::string_view s, std::int64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  if (s == "0") {
    *value = 0;
    return true;
  }
  std::size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) ++i;
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const std::uint64_t digit = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (v > kMax + 1) return false;
    *value = static_cast<std::int64_t>(0 - v);
  } else {
    if (v > kMax) return false;
    *value = static_cast<std::int64_t>(v);
  }
  return true;
}

AddWinsMap AddWinsMap::Set(std::string_view actor, std::string_view field,
                           std::int64_t timestamp_us, std::string_view value) {
  AddWinsMap delta;
  delta.store_ = store_.Assign(actor, field, timestamp_us, std::string(value));
  return delta;
}

std::string AddWinsMap::View(const FieldStore<TextFields>::Field& field) const {
  std::uint64_t sum = 0;
  for (std::uint64_t t : store_.TotalsInOrder(field)) sum += t;
  const auto* reg = store_.Winner(field);
  if (field.totals.empty()) return reg->value;
  std::int64_t base = 0;
  if (reg != nullptr && !ParseRedisInteger(reg->value, &base)) return reg->value;
  return std::to_string(static_cast<std::int64_t>(static_cast<std::uint64_t>(base) + sum));
}

AddWinsMap::IncrStatus AddWinsMap::IncrBy(std::string_view actor, std::string_view field,
                                          std::int64_t by, std::int64_t* result,
                                          AddWinsMap* delta) {
  std::int64_t current = 0;
  if (const auto* f = store_.Find(field)) {
    if (!ParseRedisInteger(View(*f), &current)) return IncrStatus::kNotInteger;
  }
  if (__builtin_add_overflow(current, by, result)) return IncrStatus::kOverflow;
  delta->store_ = store_.Increment(actor, field, static_cast<std::uint64_t>(by));
  return IncrStatus::kOk;
}

AddWinsMap AddWinsMap::Remove(std::string_view field) {
  AddWinsMap delta;
  delta.store_ = store_.Remove(field);
  return delta;
}

AddWinsMap AddWinsMap::Reset() {
  AddWinsMap delta;
  delta.store_ = store_.Reset();
  return delta;
}

std::optional<std::string> AddWinsMap::Get(std::string_view field) const {
  const auto* f = store_.Find(field);
  if (f == nullptr) return std::nullopt;
  return View(*f);
}

std::vector<std::pair<std::string, std::string>> AddWinsMap::Entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(store_.fields().size());
  for (const auto& [name, field] : store_.fields()) out.emplace_back(name, View(field));
  return out;
}

}  // namespace dynakv::crdt
