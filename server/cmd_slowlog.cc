// SLOWLOG GET / LEN / RESET / HELP, with Redis 7.0's replies (slowlog.c).

#include <span>

#include "command_util.h"
#include "number_parse.h"
#include "server.h"

namespace dynakv::server {
namespace {

// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 all), each
// [id, unix time, microseconds, [arguments], "ip:port", client name].
void SlowlogGet(CommandContext& ctx) {
  if (ctx.argv.size() > 3) {
    ctx.reply.Error("ERR unknown subcommand or wrong number of arguments for '" +
                    std::string(ctx.argv[1]) + "'. Try SLOWLOG HELP.");
    return;
  }
  long long count = 10;
  if (ctx.argv.size() == 3 && (!ParseLongLong(ctx.argv[2], &count) || count < -1)) {
    ctx.reply.Error("ERR count should be greater than or equal to -1");
    return;
  }
  const auto& entries = ctx.server.slowlog().entries();
  std::size_t n = entries.size();
  if (count >= 0 && static_cast<unsigned long long>(count) < n) n = static_cast<std::size_t>(count);
  ctx.reply.ArrayHeader(n);
  for (std::size_t i = 0; i < n; ++i) {
    const SlowLog::Entry& e = entries[i];
    ctx.reply.ArrayHeader(6);
    ctx.reply.Integer(static_cast<long long>(e.id));
    ctx.reply.Integer(e.unix_seconds);
    ctx.reply.Integer(static_cast<long long>(e.duration_us));
    ctx.reply.ArrayHeader(e.argv.size());
    for (const std::string& arg : e.argv) ctx.reply.Bulk(arg);
    ctx.reply.Bulk(e.peer);
    ctx.reply.Bulk(e.client_name);
  }
}

void SlowlogLen(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<long long>(ctx.server.slowlog().entries().size()));
}

void SlowlogReset(CommandContext& ctx) {
  ctx.server.slowlog().Reset();
  ctx.reply.Ok();
}

void SlowlogHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// clang-format off
constexpr CommandSpec kSlowlogSubcommands[] = {
    {.name = "get", .arity = -2, .flags = kCmdAdmin | kCmdLoading | kCmdStale,
     .tips = "request_policy:all_nodes nondeterministic_output", .handler = SlowlogGet},
    {.name = "len", .arity = 2, .flags = kCmdAdmin | kCmdLoading | kCmdStale,
     .tips = "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
     .handler = SlowlogLen},
    {.name = "reset", .arity = 2, .flags = kCmdAdmin | kCmdLoading | kCmdStale,
     .tips = "request_policy:all_nodes response_policy:all_succeeded", .handler = SlowlogReset},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = SlowlogHelp},
};

constexpr CommandSpec kSlowlogCommands[] = {
    {.name = "slowlog", .arity = -2, .subcommands = kSlowlogSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> SlowlogCommands() { return kSlowlogCommands; }

}  // namespace dynakv::server
