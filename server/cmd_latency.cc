// LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH / HISTOGRAM / HELP, with Redis 7.0's replies
// (latency.c). The events are the latency monitor's (latency_monitor.h); HISTOGRAM reports the
// per-command histograms of INFO latencystats (command_stats.h).

#include <span>

#include "command_table.h"
#include "command_util.h"
#include "server.h"

namespace dynakv::server {
namespace {

void LatencyLatest(CommandContext& ctx) {
  const auto& events = ctx.server.latency_monitor().events();
  ctx.reply.ArrayHeader(events.size());
  for (const auto& [event, series] : events) {
    const LatencyMonitor::Sample& latest = series.Latest();
    ctx.reply.ArrayHeader(4);
    ctx.reply.Bulk(event);
    ctx.reply.Integer(latest.time);
    ctx.reply.Integer(latest.latency_ms);
    ctx.reply.Integer(series.max_ms);
  }
}

void LatencyHistory(CommandContext& ctx) {
  const LatencyMonitor::Series* series = ctx.server.latency_monitor().Find(ctx.argv[2]);
  if (series == nullptr) {
    ctx.reply.ArrayHeader(0);
    return;
  }
  const std::vector<LatencyMonitor::Sample> samples = series->Ordered();
  ctx.reply.ArrayHeader(samples.size());
  for (const LatencyMonitor::Sample& s : samples) {
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(s.time);
    ctx.reply.Integer(s.latency_ms);
  }
}

void LatencyReset(CommandContext& ctx) {
  LatencyMonitor& monitor = ctx.server.latency_monitor();
  if (ctx.argv.size() == 2) {
    ctx.reply.Integer(static_cast<long long>(monitor.ResetAll()));
    return;
  }
  long long reset = 0;
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    reset += static_cast<long long>(monitor.Reset(ctx.argv[i]));
  }
  ctx.reply.Integer(reset);
}

void LatencyDoctor(CommandContext& ctx) {
  const Config& config = ctx.server.config();
  ctx.reply.Verbatim(ctx.server.latency_monitor().Doctor(config.latency_monitor_threshold,
                                                         config.slowlog_log_slower_than));
}

void LatencyGraph(CommandContext& ctx) {
  const std::string graph = ctx.server.latency_monitor().Graph(ctx.argv[2]);
  if (graph.empty()) {
    ctx.reply.Error("ERR No samples available for event '" + std::string(ctx.argv[2]) + "'");
    return;
  }
  ctx.reply.Verbatim(graph);
}

// One command's entry: {"calls": n, "histogram_usec": {usec: cumulative count, ...}} over the
// power-of-two levels from 1024 ns (Redis's fillCommandCDF).
void ReplyHistogram(resp::ReplyWriter& reply, const std::string& name,
                    const LatencyHistogram& histogram) {
  reply.Bulk(name);
  reply.MapHeader(2);
  reply.Bulk("calls");
  reply.Integer(static_cast<long long>(histogram.total_count()));
  reply.Bulk("histogram_usec");
  const std::vector<LatencyHistogram::Level> levels = histogram.LogLevels(1024, 2);
  reply.MapHeader(levels.size());
  for (const LatencyHistogram::Level& level : levels) {
    reply.Integer(level.highest_equivalent / 1000);
    reply.Integer(static_cast<long long>(level.cumulative));
  }
}

// LATENCY HISTOGRAM [command ...]: every command with a histogram, or the named ones ("client"
// names the container's subcommands too; unknown names are skipped), as a map.
void LatencyHistogramCommand(CommandContext& ctx) {
  const CommandTable& table = ctx.server.commands();
  const CommandStats& stats = ctx.server.command_stats();
  std::vector<int> ids;
  auto add = [&](int id) {
    if (stats.Of(id).histogram != nullptr &&
        std::find(ids.begin(), ids.end(), id) == ids.end()) {
      ids.push_back(id);
    }
  };
  if (ctx.argv.size() == 2) {
    for (std::size_t id = 0; id < table.entries().size(); ++id) add(static_cast<int>(id));
  } else {
    for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
      const int id = table.FindId(ctx.argv[i]);
      if (id < 0) continue;
      add(id);
      const CommandSpec* spec = table.entries()[static_cast<std::size_t>(id)].spec;
      for (const CommandSpec& sub : spec->subcommands) add(table.IdOf(&sub));
    }
  }
  ctx.reply.MapHeader(ids.size());
  for (int id : ids) {
    ReplyHistogram(ctx.reply, table.entries()[static_cast<std::size_t>(id)].fullname,
                   *stats.Of(id).histogram);
  }
}

void LatencyHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a histogram for the "
      "specified command names.",
      "    If no commands are specified then all histograms are replied.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

constexpr std::uint32_t kAdminFlags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale;
constexpr std::string_view kSpecialTips =
    "nondeterministic_output request_policy:all_nodes response_policy:special";

// clang-format off
constexpr CommandSpec kLatencySubcommands[] = {
    {.name = "latest", .arity = 2, .flags = kAdminFlags, .tips = kSpecialTips,
     .handler = LatencyLatest},
    {.name = "history", .arity = 3, .flags = kAdminFlags, .tips = kSpecialTips,
     .handler = LatencyHistory},
    {.name = "reset", .arity = -2, .flags = kAdminFlags,
     .tips = "request_policy:all_nodes response_policy:all_succeeded", .handler = LatencyReset},
    {.name = "doctor", .arity = 2, .flags = kAdminFlags, .tips = kSpecialTips,
     .handler = LatencyDoctor},
    {.name = "graph", .arity = 3, .flags = kAdminFlags, .tips = kSpecialTips,
     .handler = LatencyGraph},
    {.name = "histogram", .arity = -2, .flags = kAdminFlags, .tips = kSpecialTips,
     .handler = LatencyHistogramCommand},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = LatencyHelp},
};

constexpr CommandSpec kLatencyCommands[] = {
    {.name = "latency", .arity = -2, .subcommands = kLatencySubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> LatencyCommands() { return kLatencyCommands; }

}  // namespace dynakv::server
