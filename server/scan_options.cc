#include "scan_options.h"

#include <charconv>

#include "ascii.h"
#include "glob.h"
#include "number_parse.h"

namespace dynakv::server {

bool ScanOptions::Matches(std::string_view name) const {
  return !pattern || *pattern == "*" || GlobMatch(*pattern, name);
}

bool ParseScanCursor(CommandContext& ctx, std::string_view text, std::uint64_t* cursor) {
  if (ParseCursor(text, cursor)) return true;
  ctx.reply.Error("ERR invalid cursor");
  return false;
}

bool ParseScanOptions(CommandContext& ctx, std::size_t first, bool allow_type, ScanOptions* out) {
  for (std::size_t i = first; i < ctx.argv.size(); i += 2) {
    const std::string_view option = ctx.argv[i];
    const bool has_value = i + 1 < ctx.argv.size();
    if (has_value && EqualsIgnoreCase(option, "count")) {
      if (!ParseLongLong(ctx.argv[i + 1], &out->count)) {
        ctx.reply.Error(kErrNotInteger);
        return false;
      }
      if (out->count < 1) {
        ctx.reply.Error(kErrSyntax);
        return false;
      }
    } else if (has_value && EqualsIgnoreCase(option, "match")) {
      out->pattern = ctx.argv[i + 1];
    } else if (has_value && allow_type && EqualsIgnoreCase(option, "type")) {
      out->type = ctx.argv[i + 1];
    } else {
      ctx.reply.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

void ReplyScanCursor(CommandContext& ctx, std::uint64_t next) {
  char digits[24];
  const std::to_chars_result end = std::to_chars(digits, digits + sizeof(digits), next);
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::string_view(digits, static_cast<std::size_t>(end.ptr - digits)));
}

void ReplyEmptyScan(CommandContext& ctx) {
  ReplyScanCursor(ctx, 0);
  ctx.reply.ArrayHeader(0);
}

}  // namespace dynakv::server
