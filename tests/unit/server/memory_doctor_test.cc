#include "memory_doctor.h"

#include <doctest/doctest.h>

#include <string>

using dynakv::server::MemoryDoctorReport;
using dynakv::server::MemoryFigures;

namespace {

constexpr std::uint64_t kMb = 1024 * 1024;

// A healthy 100 MB node: no ratio over its limit, one client.
MemoryFigures Healthy() {
  MemoryFigures m;
  m.total = m.peak = m.allocated = m.active = m.resident = m.rss = 100 * kMb;
  m.normal_clients = 1;
  m.clients_normal = 20000;
  return m;
}

bool Mentions(const std::string& report, const std::string& what) {
  return report.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("MEMORY DOCTOR: little memory, the all-clear, and Redis's frame around issues") {
  MemoryFigures small = Healthy();
  small.total = 5 * kMb - 1;
  small.peak = 500 * kMb;  // not judged: too little memory to say anything
  CHECK(MemoryDoctorReport(small).starts_with("Hi Sam, this instance is empty"));
  CHECK(MemoryDoctorReport(small).ends_with("finished rebooting.\n"));
  CHECK(MemoryDoctorReport(Healthy()) ==
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
        "occurs on this base.\n");
  MemoryFigures peaked = Healthy();
  peaked.peak = 151 * kMb;
  const std::string report = MemoryDoctorReport(peaked);
  CHECK(
      report.starts_with("Sam, I detected a few issues in this Redis instance memory "
                         "implants:\n\n * Peak memory: "));
  CHECK(report.ends_with(".\n\nI'm here to keep you safe, Sam. I want to help you.\n"));
  peaked.peak = 150 * kMb;  // exactly 150%: not "more than"
  CHECK(MemoryDoctorReport(peaked).starts_with("Hi Sam, I can't find"));
}

TEST_CASE("MEMORY DOCTOR: each of Redis's checks, at its limits") {
  struct Case {
    const char* name;
    void (*change)(MemoryFigures&);
    const char* mention;
  };
  const Case cases[] = {
      {"total rss", [](MemoryFigures& m) { m.rss = 141 * kMb + kMb; }, " * High total RSS: "},
      {"allocator fragmentation",
       [](MemoryFigures& m) { m.active = m.resident = m.rss = 112 * kMb; },
       " * High allocator fragmentation: "},
      {"allocator rss", [](MemoryFigures& m) { m.resident = m.rss = 112 * kMb; },
       " * High allocator RSS overhead: "},
      {"process rss", [](MemoryFigures& m) { m.rss = 112 * kMb; },
       " * High process RSS overhead: "},
      {"client buffers",
       [](MemoryFigures& m) {
         m.clients_normal = 2 * (1024 * 200 + 1);
         m.normal_clients = 2;
       },
       " * Big client buffers: "},
      {"replica buffers",
       [](MemoryFigures& m) {
         m.replica_clients = 1;
         m.clients_replicas = 10 * kMb + 1;
       },
       " * Big replica buffers: "},
      {"scripts", [](MemoryFigures& m) { m.cached_scripts = 1001; }, " * Many scripts: "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    MemoryFigures m = Healthy();
    c.change(m);
    const std::string report = MemoryDoctorReport(m);
    CHECK(Mentions(report, c.mention));
    CHECK(!Mentions(report, " * Peak memory: "));
  }
  // Ratios over their limit but by less than 10 MB: nothing to report.
  MemoryFigures m = Healthy();
  m.total = m.peak = m.allocated = m.active = m.resident = 6 * kMb;
  m.rss = 9 * kMb;  // 1.5 times the memory used, 3 MB over
  CHECK(MemoryDoctorReport(m).starts_with("Hi Sam, I can't find"));
  // Just at the client limit: not over it.
  m = Healthy();
  m.clients_normal = 1024 * 200;
  CHECK(MemoryDoctorReport(m).starts_with("Hi Sam, I can't find"));
  // The allocator the high-RSS report names.
  m = Healthy();
  m.rss = 150 * kMb;
  m.jemalloc = false;
  CHECK(Mentions(MemoryDoctorReport(m), "Note: The currently used allocator is \"libc\".\n\n"));
}
