#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "command_stats.h"
#include "latency_monitor.h"
#include "monitor.h"
#include "slowlog.h"

namespace dynakv::server {
namespace {

TEST_CASE("slowlog keeps the newest entries and cuts arguments as Redis") {
  SlowLog log;
  const std::string long_arg(200, 'x');
  std::vector<std::string> storage = {"set", "k", long_arg};
  std::vector<std::string_view> argv(storage.begin(), storage.end());
  log.Push(argv, {}, 5, "1.2.3.4:5", "name", 10, 128);  // faster than the threshold
  CHECK(log.entries().empty());
  log.Push(argv, {}, 10, "1.2.3.4:5", "name", 10, 128);
  REQUIRE(log.entries().size() == 1);
  const SlowLog::Entry& e = log.entries().front();
  CHECK(e.id == 0);
  CHECK(e.duration_us == 10);
  CHECK(e.argv[2] == std::string(128, 'x') + "... (72 more bytes)");
  CHECK(e.peer == "1.2.3.4:5");
  CHECK(e.client_name == "name");

  std::vector<std::string> many = {"del"};
  for (int i = 0; i < 40; ++i) many.push_back("k" + std::to_string(i));
  std::vector<std::string_view> many_argv(many.begin(), many.end());
  log.Push(many_argv, {false, true}, 0, "p", "", 0, 128);
  const SlowLog::Entry& cut = log.entries().front();
  CHECK(cut.id == 1);
  REQUIRE(cut.argv.size() == 32);
  CHECK(cut.argv[1] == "(redacted)");
  CHECK(cut.argv[30] == "k29");
  CHECK(cut.argv[31] == "... (10 more arguments)");

  for (int i = 0; i < 5; ++i) log.Push(argv, {}, 0, "p", "", 0, 3);
  CHECK(log.entries().size() == 3);
  CHECK(log.entries().front().id == 6);
  log.Push(argv, {}, 100, "p", "", -1, 3);  // disabled
  log.Push(argv, {}, 100, "p", "", 0, 0);   // no room
  CHECK(log.entries().front().id == 6);
}

TEST_CASE("latency events keep one sample a second, the worst, in a ring of 160") {
  LatencyMonitor monitor;
  monitor.AddSampleIfNeeded("command", 5, 0, 1000);  // threshold 0: off
  CHECK(monitor.events().empty());
  monitor.AddSampleIfNeeded("command", 5, 10, 1000);  // below the threshold
  CHECK(monitor.events().empty());
  monitor.AddSampleIfNeeded("command", 20, 10, 1000);
  monitor.AddSampleIfNeeded("command", 50, 10, 1000);
  monitor.AddSampleIfNeeded("command", 30, 10, 1000);
  const LatencyMonitor::Series* series = monitor.Find("command");
  REQUIRE(series != nullptr);
  REQUIRE(series->Ordered().size() == 1);
  CHECK(series->Latest().latency_ms == 50);
  CHECK(series->max_ms == 50);
  for (int s = 1; s <= 200; ++s) monitor.AddSample("command", 10 + s, 1000 + s);
  series = monitor.Find("command");
  CHECK(series->Ordered().size() == LatencyMonitor::kSamples);
  CHECK(series->Ordered().front().time == 1000 + 200 - 159);
  CHECK(series->Latest().latency_ms == 210);
  CHECK(series->max_ms == 210);
  CHECK(monitor.Reset("nosuch") == 0);
  CHECK(monitor.Reset("command") == 1);
  CHECK(monitor.ResetAll() == 0);
}

TEST_CASE("latency doctor reports each event with Redis's analysis") {
  LatencyMonitor monitor;
  CHECK(monitor.Doctor(0, 10000).starts_with("I'm sorry, Dave, I can't do that."));
  CHECK(monitor.Doctor(1, 10000).starts_with("Dave, no latency spike was observed"));
  monitor.AddSample("command", 100, 1000);
  monitor.AddSample("command", 300, 1002);
  const std::string report = monitor.Doctor(1, 10000, 1004);
  CHECK(report.find("1. command: 2 latency spikes (average 200ms, mean deviation 100ms, period "
                    "2.00 sec). Worst all time event 300ms.") != std::string::npos);
  CHECK(report.find("slowlog-log-slower-than 1000") != std::string::npos);
}

TEST_CASE("error replies are counted by their code") {
  CommandStats stats(4);
  stats.CountError("ERR unknown command");
  stats.CountError("WRONGTYPE Operation against a key");
  stats.CountError("ERR again");
  stats.CountError("NOSPACEINTHIRTYONEBYTESATALLXXXXXXX here");  // no space early: ERR
  CHECK(stats.errors().at("ERR") == 3);
  CHECK(stats.errors().at("WRONGTYPE") == 1);
  stats.Called(2, 1500, true, true);
  stats.Rejected(2);
  CHECK(stats.Of(2).calls == 1);
  CHECK(stats.Of(2).failed_calls == 1);
  CHECK(stats.Of(2).rejected_calls == 1);
  CHECK(stats.Of(2).histogram->total_count() == 1);
  stats.Reset();
  CHECK(stats.errors().empty());
  CHECK(stats.Of(2).calls == 0);
  CHECK(stats.Of(2).histogram == nullptr);
}

TEST_CASE("monitor lines quote arguments as Redis's sdscatrepr") {
  std::vector<std::string> storage = {"set", "a b", std::string("q\"\\\n\r\t\a\b\x01\xff", 10)};
  std::vector<std::string_view> argv(storage.begin(), storage.end());
  CHECK(MonitorLine(1339518083107412, 3, "127.0.0.1:60866", argv, {false, false, true}) ==
        "+1339518083.107412 [3 127.0.0.1:60866] \"set\" \"a b\" \"(redacted)\"\r\n");
  CHECK(MonitorLine(5, 0, "lua", argv, {}) ==
        "+0.000005 [0 lua] \"set\" \"a b\" \"q\\\"\\\\\\n\\r\\t\\a\\b\\x01\\xff\"\r\n");
}

}  // namespace
}  // namespace dynakv::server
