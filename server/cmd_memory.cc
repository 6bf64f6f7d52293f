#include <cstdint>
#include <string>

#include "client.h"
#include "command.h"
#include "info.h"
#include "memory_commands.h"
#include "script_runner.h"
#include "server.h"
#include "storage/engine.h"

// jemalloc's interface, weak as in info.cc: the server executable links jemalloc.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));
extern "C" void malloc_stats_print(void (*write_cb)(void*, const char*), void* cbopaque,
                                   const char* opts) __attribute__((weak));

namespace dynakv::server {
namespace {

std::uint64_t JemallocStat(const char* name, std::uint64_t fallback) {
  if (mallctl == nullptr) return fallback;
  std::uint64_t epoch = 1;
  std::size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  std::size_t value = 0;
  len = sizeof(value);
  if (mallctl(name, &value, &len, nullptr, 0) != 0) return fallback;
  return value;
}

double Ratio(std::uint64_t a, std::uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

void MemoryStats(CommandContext& ctx) {
  Server& server = ctx.server;
  resp::ReplyWriter& r = ctx.reply;
  const std::uint64_t total = UsedMemoryBytes();
  server.NoteUsedMemory(total);
  const std::uint64_t peak = server.used_memory_peak();
  const std::uint64_t startup = std::min(server.startup_allocated(), total);
  std::uint64_t clients_normal = 0;
  std::uint64_t clients_monitors = 0;
  for (const auto& [id, client] : server.clients()) {
    (client->monitor() ? clients_monitors : clients_normal) += client->MemoryBytes();
  }
  const scripting::Engine& lua = server.scripts().engine();
  const std::uint64_t lua_caches = lua.scripts_memory_bytes();
  const std::uint64_t overhead = startup + clients_normal + clients_monitors + lua_caches;
  std::uint64_t keys = 0;
  std::uint32_t databases_with_keys = 0;
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    const std::uint64_t n = server.engine().KeyCount(db);
    keys += n;
    if (n != 0) ++databases_with_keys;
  }
  const std::uint64_t net = total > startup ? total - startup : 0;
  const std::uint64_t dataset = total > overhead ? total - overhead : 0;
  const std::uint64_t rss = RssBytes();
  const std::uint64_t allocated = JemallocStat("stats.allocated", total);
  const std::uint64_t active = JemallocStat("stats.active", allocated);
  const std::uint64_t resident = JemallocStat("stats.resident", rss);
  r.MapHeader(27 + databases_with_keys);
  auto integer = [&](std::string_view name, std::uint64_t value) {
    r.Bulk(name);
    r.Integer(static_cast<long long>(value));
  };
  auto real = [&](std::string_view name, double value) {
    r.Bulk(name);
    r.Double(value);
  };
  integer("peak.allocated", peak);
  integer("total.allocated", total);
  integer("startup.allocated", startup);
  integer("replication.backlog", 0);
  integer("clients.slaves", clients_monitors);  // Redis counts monitors as replicas
  integer("clients.normal", clients_normal);
  integer("cluster.links", 0);
  integer("aof.buffer", 0);
  integer("lua.caches", lua_caches);
  integer("functions.caches", 0);
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    if (server.engine().KeyCount(db) == 0) continue;
    r.Bulk("db." + std::to_string(db));
    r.MapHeader(3);
    integer("overhead.hashtable.main", 0);  // no Redis dict: the memtable's cost is the dataset's
    integer("overhead.hashtable.expires", 0);
    integer("overhead.hashtable.slot-to-keys", 0);
  }
  integer("overhead.total", overhead);
  integer("keys.count", keys);
  integer("keys.bytes-per-key", keys == 0 ? 0 : net / keys);
  integer("dataset.bytes", dataset);
  real("dataset.percentage", net == 0 ? 0.0 : 100.0 * Ratio(dataset, net));
  real("peak.percentage", 100.0 * Ratio(total, peak));
  integer("allocator.allocated", allocated);
  integer("allocator.active", active);
  integer("allocator.resident", resident);
  real("allocator-fragmentation.ratio", Ratio(active, allocated));
  integer("allocator-fragmentation.bytes", active > allocated ? active - allocated : 0);
  real("allocator-rss.ratio", Ratio(resident, active));
  integer("allocator-rss.bytes", resident > active ? resident - active : 0);
  real("rss-overhead.ratio", Ratio(rss, resident));
  integer("rss-overhead.bytes", rss > resident ? rss - resident : 0);
  real("fragmentation", Ratio(rss, total));
  integer("fragmentation.bytes", rss > total ? rss - total : 0);
}

void MemoryDoctor(CommandContext& ctx) {
  std::string report;
  if (UsedMemoryBytes() < 5 * 1024 * 1024) {
    report =
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't "
        "be used in these conditions. Please, leave for your mission on Earth and fill it with "
        "some data. The new Sam and I will be back to our programming as soon as I finished "
        "rebooting.";
  } else {
    report =
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
        "occurs on this base.";
  }
  ctx.reply.Verbatim(report);
}

void MemoryMallocStats(CommandContext& ctx) {
  if (malloc_stats_print == nullptr) {
    ctx.reply.Verbatim("Stats not supported for the current allocator");
    return;
  }
  std::string text;
  malloc_stats_print(
      [](void* out, const char* chunk) { static_cast<std::string*>(out)->append(chunk); }, &text,
      nullptr);
  ctx.reply.Verbatim(text);
}

void MemoryPurge(CommandContext& ctx) {
  if (mallctl != nullptr) {
    // MALLCTL_ARENAS_ALL (4096): every arena, as Redis's jemalloc_purge.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  }
  ctx.reply.Ok();
}

}  // namespace dynakv::server
