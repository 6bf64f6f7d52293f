// Where a command's keys are in its arguments and what it does with each: Redis 7's key specs,
// written on the command table rows (command.h) exactly as `COMMAND INFO` shows them. Everything
// else about keys derives from them: COMMAND's legacy (first, last, step) range and its
// movablekeys flag, COMMAND GETKEYS, the ACL check's read/write reduction, and the keys the
// cluster coordinator reads and writes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace dynakv::server {

// Key-spec flags (Redis's CMD_KEY_*), in the order COMMAND INFO lists them. One of RO (reads
// the value, or only its existence/metadata), RW (reads and modifies), OW (overwrites without
// reading) or RM (deletes); then what happens to the value: ACCESS (it is returned or decides
// the result), UPDATE, INSERT, DELETE.
enum KeySpecFlag : std::uint16_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,      // an argument shaped like a key that is none (no ACL check)
  kKeyIncomplete = 1u << 9,  // the spec may miss keys: GETKEYS needs the row's getkeys
  // The flags depend on the arguments (SET's GET): the row's getkeys gives them per request.
  kKeyVariableFlags = 1u << 10,
};
inline constexpr int kKeySpecFlagCount = 11;
// "RO", "access", ... for one bit of KeySpecFlag.
std::string_view KeySpecFlagName(std::uint16_t bit);

// What a key needs from an ACL key pattern: ACCESS needs %R~, INSERT/DELETE/UPDATE need %W~
// (Redis's ACLSelectorCheckKey). A key with neither (EXISTS, TYPE, STRLEN: RO alone) passes any
// pattern matching it.
enum KeyAccess : std::uint8_t {
  kKeyNone = 0,
  kKeyRead = 1,
  kKeyWrite = 2,
  kKeyReadWrite = kKeyRead | kKeyWrite,
};
constexpr KeyAccess KeyAccessOf(std::uint16_t flags) {
  unsigned access = (flags & kKeyAccess) ? kKeyRead : kKeyNone;
  if (flags & (kKeyInsert | kKeyDelete | kKeyUpdate)) access |= kKeyWrite;
  return static_cast<KeyAccess>(access);
}

// One key spec: where the search for keys begins (an argument index, or the argument after a
// keyword looked for from `index` on; a negative start searches backwards from the end), and how
// the keys are found from there (a range, or a count argument).
struct KeySpec {
  enum class Begin : std::uint8_t { kNone, kIndex, kKeyword, kUnknown };
  enum class Find : std::uint8_t { kRange, kKeynum, kUnknown };
  std::uint16_t flags = 0;
  Begin begin = Begin::kNone;
  int index = 0;  // kIndex: the position; kKeyword: where the search starts (Redis's startfrom)
  std::string_view keyword = {};
  Find find = Find::kRange;
  // kRange: lastkey (relative to the first key; negative: from the end), keystep, limit.
  // kKeynum: keynumidx (relative to the first), firstkey (relative), keystep.
  int a = 0;
  int b = 0;
  int c = 0;
  std::string_view notes = {};  // Redis's note on the spec, shown by COMMAND INFO
};

// Builders for the rows, one per shape of Redis's key specs (scripts/command_row.py writes them).
constexpr KeySpec IndexRange(int pos, int lastkey, int keystep, int limit, std::uint16_t flags,
                             std::string_view notes = {}) {
  return {.flags = flags,
          .begin = KeySpec::Begin::kIndex,
          .index = pos,
          .find = KeySpec::Find::kRange,
          .a = lastkey,
          .b = keystep,
          .c = limit,
          .notes = notes};
}
// The common case: one key at `pos`.
constexpr KeySpec KeyAt(int pos, std::uint16_t flags, std::string_view notes = {}) {
  return IndexRange(pos, 0, 1, 0, flags, notes);
}
constexpr KeySpec IndexKeynum(int pos, int keynumidx, int firstkey, int keystep,
                              std::uint16_t flags, std::string_view notes = {}) {
  return {.flags = flags,
          .begin = KeySpec::Begin::kIndex,
          .index = pos,
          .find = KeySpec::Find::kKeynum,
          .a = keynumidx,
          .b = firstkey,
          .c = keystep,
          .notes = notes};
}
constexpr KeySpec KeywordRange(std::string_view keyword, int startfrom, int lastkey, int keystep,
                               int limit, std::uint16_t flags, std::string_view notes = {}) {
  return {.flags = flags,
          .begin = KeySpec::Begin::kKeyword,
          .index = startfrom,
          .keyword = keyword,
          .find = KeySpec::Find::kRange,
          .a = lastkey,
          .b = keystep,
          .c = limit,
          .notes = notes};
}
constexpr KeySpec KeywordKeynum(std::string_view keyword, int startfrom, int keynumidx,
                                int firstkey, int keystep, std::uint16_t flags,
                                std::string_view notes = {}) {
  return {.flags = flags,
          .begin = KeySpec::Begin::kKeyword,
          .index = startfrom,
          .keyword = keyword,
          .find = KeySpec::Find::kKeynum,
          .a = keynumidx,
          .b = firstkey,
          .c = keystep,
          .notes = notes};
}
// Keys the arguments do not locate (SORT's BY/GET patterns): GETKEYS needs the row's getkeys.
constexpr KeySpec UnknownKeys(std::uint16_t flags, std::string_view notes = {}) {
  return {.flags = flags,
          .begin = KeySpec::Begin::kUnknown,
          .find = KeySpec::Find::kUnknown,
          .notes = notes};
}

// A row's key specs (at most three, as in Redis 7.0's commands) and what derives from them:
// COMMAND's legacy (first, last, step) range and its movablekeys flag, as Redis's
// populateCommandLegacyRangeSpec and populateCommandMovableKeys compute them.
class KeySpecs {
 public:
  static constexpr int kMax = 3;

  constexpr KeySpecs() = default;
  constexpr KeySpecs(std::initializer_list<KeySpec> specs) {
    for (const KeySpec& spec : specs) {
      if (count_ == kMax) TooMany();
      specs_[count_++] = spec;
    }
    DeriveLegacyRange();
  }

  std::span<const KeySpec> specs() const { return {specs_, static_cast<std::size_t>(count_)}; }
  bool empty() const { return count_ == 0; }
  // Whether any spec's flags include `flag`; with `inverted`, whether any spec lacks it.
  bool AnyFlag(std::uint16_t flag, bool inverted = false) const {
    for (int i = 0; i < count_; ++i) {
      if (((specs_[i].flags & flag) != 0) != inverted) return true;
    }
    return false;
  }

  // The legacy range (first 0: none; last < 0 counts from the end); public so rows can be
  // checked as plain data.
  int first = 0;
  int last = 0;
  int step = 0;
  bool movable = false;  // some keys are not in the legacy range (COMMAND's movablekeys flag)

 private:
  // Not constexpr: a row with more than kMax specs does not compile (a table built at run time
  // aborts at start).
  static void TooMany();
  static constexpr bool Plain(const KeySpec& spec) {
    return spec.begin == KeySpec::Begin::kIndex && spec.find == KeySpec::Find::kRange;
  }
  constexpr void DeriveLegacyRange() {
    for (int i = 0; i < count_; ++i) {
      if (!Plain(specs_[i]) || (specs_[i].flags & kKeyIncomplete)) movable = true;
    }
    if (count_ == 1 && Plain(specs_[0])) {
      first = specs_[0].index;
      last = specs_[0].a >= 0 ? specs_[0].a + first : specs_[0].a;
      step = specs_[0].b;
      return;
    }
    // Consecutive plain specs of step 1 make one range; the others are left out (movable).
    int lowest = 0;
    unsigned highest = 0;  // unsigned, as Redis compares: a negative last key wins
    int previous = 0;
    for (int i = 0; i < count_; ++i) {
      const KeySpec& spec = specs_[i];
      if (!Plain(spec)) continue;
      if (spec.b != 1 || (previous != 0 && previous != spec.index - 1)) {
        movable = true;
        continue;
      }
      if (lowest == 0 || spec.index < lowest) lowest = spec.index;
      const int absolute = spec.a >= 0 ? spec.a + spec.index : spec.a;
      if (static_cast<unsigned>(absolute) > highest) highest = static_cast<unsigned>(absolute);
      previous = static_cast<int>(highest);
    }
    if (lowest == 0) return;
    first = lowest;
    last = static_cast<int>(highest);
    step = 1;
  }

  KeySpec specs_[kMax] = {};
  int count_ = 0;
};

// A key found in a request: its argument index and its spec's flags.
struct KeyRef {
  int pos;
  std::uint16_t flags;
};

// Finds the keys of a request (argv[0] the command) with key specs `specs` as Redis's
// getKeysUsingKeySpecs does; -1 when a spec does not fit the arguments (a key count that is not
// a number, a range past the end) or is incomplete. Specs marked not_key are skipped.
int KeysFromSpecs(const KeySpecs& specs, int arity, const std::vector<std::string_view>& argv,
                  std::vector<KeyRef>* keys);

}  // namespace dynakv::server
