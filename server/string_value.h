// String values as the bitmap, HyperLogLog and LCS commands read and rewrite them: the whole
// value in memory, looked up once. The one place where those families check that a key holds
// a string (Redis's checkType) before touching it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "command.h"
#include "storage/engine.h"

namespace dynakv::server {

// The bytes of a value read for a read-only command: a view of the stored value when it is
// held uncompressed, else a copy. Valid until the next keyspace call.
class StringView {
 public:
  explicit StringView(const storage::ValueRef& ref);
  std::string_view bytes() const { return view_; }

 private:
  std::string copy_;
  std::string_view view_;
};

// A value a write command is about to change: its bytes and its expiry (kept by the store).
struct StringValue {
  bool exists = false;
  std::string bytes;
  std::int64_t expire_at_ms = 0;
};

// Read path (counts a keyspace hit or miss, as Redis's lookupKeyRead): *value is nullopt for a
// missing key. Returns false after replying `wrong_type` (the key holds another type).
bool ReadString(CommandContext& ctx, std::string_view key, std::optional<StringView>* value,
                std::string_view wrong_type = kErrWrongType);

// The same without counting a hit or miss: a write command's look before it copies the value.
bool PeekString(CommandContext& ctx, std::string_view key, std::optional<StringView>* value);

// Write path (no hit/miss counting, as lookupKeyWrite): a missing key leaves *value empty with
// exists == false. Returns false after replying an error.
bool LoadStringForWrite(CommandContext& ctx, std::string_view key, StringValue* value);

// Stores value.bytes under `key` with value.expire_at_ms. Returns false after replying the
// error when the keyspace refused the write.
bool StoreString(CommandContext& ctx, std::string_view key, const StringValue& value);

// Stores `value` (a string key's new bytes, replacing `old`): only the bytes that differ when the
// length did not change (a patch: PFADD's registers, PFCOUNT's cached count), else the whole
// value. Returns false after replying the error when the keyspace refused the write.
bool StoreChangedString(CommandContext& ctx, std::string_view key, std::string_view old,
                        const StringValue& value);

// A change to a few bytes of a string value, for the commands that write into one (SETBIT,
// BITFIELD): reads see the value with the writes made so far, and Store hands the keyspace only
// the bytes written (storage::Engine::PatchString logs them), never the whole value. `base`, the
// value's bytes (empty for a missing key), must stay valid until Store.
class StringPatch {
 public:
  explicit StringPatch(std::string_view base) : base_(base), size_(base.size()) {}
  // The byte at `i`; 0 past the end.
  std::uint8_t At(std::uint64_t i) const;
  void Set(std::uint64_t i, std::uint8_t byte);
  // Grows the value with zero bytes to at least `size`.
  void GrowTo(std::uint64_t size) { size_ = std::max(size_, size); }
  std::uint64_t size() const { return size_; }
  // Writes the change (a missing key is created). Returns false after replying the error.
  bool Store(CommandContext& ctx, std::string_view key) const;

 private:
  std::string_view base_;
  std::map<std::uint64_t, std::uint8_t> writes_;
  std::uint64_t size_;
};

}  // namespace dynakv::server
