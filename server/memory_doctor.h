// MEMORY DOCTOR's judgement (Redis 7.0's getMemoryDoctorReport): its checks on the node's
// memory figures and its report, word for word. No replica follows this node's stream, so the
// replica figures are 0 here (a MONITOR client is a normal client, as Redis 7.0's getClientType
// makes it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dynakv::server {

// What MEMORY STATS reports and MEMORY DOCTOR judges (Redis's getMemoryOverheadData), bytes.
struct MemoryFigures {
  std::uint64_t total = 0, peak = 0, startup = 0;
  std::uint64_t clients_normal = 0, clients_replicas = 0;  // their buffers
  std::uint64_t normal_clients = 0, replica_clients = 0;   // how many
  std::uint64_t lua_caches = 0, overhead = 0, keys = 0, net = 0, dataset = 0;
  std::uint64_t functions_caches = 0;  // the loaded libraries (code, names, function entries)
  std::uint64_t aof_buffer = 0;        // commit-log records not yet handed to the kernel
  std::uint64_t rss = 0, allocated = 0, active = 0, resident = 0;  // allocator's (jemalloc)
  std::uint32_t databases_with_keys = 0;
  std::size_t cached_scripts = 0;
  bool jemalloc = true;  // the allocator the report names
};

class Server;

// The node's figures now (cmd_memory.cc): what INFO memory and MEMORY STATS both report.
MemoryFigures MeasureMemory(Server& server);

// a / b, 0 when b is 0; and how much a exceeds b (0 when it does not).
double Ratio(std::uint64_t a, std::uint64_t b);
std::uint64_t Excess(std::uint64_t a, std::uint64_t b);

// The report: under 5 MB used, the "instance is empty" one; else each issue found (a peak over
// 150% of the memory used now, fragmentation, allocator and RSS overheads over 1.1-1.4 and 10 MB,
// client buffers over 200 KB each, replica buffers over 10 MB, over 1000 cached scripts), or the
// all-clear.
std::string MemoryDoctorReport(const MemoryFigures& m);

}  // namespace dynakv::server
