// String values as the bitmap, HyperLogLog and LCS commands read and rewrite them: the whole
// value in memory, looked up once. The one place where those families check that a key holds
// a string (Redis's checkType) before touching it.
#pragma once

#include <cstdint>
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

}  // namespace dynakv::server
