#include "info.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "build_info.h"
#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster_blocking.h"
#include "cluster_executor.h"
#include "command_util.h"
#include "config.h"
#include "format.h"
#include "info_command_stats.h"
#include "info_sections.h"
#include "replica_link.h"
#include "server.h"
#include "storage/engine.h"

// jemalloc's control interface. Weak, so the server library also links without jemalloc (unit
// tests); the executable links jemalloc and then this resolves.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace dynakv::server {
namespace {

// Redis 7.0's default sections; "all" adds commandstats and latencystats ("everything" also
// modules' sections, of which there are none).
constexpr std::string_view kDefaultSections[] = {
    "server", "clients", "memory",  "persistence", "stats",   "replication",
    "cpu",    "modules", "errorstats", "cluster",  "keyspace"};
constexpr std::string_view kAllOnlySections[] = {"commandstats", "latencystats"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string ExecutablePath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

std::string Field(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ':';
  out += value;
  out += "\r\n";
  return out;
}

// Redis's redis_build_id: a hash of what the binary was built from (FNV-1a, 64 bits).
std::string BuildId() {
  char compiler[32];
  std::snprintf(compiler, sizeof(compiler), "%d.%d.%d", __GNUC__, __GNUC_MINOR__,
                __GNUC_PATCHLEVEL__);
  const std::string what = std::string(DYNAKV_VERSION) + DYNAKV_GIT_SHA1 +
                           std::to_string(DYNAKV_GIT_DIRTY) + compiler;
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : what) hash = (hash ^ c) * 1099511628211ull;
  char text[17];
  std::snprintf(text, sizeof(text), "%llx", static_cast<unsigned long long>(hash));
  return text;
}

// The event loop's poller: libuv's on this platform.
constexpr const char* kMultiplexingApi =
#if defined(__linux__)
    "epoll";
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    "kqueue";
#else
    "poll";
#endif

void ServerSection(Server& server, std::string* out) {
  utsname uts{};
  uname(&uts);
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const long long now_us = static_cast<long long>(tv.tv_sec) * 1000000 + tv.tv_usec;
  const std::int64_t now_ms = now_us / 1000;
  const std::int64_t uptime = (now_ms - server.start_time_ms()) / 1000;
  *out += "# Server\r\n";
  // The commit built (at configure time), uv_hrtime's clock, C++ atomics (the compiler's
  // builtins, Redis's "c11-builtin"), systemd when it started the node (NOTIFY_SOCKET: the unit's
  // Type=notify), the memtable's access clock (OBJECT IDLETIME's), and no I/O threads.
  AppendPrintf(out,
               "redis_version:%s\r\n"
               "redis_git_sha1:%s\r\n"
               "redis_git_dirty:%d\r\n"
               "redis_build_id:%s\r\n"
               "redis_mode:standalone\r\n"
               "os:%s %s %s\r\n"
               "arch_bits:%d\r\n"
               "monotonic_clock:POSIX clock_gettime\r\n"
               "multiplexing_api:%s\r\n"
               "atomicvar_api:c11-builtin\r\n"
               "gcc_version:%d.%d.%d\r\n"
               "process_id:%d\r\n"
               "process_supervised:%s\r\n"
               "run_id:%s\r\n"
               "tcp_port:%d\r\n"
               "server_time_usec:%lld\r\n"
               "uptime_in_seconds:%lld\r\n"
               "uptime_in_days:%lld\r\n"
               "hz:%d\r\n"
               "configured_hz:%d\r\n"
               "lru_clock:%lld\r\n",
               std::string(kRedisCompatVersion).c_str(), DYNAKV_GIT_SHA1, DYNAKV_GIT_DIRTY,
               BuildId().c_str(), uts.sysname, uts.release, uts.machine,
               static_cast<int>(sizeof(void*) * 8), kMultiplexingApi, __GNUC__, __GNUC_MINOR__,
               __GNUC_PATCHLEVEL__, static_cast<int>(getpid()),
               std::getenv("NOTIFY_SOCKET") != nullptr ? "systemd" : "no",
               server.run_id().c_str(), server.port(), now_us, static_cast<long long>(uptime),
               static_cast<long long>(uptime / 86400), server.config().hz, server.config().hz,
               static_cast<long long>((now_ms / 1000) & ((1 << 24) - 1)));
  *out += Field("executable", ExecutablePath());
  *out += Field("config_file", server.config().config_file);
  *out += "io_threads_active:0\r\n";
  *out += Field("dynakv_version", DYNAKV_VERSION);  // not a Redis field
}

// cluster_connections: the bus's connections to the other members in cluster mode (Redis
// counts its cluster links). clients_in_timeout_table: the blocked clients with a timeout (a
// blocking pop, or WAIT in cluster mode), as Redis's clients_timeout_table.
void ClientsSection(Server& server, std::string* out) {
  cluster::ClusterNode* node = server.cluster_node();
  AppendPrintf(
      out,
      "# Clients\r\n"
      "connected_clients:%zu\r\n"
      "cluster_connections:%llu\r\n"
      "maxclients:%d\r\n"
      "client_recent_max_input_buffer:%llu\r\n"
      "client_recent_max_output_buffer:%llu\r\n"
      "blocked_clients:%zu\r\n"
      "tracking_clients:%zu\r\n"
      "clients_in_timeout_table:%zu\r\n",
      server.connected_clients(),
      static_cast<unsigned long long>(node != nullptr ? node->stats().bus_connections : 0),
      server.config().maxclients,
      static_cast<unsigned long long>(server.recent_max_input_buffer()),
      static_cast<unsigned long long>(server.recent_max_output_buffer()),
      server.blocked_lists().blocked_clients() +
          (server.cluster_blocking() ? server.cluster_blocking()->blocked_clients() : 0) +
          (server.cluster_executor() ? server.cluster_executor()->waits().blocked_clients() : 0),
      server.tracking().clients(),
      server.blocked_lists().timed_clients() +
          (server.cluster_blocking() ? server.cluster_blocking()->timed_clients() : 0) +
          (server.cluster_executor() ? server.cluster_executor()->waits().timed_clients() : 0));
}

void ReplicationSection(Server& server, std::string* out) {
  // A single node is a master without replicas; clients such as redis-py's Sentinel support
  // and redis-benchmark read the role.
  // As a replica of a Redis master (REPLICAOF): Redis's replica fields, then the master's id
  // and the offset applied.
  // No replica of this node follows a stream (SYNC / PSYNC get a snapshot only), so there is
  // no failover, no backlog and no previous replication id.
  const ReplicaLink& link = server.replication();
  const bool replica = link.active();
  out->append(replica ? "# Replication\r\nrole:slave\r\n" : "# Replication\r\nrole:master\r\n");
  if (replica) link.AppendInfo(out);
  AppendPrintf(out,
               "connected_slaves:0\r\n"
               "master_failover_state:no-failover\r\n"
               "master_replid:%s\r\n"
               "master_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:%lld\r\n"
               "second_repl_offset:-1\r\n"
               "repl_backlog_active:0\r\n"
               "repl_backlog_size:0\r\n"
               "repl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n",
               replica && !link.replid().empty() ? link.replid().c_str() : server.run_id().c_str(),
               replica && link.offset() > 0 ? link.offset() : 0LL);
}

void CpuSection(std::string* out) {
  rusage self{};
  rusage children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  // INFO runs on the loop thread: Redis's main thread.
  rusage main_thread{};
  getrusage(RUSAGE_THREAD, &main_thread);
  AppendPrintf(out,
               "# CPU\r\n"
               "used_cpu_sys:%ld.%06ld\r\n"
               "used_cpu_user:%ld.%06ld\r\n"
               "used_cpu_sys_children:%ld.%06ld\r\n"
               "used_cpu_user_children:%ld.%06ld\r\n"
               "used_cpu_sys_main_thread:%ld.%06ld\r\n"
               "used_cpu_user_main_thread:%ld.%06ld\r\n",
               static_cast<long>(self.ru_stime.tv_sec), static_cast<long>(self.ru_stime.tv_usec),
               static_cast<long>(self.ru_utime.tv_sec), static_cast<long>(self.ru_utime.tv_usec),
               static_cast<long>(children.ru_stime.tv_sec),
               static_cast<long>(children.ru_stime.tv_usec),
               static_cast<long>(children.ru_utime.tv_sec),
               static_cast<long>(children.ru_utime.tv_usec),
               static_cast<long>(main_thread.ru_stime.tv_sec),
               static_cast<long>(main_thread.ru_stime.tv_usec),
               static_cast<long>(main_thread.ru_utime.tv_sec),
               static_cast<long>(main_thread.ru_utime.tv_usec));
}

// Counters are this node's as a coordinator (reads, writes, repairs) and as a replica (requests
// served). The keyspace commands listed as node-local answer for this node's replica only.
//
// Redis's own "# Cluster" section says cluster_enabled:0 in cluster mode too: dynakv is not a
// Redis Cluster (no slots, no MOVED; every node serves every key), and a Redis Cluster client
// seeing 1 would switch to slot routing and fail on the CLUSTER commands it then sends. The
// cluster's own fields follow under "# Dynakv" (INFO dynakv; INFO cluster shows both).
void ClusterSection(Server& server, std::string* out) {
  *out += "# Cluster\r\n";
  *out += "cluster_enabled:0\r\n";
}

// One line per non-empty database, as Redis; avg_ttl is the storage expire cycle's estimate,
// made as Redis's is (Engine::AvgTtlMs).
void KeyspaceSection(Server& server, std::string* out) {
  *out += "# Keyspace\r\n";
  storage::Engine& engine = server.engine();
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    const std::uint64_t keys = engine.KeyCount(db);
    if (keys == 0) continue;
    AppendPrintf(out, "db%u:keys=%llu,expires=%llu,avg_ttl=%lld\r\n", db,
                 static_cast<unsigned long long>(keys),
                 static_cast<unsigned long long>(engine.KeysWithExpiry(db)),
                 static_cast<long long>(engine.AvgTtlMs(db)));
  }
}

}  // namespace

std::uint64_t RssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  const int fields = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (fields != 2) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

bool UsingJemalloc() { return mallctl != nullptr; }

std::uint64_t UsedMemoryBytes() {
  if (mallctl != nullptr) {
    // jemalloc's statistics are snapshots refreshed by advancing the epoch.
    std::uint64_t epoch = 1;
    std::size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
    std::size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return allocated;
  }
  return RssBytes();
}

std::string GenerateInfo(Server& server, std::span<const std::string_view> sections) {
  std::vector<std::string> wanted;
  for (std::string_view section : sections) {
    const std::string name = Lower(section);
    if (name == "all" || name == "everything" || name == "default") {
      wanted.insert(wanted.end(), std::begin(kDefaultSections), std::end(kDefaultSections));
      if (name != "default") {
        wanted.insert(wanted.end(), std::begin(kAllOnlySections), std::end(kAllOnlySections));
      }
    } else {
      wanted.push_back(name);
    }
  }
  if (sections.empty()) {
    wanted.assign(std::begin(kDefaultSections), std::end(kDefaultSections));
  }
  auto wants = [&](std::string_view name) {
    return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };

  const storage::EngineStats engine = server.engine().Stats();
  std::string out;
  auto section = [&](std::string_view name, auto&& render) {
    if (!wants(name)) return;
    if (!out.empty()) out += "\r\n";
    render();
  };
  section("server", [&] { ServerSection(server, &out); });
  section("clients", [&] { ClientsSection(server, &out); });
  section("memory", [&] { MemorySection(server, engine, &out); });
  section("persistence", [&] { PersistenceSection(server, engine, &out); });
  section("stats", [&] { StatsSection(server, engine, &out); });
  section("replication", [&] { ReplicationSection(server, &out); });
  section("cpu", [&] { CpuSection(&out); });
  // Redis's module list, "module_list" by its section name: there are no modules.
  if (wants("module_list") && !wants("modules")) wanted.emplace_back("modules");
  section("modules", [&] { out += "# Modules\r\n"; });
  section("commandstats", [&] { CommandStatsSection(server, &out); });
  section("errorstats", [&] { ErrorStatsSection(server, &out); });
  section("latencystats", [&] { LatencyStatsSection(server, &out); });
  section("cluster", [&] { ClusterSection(server, &out); });
  if (server.cluster_node() != nullptr && (wants("cluster") || wants("dynakv"))) {
    if (!out.empty()) out += "\r\n";
    DynakvSection(server, &out);
  }
  section("keyspace", [&] { KeyspaceSection(server, &out); });
  return out;
}

}  // namespace dynakv::server
