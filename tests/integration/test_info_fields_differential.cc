// INFO fields against redis-server 7.0: the instantaneous network rates of INFO stats
// (instantaneous_input_kbps / instantaneous_output_kbps, sampled as Redis's
// trackInstantaneousMetric) and the main thread's CPU of INFO cpu, with Redis's names, places
// and formats, and values that follow the traffic.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

namespace dynakv::itest {
namespace {

// The field names of `section` in order.
std::vector<std::string> FieldNames(Client& client, const std::string& section) {
  const Reply info = client.Command({"INFO", section});
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < info.str.size()) {
    std::size_t end = info.str.find("\r\n", start);
    if (end == std::string::npos) end = info.str.size();
    const std::string line = info.str.substr(start, end - start);
    if (!line.empty() && line[0] != '#') names.push_back(line.substr(0, line.find(':')));
    start = end + 2;
  }
  return names;
}

// Whether `name` comes right after `before` in `names`, skipping fields only one side has.
bool Follows(const std::vector<std::string>& names, const std::string& before,
             const std::string& name) {
  const auto at = std::find(names.begin(), names.end(), name);
  const auto prior = std::find(names.begin(), names.end(), before);
  return at != names.end() && prior != names.end() && prior < at;
}

}  // namespace

TEST_CASE("INFO's network rates and main-thread CPU have Redis 7.0's names, order and formats") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  for (Client* c : {&a, &b}) {
    const std::vector<std::string> stats = FieldNames(*c, "stats");
    CHECK(Follows(stats, "total_net_output_bytes", "instantaneous_input_kbps"));
    CHECK(Follows(stats, "instantaneous_input_kbps", "instantaneous_output_kbps"));
    CHECK(Follows(stats, "instantaneous_output_kbps", "rejected_connections"));
    const std::vector<std::string> cpu = FieldNames(*c, "cpu");
    CHECK(cpu == std::vector<std::string>{"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
                                          "used_cpu_user_children", "used_cpu_sys_main_thread",
                                          "used_cpu_user_main_thread"});
  }
  const std::regex kbps(R"(\d+\.\d\d)");
  const std::regex seconds(R"(\d+\.\d{6})");
  CHECK(std::regex_match(ReadInfoField(a, "stats", "instantaneous_input_kbps"), kbps));
  CHECK(std::regex_match(ReadInfoField(a, "stats", "instantaneous_output_kbps"), kbps));
  CHECK(std::regex_match(ReadInfoField(a, "cpu", "used_cpu_user_main_thread"), seconds));

  // About 1 MB in and out within a second: both rates show it for a while (16 samples of 100 ms).
  const std::string value(10000, 'v');
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 10; ++i) {
      REQUIRE(a.Command({"SET", "k", value}) == Reply::Status("OK"));
      REQUIRE(a.Command({"GET", "k"}) == Reply::Bulk(value));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double input = std::stod(ReadInfoField(a, "stats", "instantaneous_input_kbps"));
  const double output = std::stod(ReadInfoField(a, "stats", "instantaneous_output_kbps"));
  CHECK(input > 10.0);
  CHECK(output > 10.0);
  // The main thread is part of the process.
  const double main_user = std::stod(ReadInfoField(a, "cpu", "used_cpu_user_main_thread"));
  const double process_user = std::stod(ReadInfoField(a, "cpu", "used_cpu_user"));
  CHECK(main_user > 0);
  CHECK(main_user <= process_user + 0.000001);
  // Quiet again: the rates fall back once the samples are past (the INFO asking is traffic too).
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  CHECK(std::stod(ReadInfoField(a, "stats", "instantaneous_input_kbps")) < 1.0);
  CHECK(std::stod(ReadInfoField(a, "stats", "instantaneous_output_kbps")) < 1.0);
}

}  // namespace dynakv::itest
