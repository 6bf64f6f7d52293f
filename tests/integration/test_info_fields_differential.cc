// INFO fields against redis-server 7.0: every field Redis shows in each section of INFO
// everything is in ours too; the instantaneous network rates of INFO stats
// (instantaneous_input_kbps / instantaneous_output_kbps, sampled as Redis's
// trackInstantaneousMetric) and the main thread's CPU of INFO cpu, with Redis's names, places
// and formats, and values that follow the traffic.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "raw_socket.h"
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

// Every section of INFO everything: its name (lower case) -> its field names.
std::map<std::string, std::vector<std::string>> SectionFields(Client& client) {
  const Reply info = client.Command({"INFO", "everything"});
  std::map<std::string, std::vector<std::string>> sections;
  std::vector<std::string>* current = nullptr;
  std::size_t start = 0;
  while (start < info.str.size()) {
    std::size_t end = info.str.find("\r\n", start);
    if (end == std::string::npos) end = info.str.size();
    const std::string line = info.str.substr(start, end - start);
    start = end + 2;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string name = line.substr(2);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      current = &sections[name];
    } else if (current != nullptr) {
      current->push_back(line.substr(0, line.find(':')));
    }
  }
  return sections;
}

// Redis fields ours does not show, each with why. (None at present: every field of a standalone
// Redis 7.0.15 with appendonly on has a dynakv value; the list stays for the day one cannot.)
const std::map<std::string, std::string> kNotShown = {};

}  // namespace

TEST_CASE("INFO everything has every field redis-server 7.0 shows, section by section") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  // The same traffic on both, so that the per-command, per-error and per-database fields
  // (commandstats, latencystats, errorstats, keyspace) name the same things.
  for (Client* c : {&a, &b}) {
    REQUIRE(c->Command({"SET", "k", "v"}) == Reply::Status("OK"));
    REQUIRE(c->Command({"GET", "k"}) == Reply::Bulk("v"));
    REQUIRE(c->Command({"INCR", "k"}).IsError());
    REQUIRE(c->Command({"SELECT", "3"}) == Reply::Status("OK"));
    REQUIRE(c->Command({"SET", "k3", "v", "EX", "100"}) == Reply::Status("OK"));
  }
  const auto mine = SectionFields(a);
  const auto theirs = SectionFields(b);
  const std::vector<std::string> kSections = {
      "server",     "clients",    "memory",       "persistence",  "stats",    "replication",
      "cpu",        "modules",    "errorstats",   "cluster",      "keyspace", "commandstats",
      "latencystats"};
  for (const std::string& section : kSections) {
    CAPTURE(section);
    REQUIRE(theirs.count(section) == 1);
    REQUIRE(mine.count(section) == 1);
    const std::vector<std::string>& have = mine.at(section);
    for (const std::string& field : theirs.at(section)) {
      if (kNotShown.count(field) != 0) continue;
      CAPTURE(field);
      CHECK(std::find(have.begin(), have.end(), field) != have.end());
    }
  }
  // And no section of ours that Redis lacks, besides the cluster's own in cluster mode.
  for (const auto& [section, fields] : mine) {
    CAPTURE(section);
    CHECK(theirs.count(section) == 1);
  }

  // Some of the new fields' values follow what happened, as Redis's do: the changes not saved
  // yet (a checkpoint here, an RDB there), reads and writes of sockets, the error replies.
  for (Client* c : {&a, &b}) {
    CHECK(ReadInfoNumber(*c, "persistence", "rdb_changes_since_last_save") >= 2);
    REQUIRE(c->Command({"SAVE"}) == Reply::Status("OK"));
    CHECK(ReadInfoNumber(*c, "persistence", "rdb_changes_since_last_save") == 0);
    REQUIRE(c->Command({"SET", "k3", "w"}) == Reply::Status("OK"));
    CHECK(ReadInfoNumber(*c, "persistence", "rdb_changes_since_last_save") == 1);
    CHECK(ReadInfoNumber(*c, "stats", "total_reads_processed") > 5);
    CHECK(ReadInfoNumber(*c, "stats", "total_writes_processed") > 5);
    CHECK(ReadInfoNumber(*c, "memory", "used_memory_startup") > 0);
    CHECK(ReadInfoNumber(*c, "memory", "total_system_memory") > 0);
    CHECK(ReadInfoNumber(*c, "memory", "allocator_allocated") > 0);
    CHECK(ReadInfoNumber(*c, "server", "lru_clock") > 0);
    CHECK(ReadInfoField(*c, "replication", "master_failover_state") == "no-failover");
    CHECK(ReadInfoField(*c, "persistence", "aof_last_bgrewrite_status") == "ok");
  }
  // A request of 300 KB: the largest query buffer of the last seconds (the cron samples it).
  REQUIRE(a.Command({"SET", "big", std::string(300 * 1024, 'x')}) == Reply::Status("OK"));
  CHECK(WaitFor([&] {
    return ReadInfoNumber(a, "clients", "client_recent_max_input_buffer") >= 300 * 1024;
  }));
}

// Redis 7.0's getClientType makes a MONITOR client a normal client: its memory is not a
// replica's (it used to be counted as one here).
TEST_CASE("a MONITOR client's memory is a normal client's in INFO memory and MEMORY STATS") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (const ServerProcess* server : {&ours, &reference}) {
    CAPTURE(server->port());
    RawSocket monitor(server->port());
    REQUIRE(monitor.Send(EncodeCommand({"MONITOR"})));
    REQUIRE(monitor.ReadUntil("+OK\r\n", std::chrono::seconds(5)) == "+OK\r\n");
    Client c(server->port());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // Redis counts in its cron
    CHECK(ReadInfoNumber(c, "memory", "mem_clients_slaves") == 0);
    CHECK(ReadInfoNumber(c, "memory", "mem_clients_normal") > 0);
    const Reply stats = c.Command({"MEMORY", "STATS"});
    REQUIRE(stats.type == Reply::Type::kArray);
    for (std::size_t i = 0; i + 1 < stats.elements.size(); i += 2) {
      if (stats.elements[i].str == "clients.slaves") CHECK(stats.elements[i + 1] == Reply::Int(0));
    }
  }
}

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

namespace {

// INFO keyspace's line of database `db`: "keys=..,expires=..,avg_ttl=.." ("" for none).
std::string KeyspaceLine(Client& client, int db) {
  return ReadInfoField(client, "keyspace", "db" + std::to_string(db));
}

long long AvgTtl(const std::string& line) {
  const std::size_t at = line.find(",avg_ttl=");
  return at == std::string::npos ? -1 : std::stoll(line.substr(at + 9));
}

}  // namespace

// Redis's avg_ttl is its expire cycle's running estimate (2% new samples, 98% old) of the
// milliseconds left to the keys with a TTL; 0 until sampled and once none is left.
TEST_CASE("INFO keyspace avg_ttl is estimated as redis-server 7.0 estimates it") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  for (Client* c : {&ours, &redis}) {
    REQUIRE(c->Command({"SELECT", "5"}) == Reply::Status("OK"));
    for (int i = 0; i < 100; ++i) {
      REQUIRE(c->Command({"SET", "t" + std::to_string(i), "v", "EX", "100"}) ==
              Reply::Status("OK"));
      REQUIRE(c->Command({"SET", "p" + std::to_string(i), "v"}) == Reply::Status("OK"));
    }
  }
  for (Client* c : {&ours, &redis}) {
    CAPTURE(c == &ours ? "dynakv" : "redis-server");
    // The cycle runs hz times a second; the first samples set the estimate.
    std::string line;
    CHECK(WaitFor([&] {
      line = KeyspaceLine(*c, 5);
      return AvgTtl(line) > 0;
    }));
    CHECK(line.rfind("keys=200,expires=100,avg_ttl=", 0) == 0);
    CHECK(AvgTtl(line) > 90'000);
    CHECK(AvgTtl(line) <= 100'000);
    CHECK(KeyspaceLine(*c, 0).empty());
  }
  // No key with a TTL left: the estimate goes back to 0.
  for (Client* c : {&ours, &redis}) {
    for (int i = 0; i < 100; ++i) {
      REQUIRE(c->Command({"PERSIST", "t" + std::to_string(i)}) == Reply::Int(1));
    }
  }
  for (Client* c : {&ours, &redis}) {
    CAPTURE(c == &ours ? "dynakv" : "redis-server");
    CHECK(WaitFor([&] { return KeyspaceLine(*c, 5) == "keys=200,expires=0,avg_ttl=0"; }));
  }
}

}  // namespace dynakv::itest
