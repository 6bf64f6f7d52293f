#include "memory_doctor.h"

namespace dynakv::server {

double Ratio(std::uint64_t a, std::uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

std::uint64_t Excess(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

std::string MemoryDoctorReport(const MemoryFigures& m) {
  constexpr std::uint64_t k10Mb = 10 << 20;
  if (m.total < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector "
           "can't be used in these conditions. Please, leave for your mission on Earth and fill "
           "it with some data. The new Sam and I will be back to our programming as soon as I "
           "finished rebooting.\n";
  }
  const bool big_peak = Ratio(m.peak, m.total) > 1.5;
  const bool high_frag = Ratio(m.rss, m.total) > 1.4 && Excess(m.rss, m.total) > k10Mb;
  const bool high_alloc_frag =
      Ratio(m.active, m.allocated) > 1.1 && Excess(m.active, m.allocated) > k10Mb;
  const bool high_alloc_rss =
      Ratio(m.resident, m.active) > 1.1 && Excess(m.resident, m.active) > k10Mb;
  const bool high_proc_rss = Ratio(m.rss, m.resident) > 1.1 && Excess(m.rss, m.resident) > k10Mb;
  const bool big_client_buf =
      m.normal_clients > 0 && m.clients_normal / m.normal_clients > 1024 * 200;
  const bool big_slave_buf = m.replica_clients > 0 && m.clients_replicas > k10Mb;
  const bool many_scripts = m.cached_scripts > 1000;
  if (!big_peak && !high_frag && !high_alloc_frag && !high_alloc_rss && !high_proc_rss &&
      !big_client_buf && !big_slave_buf && !many_scripts) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
           "occurs on this base.\n";
  }
  std::string report = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
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
    report += m.jemalloc ? "jemalloc" : "libc";
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
  return report;
}

}  // namespace dynakv::server
