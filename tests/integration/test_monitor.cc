// MONITOR against the installed redis-server 7: the same commands from another client give the
// same lines (time and client port aside), with Redis's quoting, redaction, database, "lua" for a
// script's calls and what Redis leaves out (admin commands).
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;

namespace {

// The monitor lines up to the one of ECHO <marker>, with the time replaced by T and the client's
// port dropped.
std::vector<std::string> MonitorLines(RawSocket& monitor, const std::string& marker) {
  const std::string text =
      monitor.ReadUntil("\"ECHO\" \"" + marker + "\"\r\n", std::chrono::seconds(5));
  std::vector<std::string> lines;
  const std::regex head(R"(^\+\d+\.\d{6} \[(\d+) (127\.0\.0\.1:\d+|lua)\] )");
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find("\r\n", pos);
    if (end == std::string::npos) break;
    std::string line = text.substr(pos, end - pos);
    pos = end + 2;
    std::smatch m;
    if (std::regex_search(line, m, head)) {
      const std::string source = m[2].str() == "lua" ? "lua" : "client";
      line = "[" + m[1].str() + " " + source + "] " + m.suffix().str();
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("MONITOR streams every command of every client in Redis's line format") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  RawSocket monitor_a(ours.port());
  RawSocket monitor_b(reference.port());
  REQUIRE(monitor_a.Send(EncodeCommand({"MONITOR"})));
  REQUIRE(monitor_b.Send(EncodeCommand({"MONITOR"})));
  CHECK(monitor_a.ReadUntil("\r\n", std::chrono::seconds(5)) == "+OK\r\n");
  CHECK(monitor_b.ReadUntil("\r\n", std::chrono::seconds(5)) == "+OK\r\n");
  Client a(ours.port());
  Client b(reference.port());
  const std::vector<std::vector<std::string>> commands = {
      {"SET", "key", "a \"quoted\"\nline\t\x01\xff\\"},
      {"GET", "key"},
      {"GET"},                          // refused: not shown
      {"NOSUCH", "x"},                  // unknown: not shown
      {"LPUSH", "key", "x"},            // failed: shown
      {"AUTH", "secret"},               // shown redacted
      {"CONFIG", "GET", "maxmemory"},   // admin: never shown
      {"CLIENT", "SETNAME", "watched"},
      {"SELECT", "3"},
      {"SET", "in3", "v"},
      {"SELECT", "0"},
      {"MULTI"},
      {"INCR", "n"},
      {"EXEC"},
      {"EVAL", "redis.call('set', 'from', 'lua') return 1", "0"},
      {"PING"},
      {"ECHO", "done"},
  };
  for (const auto& argv : commands) {
    const Reply got = a.Command(argv);
    const Reply want = b.Command(argv);
    CAPTURE(argv);
    CHECK(got == want);
  }
  const std::vector<std::string> ours_lines = MonitorLines(monitor_a, "done");
  const std::vector<std::string> reference_lines = MonitorLines(monitor_b, "done");
  auto joined = [](const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) out += line + "\n";
    return out;
  };
  CHECK(joined(ours_lines) == joined(reference_lines));
  CHECK(reference_lines.size() >= 10);

  // A second monitor sees the same; RESET ends monitoring, and the client serves commands again.
  REQUIRE(monitor_a.Send(EncodeCommand({"RESET"})));
  CHECK(monitor_a.ReadUntil("+RESET\r\n", std::chrono::seconds(5)).ends_with("+RESET\r\n"));
  a.Command({"ECHO", "after"});
  REQUIRE(monitor_a.Send(EncodeCommand({"PING"})));
  CHECK(monitor_a.ReadUntil("\r\n", std::chrono::seconds(5)) == "+PONG\r\n");

  // Inside a transaction MONITOR is refused at EXEC, as Redis's DENY BLOCKING rule.
  for (Client* c : {&a, &b}) c->Command({"MULTI"});
  const Reply queued_a = a.Command({"MONITOR"});
  const Reply queued_b = b.Command({"MONITOR"});
  CHECK(queued_a == queued_b);
  const Reply exec_a = a.Command({"EXEC"});
  const Reply exec_b = b.Command({"EXEC"});
  CHECK(exec_a == exec_b);

  // CLIENT LIST shows a monitor with flag O.
  const std::string list = a.Command({"CLIENT", "LIST"}).str;
  CHECK(list.find("flags=O") == std::string::npos);  // the only monitor left RESET
  RawSocket monitor_c(ours.port());
  REQUIRE(monitor_c.Send(EncodeCommand({"MONITOR"})));
  CHECK(monitor_c.ReadUntil("\r\n", std::chrono::seconds(5)) == "+OK\r\n");
  CHECK(a.Command({"CLIENT", "LIST"}).str.find("flags=O ") != std::string::npos);
}

TEST_CASE("cluster mode: MONITOR and INFO commandstats show the commands this node coordinates") {
  dynakv::itest::LocalCluster cluster(3);
  cluster.Start();
  RawSocket monitor(cluster.node(0).port());
  REQUIRE(monitor.Send(EncodeCommand({"MONITOR"})));
  CHECK(monitor.ReadUntil("\r\n", std::chrono::seconds(5)) == "+OK\r\n");
  Client coordinator(cluster.node(0).port());
  Client other(cluster.node(1).port());
  CHECK(dynakv::itest::UntilAvailable(coordinator, {"SET", "key", "v"}) == Reply::Status("OK"));
  CHECK(dynakv::itest::UntilAvailable(other, {"SET", "elsewhere", "v"}) == Reply::Status("OK"));
  CHECK(coordinator.Command({"GET", "key"}) == Reply::Bulk("v"));
  coordinator.Command({"ECHO", "done"});
  const std::vector<std::string> lines = MonitorLines(monitor, "done");
  CHECK(std::count(lines.begin(), lines.end(), "[0 client] \"SET\" \"key\" \"v\"") >= 1);
  CHECK(std::count(lines.begin(), lines.end(), "[0 client] \"GET\" \"key\"") == 1);
  for (const std::string& line : lines) CHECK(line.find("elsewhere") == std::string::npos);
  const std::string stats = coordinator.Command({"INFO", "commandstats"}).str;
  CHECK(stats.find("cmdstat_get:calls=1,") != std::string::npos);
  CHECK(stats.find("cmdstat_set:calls=") != std::string::npos);
}
