// INFO memory: Redis 7.0's fields from the figures MEMORY STATS reports too (MeasureMemory), then
// the storage engine's own.
#include <unistd.h>

#include <cstdint>
#include <string>

#include "config.h"
#include "format.h"
#include "info.h"
#include "info_sections.h"
#include "memory_doctor.h"
#include "script_runner.h"
#include "server.h"

extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace dynakv::server {
namespace {

// Redis's mem_allocator: "jemalloc-<version>", or libc.
std::string AllocatorName() {
  if (mallctl == nullptr) return "libc";
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc";
  }
  std::string name = "jemalloc-" + std::string(version);
  return name.substr(0, name.find('-', 9));  // "5.3.0-0-g54eaed1..." -> "5.3.0"
}

std::uint64_t TotalSystemMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                               : 0;
}

// allkeys-tinylfu's bytes a key (0 without keys).
double PerKey(std::uint64_t bytes, std::uint64_t keys) {
  return keys == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(keys);
}

std::string Human(std::uint64_t bytes) { return BytesToHuman(bytes); }

}  // namespace

void MemorySection(Server& server, const storage::EngineStats& engine, std::string* out) {
  const MemoryFigures m = MeasureMemory(server);
  const Config& config = server.config();
  const std::uint64_t system = TotalSystemMemory();
  // One Lua state runs both EVAL scripts and functions here: its heap is the eval VM's and the
  // functions VM's figure alike, and counted once in the total.
  const scripting::Engine& lua = server.scripts().engine();
  const std::uint64_t lua_heap = lua.lua_memory_bytes();
  // What maxmemory bounds is the memtable (with allkeys-tinylfu's own lists and sketch): the
  // rest of the process is what Redis calls memory not counted for eviction.
  const std::uint64_t counted = engine.memtable_bytes + engine.policy_bytes;
  AppendPrintf(out,
               "# Memory\r\n"
               "used_memory:%llu\r\n"
               "used_memory_human:%s\r\n"
               "used_memory_rss:%llu\r\n"
               "used_memory_rss_human:%s\r\n"
               "used_memory_peak:%llu\r\n"
               "used_memory_peak_human:%s\r\n"
               "used_memory_peak_perc:%.2f%%\r\n"
               "used_memory_overhead:%llu\r\n"
               "used_memory_startup:%llu\r\n"
               "used_memory_dataset:%llu\r\n"
               "used_memory_dataset_perc:%.2f%%\r\n"
               "allocator_allocated:%llu\r\n"
               "allocator_active:%llu\r\n"
               "allocator_resident:%llu\r\n"
               "total_system_memory:%llu\r\n"
               "total_system_memory_human:%s\r\n",
               static_cast<unsigned long long>(m.total), Human(m.total).c_str(),
               static_cast<unsigned long long>(m.rss), Human(m.rss).c_str(),
               static_cast<unsigned long long>(m.peak), Human(m.peak).c_str(),
               100.0 * Ratio(m.total, m.peak), static_cast<unsigned long long>(m.overhead),
               static_cast<unsigned long long>(m.startup),
               static_cast<unsigned long long>(m.dataset),
               m.net == 0 ? 0.0 : 100.0 * Ratio(m.dataset, m.net),
               static_cast<unsigned long long>(m.allocated),
               static_cast<unsigned long long>(m.active),
               static_cast<unsigned long long>(m.resident),
               static_cast<unsigned long long>(system), Human(system).c_str());
  AppendPrintf(out,
               "used_memory_lua:%llu\r\n"
               "used_memory_vm_eval:%llu\r\n"
               "used_memory_lua_human:%s\r\n"
               "used_memory_scripts_eval:%llu\r\n"
               "number_of_cached_scripts:%llu\r\n"
               "number_of_functions:%llu\r\n"
               "number_of_libraries:%llu\r\n"
               "used_memory_vm_functions:%llu\r\n"
               "used_memory_vm_total:%llu\r\n"
               "used_memory_vm_total_human:%s\r\n"
               "used_memory_functions:%llu\r\n"
               "used_memory_scripts:%llu\r\n"
               "used_memory_scripts_human:%s\r\n",
               static_cast<unsigned long long>(lua_heap), static_cast<unsigned long long>(lua_heap),
               Human(lua_heap).c_str(), static_cast<unsigned long long>(m.lua_caches),
               static_cast<unsigned long long>(m.cached_scripts),
               static_cast<unsigned long long>(lua.function_count()),
               static_cast<unsigned long long>(lua.Libraries().size()),
               static_cast<unsigned long long>(lua_heap), static_cast<unsigned long long>(lua_heap),
               Human(lua_heap).c_str(), static_cast<unsigned long long>(m.functions_caches),
               static_cast<unsigned long long>(m.lua_caches + m.functions_caches),
               Human(m.lua_caches + m.functions_caches).c_str());
  AppendPrintf(out,
               "maxmemory:%llu\r\n"
               "maxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\n"
               "allocator_frag_ratio:%.2f\r\n"
               "allocator_frag_bytes:%llu\r\n"
               "allocator_rss_ratio:%.2f\r\n"
               "allocator_rss_bytes:%llu\r\n"
               "rss_overhead_ratio:%.2f\r\n"
               "rss_overhead_bytes:%llu\r\n"
               "mem_fragmentation_ratio:%.2f\r\n"
               "mem_fragmentation_bytes:%llu\r\n"
               "mem_not_counted_for_evict:%llu\r\n",
               static_cast<unsigned long long>(config.maxmemory),
               Human(config.maxmemory).c_str(),
               std::string(EvictionPolicyName(config.maxmemory_policy)).c_str(),
               Ratio(m.active, m.allocated),
               static_cast<unsigned long long>(Excess(m.active, m.allocated)),
               Ratio(m.resident, m.active),
               static_cast<unsigned long long>(Excess(m.resident, m.active)),
               Ratio(m.rss, m.resident), static_cast<unsigned long long>(Excess(m.rss, m.resident)),
               Ratio(m.rss, m.total), static_cast<unsigned long long>(Excess(m.rss, m.total)),
               static_cast<unsigned long long>(Excess(m.total, counted)));
  // No replication backlog and no replicas' buffers: this node feeds no Redis replica a stream
  // (SYNC / PSYNC get a snapshot, then the connection closes: cmd_rdb.cc). The
  // cluster bus's buffers are not counted (its links are not Redis Cluster links; cluster/ keeps
  // no figure for them). The AOF buffer is the commit log's.
  AppendPrintf(out,
               "mem_replication_backlog:0\r\n"
               "mem_total_replication_buffers:0\r\n"
               "mem_clients_slaves:%llu\r\n"
               "mem_clients_normal:%llu\r\n"
               "mem_cluster_links:0\r\n"
               "mem_aof_buffer:%llu\r\n"
               "mem_allocator:%s\r\n",
               static_cast<unsigned long long>(m.clients_replicas),
               static_cast<unsigned long long>(m.clients_normal),
               static_cast<unsigned long long>(m.aof_buffer), AllocatorName().c_str());
  // No active defragmentation and no lazy freeing (values are freed as they go): always 0.
  out->append(
      "active_defrag_running:0\r\n"
      "lazyfree_pending_objects:0\r\n"
      "lazyfreed_objects:0\r\n");
  // Not Redis fields: the storage engine's memory.
  AppendPrintf(out,
               "memtable_bytes:%llu\r\n"
               "memtable_entries:%llu\r\n"
               "compressed_values:%llu\r\n"
               "tinylfu_policy_bytes:%llu\r\n"
               "tinylfu_policy_bytes_per_key:%.2f\r\n"
               "hot_values_decompressed:%llu\r\n"
               "tinylfu_sketch_bytes:%llu\r\n"
               "tinylfu_sketch_bytes_per_key:%.2f\r\n"
               "tinylfu_window_bytes:%llu\r\n"
               "tinylfu_probation_bytes:%llu\r\n"
               "tinylfu_protected_bytes:%llu\r\n"
               "tinylfu_admitted_keys:%llu\r\n"
               "tinylfu_rejected_keys:%llu\r\n",
               static_cast<unsigned long long>(engine.memtable_bytes),
               static_cast<unsigned long long>(engine.memtable_entries),
               static_cast<unsigned long long>(engine.compressed_values),
               static_cast<unsigned long long>(engine.policy_bytes),
               PerKey(engine.policy_bytes, engine.memtable_entries),
               static_cast<unsigned long long>(engine.hot_values_decompressed),
               static_cast<unsigned long long>(engine.sketch_bytes),
               PerKey(engine.sketch_bytes, engine.memtable_entries),
               static_cast<unsigned long long>(engine.window_bytes),
               static_cast<unsigned long long>(engine.probation_bytes),
               static_cast<unsigned long long>(engine.protected_bytes),
               static_cast<unsigned long long>(engine.admitted_keys),
               static_cast<unsigned long long>(engine.rejected_keys));
}

}  // namespace dynakv::server
