#include "debug_commands.h"

#include <time.h>

#include <cstdlib>
#include <string>

#include "command.h"
#include "server.h"

namespace dynakv::server {

void DebugSleep(CommandContext& ctx) {
  // Redis reads the seconds with strtod and no check: "abc" sleeps 0.
  const std::string text(ctx.argv[2]);
  const double seconds = std::strtod(text.c_str(), nullptr);
  const long long us = static_cast<long long>(seconds * 1000000);
  if (us > 0) {
    timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>((us % 1000000) * 1000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  ctx.reply.Ok();
}

// DEBUG SET-ACTIVE-EXPIRE <0|1>: Redis reads the flag with atoi (anything else is 0).
void DebugSetActiveExpire(CommandContext& ctx) {
  ctx.server.engine().SetActiveExpire(std::atoi(std::string(ctx.argv[2]).c_str()) != 0);
  ctx.reply.Ok();
}

}  // namespace dynakv::server
