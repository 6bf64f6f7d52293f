#include <algorithm>
#include <cstdint>
#include <string>

#include "client.h"
#include "command.h"
#include "info.h"
#include "memory_commands.h"
#include "memory_doctor.h"
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

// Redis's functionsMemoryOverhead: what the loaded libraries take besides the Lua heap.
std::uint64_t FunctionsMemoryBytes(const scripting::Engine& lua) {
  std::uint64_t bytes = lua.function_count() * sizeof(scripting::Function);
  for (const scripting::Library* library : lua.Libraries()) {
    bytes += sizeof(scripting::Library) + library->name.size() + library->code.size();
  }
  return bytes;
}

}  // namespace

MemoryFigures MeasureMemory(Server& server) {
  MemoryFigures m;
  m.total = UsedMemoryBytes();
  server.NoteUsedMemory(m.total);
  m.peak = server.used_memory_peak();
  m.startup = std::min(server.startup_allocated(), m.total);
  for (const auto& [id, client] : server.clients()) {
    // MONITOR clients too: Redis 7.0's getClientType counts them as normal clients.
    m.clients_normal += client->MemoryBytes();
    ++m.normal_clients;
  }
  m.lua_caches = server.scripts().engine().scripts_memory_bytes();
  m.functions_caches = FunctionsMemoryBytes(server.scripts().engine());
  m.cached_scripts = server.scripts().engine().script_count();
  m.aof_buffer = server.engine().Stats().log_buffered_bytes;
  m.jemalloc = mallctl != nullptr;
  m.overhead = m.startup + m.clients_normal + m.clients_replicas + m.lua_caches +
               m.functions_caches + m.aof_buffer;
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

void MemoryStats(CommandContext& ctx) {
  Server& server = ctx.server;
  resp::ReplyWriter& r = ctx.reply;
  const MemoryFigures m = MeasureMemory(server);
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
  integer("clients.slaves", m.clients_replicas);
  integer("clients.normal", m.clients_normal);
  integer("cluster.links", 0);
  integer("aof.buffer", m.aof_buffer);
  integer("lua.caches", m.lua_caches);
  integer("functions.caches", m.functions_caches);
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

void MemoryDoctor(CommandContext& ctx) {
  ctx.reply.Verbatim(MemoryDoctorReport(MeasureMemory(ctx.server)));
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
