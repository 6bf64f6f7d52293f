#include "random_with_count.h"

#include <limits>

#include "ascii.h"
#include "number_parse.h"

namespace dynakv::server {

bool ParseRandomCount(CommandContext& ctx, std::string_view with_option, long long* count,
                      bool* with) {
  if (!ParseLongLong(ctx.argv[2], count)) {
    ctx.reply.Error(kErrNotInteger);
    return false;
  }
  constexpr long long kMax = std::numeric_limits<long long>::max();
  if (*count < -kMax) {
    ctx.reply.Error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return false;
  }
  if (ctx.argv.size() > 4 ||
      (ctx.argv.size() == 4 && !EqualsIgnoreCase(ctx.argv[3], with_option))) {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  *with = ctx.argv.size() == 4;
  // The reply holds twice as many elements: Redis refuses a count whose double overflows.
  if (*with && (*count < -kMax / 2 || *count > kMax / 2)) {
    ctx.reply.Error("ERR value is out of range");
    return false;
  }
  return true;
}

}  // namespace dynakv::server
