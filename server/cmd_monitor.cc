// MONITOR, as Redis 7.0's monitorCommand: the client receives a line for every command any
// client runs from now on (monitor.h), until RESET or it disconnects.

#include <span>

#include "client.h"
#include "command.h"
#include "server.h"

namespace dynakv::server {
namespace {

void MonitorCommand(CommandContext& ctx) {
  if (ctx.client.deny_blocking()) {
    // Inside EXEC every command must answer once.
    ctx.reply.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  if (ctx.client.monitor()) return;  // already monitoring: Redis ignores it, without a reply
  ctx.client.set_monitor(true);
  ctx.server.monitors().Add(ctx.client.id());
  ctx.reply.Ok();
}

// clang-format off
constexpr CommandSpec kMonitorCommands[] = {
    {.name = "monitor", .arity = 1, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = MonitorCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> MonitorCommands() { return kMonitorCommands; }

}  // namespace dynakv::server
