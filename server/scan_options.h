// The arguments and reply shared by the SCAN family (SCAN, HSCAN, SSCAN, ZSCAN): one parser, so
// the four commands give the same errors for the same bad options, in Redis 7.0's order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "command.h"

namespace dynakv::server {

// [MATCH pattern] [COUNT count] [TYPE type]: the last as given, TYPE only where allowed (SCAN).
struct ScanOptions {
  long long count = 10;
  std::optional<std::string_view> pattern;
  std::optional<std::string_view> type;

  // Whether an element name passes MATCH; a lone "*" matches everything, as Redis skips
  // matching then.
  bool Matches(std::string_view name) const;
};

// Parses the cursor argument; replies "ERR invalid cursor" and returns false when it is not one.
bool ParseScanCursor(CommandContext& ctx, std::string_view text, std::uint64_t* cursor);

// Parses the options from argv[first] on. Replies with Redis's error and returns false on a
// bad option, a missing value, a COUNT that is not an integer or is below 1.
bool ParseScanOptions(CommandContext& ctx, std::size_t first, bool allow_type, ScanOptions* out);

// Starts the reply: the 2-array and the next cursor; the caller then writes the elements' array.
void ReplyScanCursor(CommandContext& ctx, std::uint64_t next);

// The reply to a scan of a missing key: cursor 0, no elements.
void ReplyEmptyScan(CommandContext& ctx);

}  // namespace dynakv::server
