#include <algorithm>
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

namespace {

// What MEMORY STATS reports and MEMORY DOCTOR judges (Redis's getMemoryOverheadData).
struct MemoryFigures {
  std::uint64_t total = 0, peak = 0, startup = 0;
  std::uint64_t clients_normal = 0, clients_monitors = 0, normal_clients = 0;
  std::uint64_t lua_caches = 0, overhead = 0, keys = 0, net = 0, dataset = 0;
  std::uint64_t rss = 0, allocated = 0, active = 0, resident = 0;
  std::uint32_t databases_with_keys = 0;
};

MemoryFigures Measure(Server& server) {
  MemoryFigures m;
  m.total = UsedMemoryBytes();
  server.NoteUsedMemory(m.total);
  m.peak = server.used_memory_peak();
  m.startup = std::min(server.startup_allocated(), m.total);
  for (const auto& [id, client] : server.clients()) {
    (client->monitor() ? m.clients_monitors : m.clients_normal) += client->MemoryBytes();
    if (!client->monitor()) ++m.normal_clients;
  }
  m.lua_caches = server.scripts().engine().scripts_memory_bytes();
  m.overhead = m.startup + m.clients_normal + m.clients_monitors + m.lua_caches;
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    const std::uint64_t n = server.engine().KeyCount(db);
    m.keys += n;
    if (n != 0) ++m.databases_with_keys;
  }
  m.net = m.total > m.startup ? m.total - m.startup : 0;
  m.dataset = m.total > m.overhead ? m.total - m.overhead : 0;
  m.rss = RssBytes();
  m.allocated = JemallocStat("stats.allocated", m.total);
  m.active = JemallocStat("stats.active", m.allocated);
  m.resident = JemallocStat("stats.resident", m.rss);
  return m;
}

std::uint64_t Excess(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

void MemoryStats(CommandContext& ctx) {
  Server& server = ctx.server;
  resp::ReplyWriter& r = ctx.reply;
  const MemoryFigures m = Measure(server);
  r.MapHeader(27 + m.databases_with_keys);
  auto integer = [&](std::string_view name, std::uint64_t value) {
    r.Bulk(name);
    r.Integer(static_cast<long long>(value));
  };
  auto real = [&](std::string_view name, double value) {
    r.Bulk(name);
    r.Double(value);
  };
  integer("peak.allocated", m.peak);
  integer("total.allocated", m.total);
  integer("startup.allocated", m.startup);
  integer("replication.backlog", 0);
  integer("clients.slaves", m.clients_monitors);  // Redis counts monitors as replicas
  integer("clients.normal", m.clients_normal);
  integer("cluster.links", 0);
  integer("aof.buffer", 0);
  integer("lua.caches", m.lua_caches);
  integer("functions.caches", 0);
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    if (server.engine().KeyCount(db) == 0) continue;
    r.Bulk("db." + std::to_string(db));
    r.MapHeader(3);
    integer("overhead.hashtable.main", 0);  // no Redis dict: the memtable's cost is the dataset's
    integer("overhead.hashtable.expires", 0);
    integer("overhead.hashtable.slot-to-keys", 0);
  }
  integer("overhead.total", m.overhead);
  integer("keys.count", m.keys);
  integer("keys.bytes-per-key", m.keys == 0 ? 0 : m.net / m.keys);
  integer("dataset.bytes", m.dataset);
  real("dataset.percentage", m.net == 0 ? 0.0 : 100.0 * Ratio(m.dataset, m.net));
  real("peak.percentage", 100.0 * Ratio(m.total, m.peak));
  integer("allocator.allocated", m.allocated);
  integer("allocator.active", m.active);
  integer("allocator.resident", m.resident);
  real("allocator-fragmentation.ratio", Ratio(m.active, m.allocated));
  integer("allocator-fragmentation.bytes", Excess(m.active, m.allocated));
  real("allocator-rss.ratio", Ratio(m.resident, m.active));
  integer("allocator-rss.bytes", Excess(m.resident, m.active));
  real("rss-overhead.ratio", Ratio(m.rss, m.resident));
  integer("rss-overhead.bytes", Excess(m.rss, m.resident));
  real("fragmentation", Ratio(m.rss, m.total));
  integer("fragmentation.bytes", Excess(m.rss, m.total));
}

// Redis 7.0's getMemoryDoctorReport, its tests and its words (replicas have no counterpart: a
// MONITOR client is what Redis would count as one, so its buffers are judged as a replica's).
void MemoryDoctor(CommandContext& ctx) {
  const MemoryFigures m = Measure(ctx.server);
  constexpr std::uint64_t k10Mb = 10 << 20;
  std::string report;
  if (m.total < 5 * 1024 * 1024) {
    report =
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't "
        "be used in these conditions. Please, leave for your mission on Earth and fill it with "
        "some data. The new Sam and I will be back to our programming as soon as I finished "
        "rebooting.\n";
    ctx.reply.Verbatim(report);
    return;
  }
  std::size_t monitors = 0;
  for (const auto& [id, client] : ctx.server.clients()) monitors += client->monitor() ? 1 : 0;
  const bool big_peak = Ratio(m.peak, m.total) > 1.5;
  const bool high_frag = Ratio(m.rss, m.total) > 1.4 && Excess(m.rss, m.total) > k10Mb;
  const bool high_alloc_frag =
      Ratio(m.active, m.allocated) > 1.1 && Excess(m.active, m.allocated) > k10Mb;
  const bool high_alloc_rss =
      Ratio(m.resident, m.active) > 1.1 && Excess(m.resident, m.active) > k10Mb;
  const bool high_proc_rss = Ratio(m.rss, m.resident) > 1.1 && Excess(m.rss, m.resident) > k10Mb;
  const bool big_client_buf =
      m.normal_clients > 0 && m.clients_normal / m.normal_clients > 1024 * 200;
  const bool big_slave_buf = monitors > 0 && m.clients_monitors > k10Mb;
  const bool many_scripts = ctx.server.scripts().engine().script_count() > 1000;
  if (!big_peak && !high_frag && !high_alloc_frag && !high_alloc_rss && !high_proc_rss &&
      !big_client_buf && !big_slave_buf && !many_scripts) {
    ctx.reply.Verbatim(
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
        "occurs on this base.\n");
    return;
  }
  report = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
  if (big_peak) {
    report +=
        " * Peak memory: In the past this instance used more than 150% the memory that is "
        "currently using. The allocator is normally not able to release memory after a peak, so "
        "you can expect to see a big fragmentation ratio, however this is actually harmless and "
        "is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is "
        "currently bigger than expected, the memory will be used as soon as you fill the Redis "
        "instance with more data. If the memory peak was only occasional and you want to try to "
        "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is "
        "to shutdown and restart the instance.\n\n";
  }
  if (high_frag) {
    report +=
        " * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
        "than 1.4 (this means that the Resident Set Size of the Redis process is much larger "
        "than the sum of the logical allocations Redis performed). This problem is usually due "
        "either to a large peak memory (check if there is a peak memory entry above in the "
        "report) or may result from a workload that causes the allocator to fragment memory a "
        "lot. If the problem is a large peak memory, then there is no issue. Otherwise, make "
        "sure you are using the Jemalloc allocator and not the default libc malloc. Note: The "
        "currently used allocator is \"";
    report += mallctl != nullptr ? "jemalloc" : "libc";
    report += "\".\n\n";
  }
  if (high_alloc_frag) {
    report +=
        " * High allocator fragmentation: This instance has an allocator external fragmentation "
        "greater than 1.1. This problem is usually due either to a large peak memory (check if "
        "there is a peak memory entry above in the report) or may result from a workload that "
        "causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' "
        "config option.\n\n";
  }
  if (high_alloc_rss) {
    report +=
        " * High allocator RSS overhead: This instance has an RSS memory overhead is greater "
        "than 1.1 (this means that the Resident Set Size of the allocator is much larger than "
        "the sum what the allocator actually holds). This problem is usually due to a large peak "
        "memory (check if there is a peak memory entry above in the report), you can try the "
        "MEMORY PURGE command to reclaim it.\n\n";
  }
  if (high_proc_rss) {
    report +=
        " * High process RSS overhead: This instance has non-allocator RSS memory overhead is "
        "greater than 1.1 (this means that the Resident Set Size of the Redis process is much "
        "larger than the RSS the allocator holds). This problem may be due to Lua scripts or "
        "Modules.\n\n";
  }
  if (big_slave_buf) {
    report +=
        " * Big replica buffers: The replica output buffers in this instance are greater than "
        "10MB for each replica (on average). This likely means that there is some replica "
        "instance that is struggling receiving data, either because it is too slow or because "
        "of networking issues. As a result, data piles on the master output buffers. Please try "
        "to identify what replica is not receiving data correctly and why. You can use the INFO "
        "output in order to check the replicas delays and the CLIENT LIST command to check the "
        "output buffers of each replica.\n\n";
  }
  if (big_client_buf) {
    report +=
        " * Big client buffers: The clients output buffers in this instance are greater than "
        "200K per client (on average). This may result from different causes, like Pub/Sub "
        "clients subscribed to channels bot not receiving data fast enough, so that data piles "
        "on the Redis instance output buffer, or clients sending commands with large replies or "
        "very large sequences of commands in the same pipeline. Please use the CLIENT LIST "
        "command in order to investigate the issue if it causes problems in your instance, or "
        "to understand better why certain clients are using a big amount of memory.\n\n";
  }
  if (many_scripts) {
    report +=
        " * Many scripts: There seem to be many cached scripts in this instance (more than "
        "1000). This may be because scripts are generated and `EVAL`ed, instead of being "
        "parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT "
        "FLUSH` is called periodically, the scripts' caches may end up consuming most of your "
        "memory.\n\n";
  }
  report += "I'm here to keep you safe, Sam. I want to help you.\n";
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
