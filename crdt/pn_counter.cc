#include "crdt/pn_counter.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace dynakv::crdt {

namespace {

constexpr char kFormat = 1;  // first byte of an encoded counter
constexpr char kDeletedFlag = 1;

void PutVarint(std::string* dst, std::uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

void PutSigned(std::string* dst, std::int64_t v) {  // zigzag
  PutVarint(dst, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void PutString(std::string* dst, std::string_view s) {
  PutVarint(dst, s.size());
  dst->append(s);
}

bool GetVarint(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    // The tenth byte may only carry the top bit; a zero continuation byte is a second
    // encoding of the same number, which a canonical format must not accept.
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && shift > 0) return false;
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetSigned(std::string_view* in, std::int64_t* v) {
  std::uint64_t raw;
  if (!GetVarint(in, &raw)) return false;
  *v = static_cast<std::int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  return true;
}

bool GetString(std::string_view* in, std::string* s) {
  std::uint64_t size;
  if (!GetVarint(in, &size) || size > in->size()) return false;
  s->assign(in->substr(0, size));
  in->remove_prefix(size);
  return true;
}

void PutEntries(std::string* dst, const PnCounter::Entries& entries) {
  PutVarint(dst, entries.size());
  for (const auto& [actor, entry] : entries) {
    PutString(dst, actor);
    PutVarint(dst, entry.p);
    PutVarint(dst, entry.n);
  }
}

bool GetEntries(std::string_view* in, PnCounter::Entries* entries) {
  std::uint64_t count;
  // Each entry takes three bytes at least: a bound on what a corrupt count may reserve.
  if (!GetVarint(in, &count) || count > in->size() / 3) return false;
  std::string previous;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string actor;
    PnCounter::Entry entry;
    if (!GetString(in, &actor) || !GetVarint(in, &entry.p) || !GetVarint(in, &entry.n)) {
      return false;
    }
    if ((i > 0 && actor <= previous) || entry == PnCounter::Entry{}) return false;
    previous = actor;
    entries->emplace_hint(entries->end(), std::move(actor), entry);
  }
  return true;
}

void JoinEntries(PnCounter::Entries* into, const PnCounter::Entries& from) {
  for (const auto& [actor, entry] : from) {
    PnCounter::Entry& mine = (*into)[actor];
    mine.p = std::max(mine.p, entry.p);
    mine.n = std::max(mine.n, entry.n);
  }
}

PnCounter::Entry FloorOf(const PnCounter::Entries& floor, const std::string& actor) {
  auto it = floor.find(actor);
  return it == floor.end() ? PnCounter::Entry{} : it->second;
}

}  // namespace

bool PnCounter::Increment(std::string_view actor, std::int64_t delta) {
  if (delta == 0) return true;
  auto it = entries_.find(actor);
  Entry entry = it == entries_.end() ? Entry{} : it->second;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  if (delta > 0) {
    const auto amount = static_cast<std::uint64_t>(delta);
    if (entry.p > kMax - amount) return false;
    entry.p += amount;
  } else {
    // -delta as unsigned: defined for INT64_MIN too.
    const std::uint64_t amount = ~static_cast<std::uint64_t>(delta) + 1;
    if (entry.n > kMax - amount) return false;
    entry.n += amount;
  }
  if (it == entries_.end()) {
    entries_.emplace(std::string(actor), entry);
  } else {
    it->second = entry;
  }
  return true;
}

void PnCounter::ApplyReset(Reset reset) {
  JoinEntries(&entries_, reset.floor);
  if (reset_ < reset) reset_ = std::move(reset);
}

void PnCounter::Join(const PnCounter& other) {
  JoinEntries(&entries_, other.entries_);
  if (reset_ < other.reset_) reset_ = other.reset_;
}

bool PnCounter::Exists() const {
  if (!reset_.deleted) return true;
  for (const auto& [actor, entry] : entries_) {
    if (entry != FloorOf(reset_.floor, actor)) return true;
  }
  return false;
}

std::int64_t PnCounter::Value() const {
  __int128 sum = reset_.base;
  for (const auto& [actor, entry] : entries_) {
    const Entry floor = FloorOf(reset_.floor, actor);
    // Entries never drop below the floor (ApplyReset joins it in, Decode checks), but a floor
    // the entries do not reach would only shift the sum, never wrap it: 128 bits hold both.
    sum += static_cast<__int128>(entry.p) - static_cast<__int128>(floor.p);
    sum -= static_cast<__int128>(entry.n) - static_cast<__int128>(floor.n);
  }
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(std::clamp<__int128>(sum, kMin, kMax));
}

void PnCounter::EncodeTo(std::string* dst) const {
  dst->push_back(kFormat);
  dst->push_back(reset_.deleted ? kDeletedFlag : 0);
  PutSigned(dst, reset_.timestamp_us);
  PutString(dst, reset_.origin);
  PutSigned(dst, reset_.base);
  PutSigned(dst, reset_.expire_at_ms);
  PutEntries(dst, reset_.floor);
  PutEntries(dst, entries_);
}

std::string PnCounter::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

bool PnCounter::Decode(std::string_view bytes, PnCounter* counter) {
  if (bytes.size() < 2 || bytes[0] != kFormat) return false;
  const char flags = bytes[1];
  if ((flags & ~kDeletedFlag) != 0) return false;
  bytes.remove_prefix(2);
  PnCounter decoded;
  decoded.reset_.deleted = (flags & kDeletedFlag) != 0;
  if (!GetSigned(&bytes, &decoded.reset_.timestamp_us) ||
      !GetString(&bytes, &decoded.reset_.origin) || !GetSigned(&bytes, &decoded.reset_.base) ||
      !GetSigned(&bytes, &decoded.reset_.expire_at_ms) ||
      !GetEntries(&bytes, &decoded.reset_.floor) || !GetEntries(&bytes, &decoded.entries_) ||
      !bytes.empty()) {
    return false;
  }
  for (const auto& [actor, floor] : decoded.reset_.floor) {
    auto it = decoded.entries_.find(actor);
    if (it == decoded.entries_.end() || it->second.p < floor.p || it->second.n < floor.n) {
      return false;
    }
  }
  *counter = std::move(decoded);
  return true;
}

}  // namespace dynakv::crdt
