#include "blocking_command.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "number_parse.h"
#include "server.h"

namespace dynakv::server {

bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, std::uint64_t* timeout_ms) {
  std::string error;
  if (BlockTimeoutMs(arg, timeout_ms, &error)) return true;
  ctx.reply.Error(error);
  return false;
}

bool BlockTimeoutMs(std::string_view arg, std::uint64_t* timeout_ms, std::string* error) {
  long double seconds = 0;
  if (!ParseLongDouble(arg, &seconds) || std::isnan(seconds)) {
    *error = "ERR timeout is not a float or out of range";
    return false;
  }
  const long double ms = seconds * 1000.0L;
  // Redis converts with a plain cast: what a long long cannot hold becomes LLONG_MIN on x86.
  long long value = LLONG_MIN;
  if (ms > -9.2e18L && ms < 9.2e18L) value = static_cast<long long>(ms);
  if (value < 0) {
    *error = "ERR timeout is negative";
    return false;
  }
  *timeout_ms = static_cast<std::uint64_t>(value);
  return true;
}

const CommandSpec& RunningSpec(CommandContext& ctx, std::span<const CommandSpec> table) {
  const std::string_view name = ctx.argv[0];
  for (const CommandSpec& spec : table) {
    if (name.size() == spec.name.size() &&
        std::equal(name.begin(), name.end(), spec.name.begin(),
                   [](char a, char b) { return (a | 0x20) == b; })) {
      return spec;
    }
  }
  return table.front();
}

}  // namespace dynakv::server
