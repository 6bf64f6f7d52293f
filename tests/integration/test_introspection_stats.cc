// Differential tests of the introspection commands against the installed redis-server 7: INFO
// commandstats / errorstats / latencystats and the sections INFO all / everything / default
// list, SLOWLOG and LATENCY. What is the same on both is compared exactly (field names, counts,
// error texts, argument lists); what depends on timing (microseconds, percentiles, timestamps,
// client ports) is compared by shape.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::Reply;

namespace {

const Flags kReferenceFlags = {"--enable-debug-command", "yes"};

// "name:value" lines of one INFO reply, in order (section headers and blank lines left out).
std::vector<std::pair<std::string, std::string>> InfoLines(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find("\r\n", pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t colon = line.find(':');
    lines.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return lines;
}

std::vector<std::string> Headers(const std::string& text) {
  std::vector<std::string> headers;
  std::size_t pos = 0;
  while ((pos = text.find("# ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      headers.push_back(text.substr(pos, text.find("\r\n", pos) - pos));
    }
    pos += 2;
  }
  return headers;
}

// cmdstat lines without their timing fields: "calls=2,rejected_calls=1,failed_calls=0".
std::map<std::string, std::string> CommandCounts(Client& client) {
  std::map<std::string, std::string> counts;
  for (const auto& [name, value] : InfoLines(client.Command({"INFO", "commandstats"}).str)) {
    const std::regex fields(
        R"(calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=(\d+),failed_calls=(\d+))");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(value, m, fields), value);
    counts[name] = "calls=" + m[1].str() + ",rejected_calls=" + m[2].str() +
                   ",failed_calls=" + m[3].str();
  }
  return counts;
}

// Replies of the same commands on both, which must be equal.
struct Both {
  Client& ours;
  Client& reference;
  Reply operator()(const std::vector<std::string>& argv) {
    return dynakv::itest::CheckSameReply(ours, reference, argv);
  }
};

}  // namespace

TEST_CASE("INFO commandstats and errorstats count calls, rejections, failures and error codes as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  both({"CONFIG", "RESETSTAT"});
  both({"SET", "a", "1"});
  both({"GET", "a"});
  both({"GET"});                   // arity: rejected_calls of get
  both({"NOSUCHCOMMAND", "x"});    // unknown: no command counts it, errorstat_ERR does
  both({"INCR", "a"});
  both({"LPUSH", "a", "x"});       // WRONGTYPE: failed_calls of lpush
  both({"INCRBY", "a", "notanumber"});
  a.Command({"CLIENT", "ID"});  // a subcommand: cmdstat_client|id (ids differ)
  b.Command({"CLIENT", "ID"});
  both({"CLIENT", "NOSUCH"});      // unknown subcommand: ERR, no command
  both({"CONFIG", "GET", "maxmemory"});
  both({"HSET", "h", "f", "v"});
  both({"MULTI"});
  both({"SET", "t", "1"});
  both({"INCR", "h"});
  both({"EXEC"});
  both({"MULTI"});
  both({"GET"});                   // rejected while queuing, the transaction aborts
  both({"EXEC"});
  both({"EVAL", "return redis.call('set', 'k', 'v')", "0"});
  both({"AUTH", "nobody", "wrong"});
  CHECK(CommandCounts(a) == CommandCounts(b));
  const Reply errors_a = a.Command({"INFO", "errorstats"});
  const Reply errors_b = b.Command({"INFO", "errorstats"});
  CHECK(errors_a.str == errors_b.str);
  CHECK(dynakv::itest::ReadInfoField(a, "stats", "total_error_replies") ==
        dynakv::itest::ReadInfoField(b, "stats", "total_error_replies"));

  // CONFIG RESETSTAT clears every counter and error code.
  both({"CONFIG", "RESETSTAT"});
  CHECK(CommandCounts(a) == CommandCounts(b));
  CHECK(a.Command({"INFO", "errorstats"}).str == b.Command({"INFO", "errorstats"}).str);
}

TEST_CASE("INFO latencystats lists each command's percentiles as latency-tracking-info-percentiles says") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  auto shape = [](Client& c) {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : InfoLines(c.Command({"INFO", "latencystats"}).str)) {
      out[name] = std::regex_replace(value, std::regex(R"(=\d+\.\d{3})"), "=N");
    }
    return out;
  };
  both({"CONFIG", "RESETSTAT"});
  both({"SET", "a", "1"});
  both({"GET", "a"});
  both({"CLIENT", "GETNAME"});
  const auto got = shape(a);
  CHECK(got == shape(b));
  CHECK(got.at("latency_percentiles_usec_get") == "p50=N,p99=N,p99.9=N");
  CHECK(got.count("latency_percentiles_usec_client|getname") == 1);

  both({"CONFIG", "SET", "latency-tracking-info-percentiles", "0 50.5 100"});
  both({"CONFIG", "GET", "latency-tracking-info-percentiles"});
  CHECK(shape(a) == shape(b));
  CHECK(shape(a).at("latency_percentiles_usec_get") == "p0=N,p50.5=N,p100=N");
  both({"CONFIG", "SET", "latency-tracking-info-percentiles", ""});
  CHECK(shape(a) == shape(b));
  both({"CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"});
  both({"CONFIG", "SET", "latency-tracking-info-percentiles", "101"});
  both({"CONFIG", "SET", "latency-tracking-info-percentiles", "-1"});
  both({"CONFIG", "GET", "latency-tracking-info-percentiles"});
  both({"CONFIG", "SET", "latency-tracking", "no"});
  CHECK(a.Command({"INFO", "latencystats"}).str == "# Latencystats\r\n");
  CHECK(b.Command({"INFO", "latencystats"}).str == "# Latencystats\r\n");
  both({"CONFIG", "SET", "latency-tracking", "maybe"});
}

TEST_CASE("INFO default, all and everything have Redis 7.0's sections in its order") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  a.Command({"SET", "k", "v"});
  b.Command({"SET", "k", "v"});
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"INFO"}, {"INFO", "default"}, {"INFO", "all"},
        {"INFO", "everything"}, {"INFO", "commandstats", "errorstats"}, {"INFO", "modules"},
        {"INFO", "module_list"}, {"INFO", "latencystats", "server"}}) {
    CAPTURE(argv);
    CHECK(Headers(a.Command(argv).str) == Headers(b.Command(argv).str));
  }
}

namespace {

// A SLOWLOG GET entry without what differs between two servers: the time is checked to be
// recent and the duration a number; the peer keeps its IP only.
Reply StableEntry(const Reply& entry) {
  REQUIRE(entry.type == Reply::Type::kArray);
  REQUIRE(entry.elements.size() == 6);
  CHECK(entry.elements[1].type == Reply::Type::kInteger);
  CHECK(std::abs(entry.elements[1].integer - static_cast<long long>(std::time(nullptr))) < 60);
  CHECK(entry.elements[2].type == Reply::Type::kInteger);
  const std::string peer = entry.elements[4].str;
  return Reply::Array({entry.elements[0], entry.elements[3],
                       Reply::Bulk(peer.substr(0, peer.find(':'))), entry.elements[5]});
}

std::vector<Reply> StableLog(Client& client, const std::string& count) {
  const Reply log = client.Command({"SLOWLOG", "GET", count});
  REQUIRE(log.type == Reply::Type::kArray);
  std::vector<Reply> out;
  for (const Reply& entry : log.elements) out.push_back(StableEntry(entry));
  return out;
}

}  // namespace

TEST_CASE("SLOWLOG logs, cuts and redacts commands as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  both({"SLOWLOG", "HELP"});
  both({"SLOWLOG", "LEN"});
  both({"SLOWLOG", "GET"});
  both({"SLOWLOG", "GET", "x"});
  both({"SLOWLOG", "GET", "-2"});
  both({"SLOWLOG", "GET", "1", "2"});
  both({"SLOWLOG", "LEN", "x"});
  both({"SLOWLOG", "RESET", "x"});
  both({"SLOWLOG", "NOSUCH"});
  both({"SLOWLOG"});
  both({"CONFIG", "GET", "slowlog-max-len"});
  both({"CONFIG", "GET", "slowlog-log-slower-than"});
  both({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  both({"CLIENT", "SETNAME", "logger"});
  both({"SET", "long", std::string(200, 'v')});
  std::vector<std::string> many = {"DEL"};
  for (int i = 0; i < 40; ++i) many.push_back("key" + std::to_string(i));
  both(many);
  both({"AUTH", "secret"});
  both({"AUTH", "user", "secret"});
  a.Command({"HELLO", "2", "AUTH", "default", "wrong"});  // its reply has the client id
  b.Command({"HELLO", "2", "AUTH", "default", "wrong"});
  both({"CONFIG", "SET", "requirepass", ""});
  both({"ACL", "SETUSER", "alice", "on", ">pw", "+get"});
  both({"MULTI"});
  both({"SET", "in", "multi"});
  both({"EXEC"});
  both({"EVAL", "return redis.call('get', 'in')", "0"});
  both({"SLOWLOG", "LEN"});
  CHECK(dynakv::itest::ReplyText(Reply::Array(StableLog(a, "-1"))) ==
        dynakv::itest::ReplyText(Reply::Array(StableLog(b, "-1"))));
  CHECK(StableLog(a, "3") == StableLog(b, "3"));
  CHECK(StableLog(a, "0") == StableLog(b, "0"));

  // slowlog-max-len keeps the newest; ids go on counting.
  both({"CONFIG", "SET", "slowlog-max-len", "2"});
  both({"PING"});
  both({"SLOWLOG", "LEN"});
  CHECK(StableLog(a, "-1") == StableLog(b, "-1"));
  both({"SLOWLOG", "RESET"});
  both({"SLOWLOG", "LEN"});
  both({"CONFIG", "SET", "slowlog-log-slower-than", "-1"});
  both({"PING"});
  both({"SLOWLOG", "LEN"});
  both({"CONFIG", "SET", "slowlog-log-slower-than", "-2"});
  both({"CONFIG", "SET", "slowlog-max-len", "-1"});
  both({"CONFIG", "SET", "slowlog-log-slower-than", "100000000"});
  both({"DEBUG", "SLEEP", "0"});
  both({"SLOWLOG", "LEN"});
}

TEST_CASE("LATENCY events, history, reset, doctor and histogram are Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  both({"LATENCY", "HELP"});
  both({"LATENCY", "DOCTOR"});  // disabled
  both({"LATENCY", "LATEST"});
  both({"LATENCY", "HISTORY", "command"});
  both({"LATENCY", "GRAPH", "command"});
  both({"LATENCY", "RESET"});
  both({"LATENCY", "NOSUCH"});
  both({"LATENCY", "HISTORY"});
  both({"CONFIG", "GET", "latency-monitor-threshold"});
  both({"CONFIG", "SET", "latency-monitor-threshold", "1"});
  both({"LATENCY", "DOCTOR"});  // enabled, nothing seen
  both({"DEBUG", "SLEEP", "0.1"});
  auto latest = [](Client& c) {
    const Reply r = c.Command({"LATENCY", "LATEST"});
    REQUIRE(r.elements.size() == 1);
    const Reply& e = r.elements[0];
    REQUIRE(e.elements.size() == 4);
    CHECK(e.elements[2].integer >= 100);
    CHECK(e.elements[2].integer < 1000);
    CHECK(e.elements[3].integer == e.elements[2].integer);
    return e.elements[0].str;
  };
  CHECK(latest(a) == "command");
  CHECK(latest(b) == "command");
  // A loaded machine may add a sample of another slow command in another second.
  const Reply history = a.Command({"LATENCY", "HISTORY", "command"});
  REQUIRE(history.elements.size() >= 1);
  CHECK(history.elements[0].elements.size() == 2);
  CHECK(b.Command({"LATENCY", "HISTORY", "command"}).elements.size() >= 1);
  // The doctor's report is word for word Redis's, numbers aside.
  const std::regex number(R"(\d+)");
  CHECK(std::regex_replace(a.Command({"LATENCY", "DOCTOR"}).str, number, "N") ==
        std::regex_replace(b.Command({"LATENCY", "DOCTOR"}).str, number, "N"));
  CHECK(a.Command({"LATENCY", "GRAPH", "command"}).str.starts_with("command - high "));
  both({"LATENCY", "RESET", "nosuch", "command"});
  both({"LATENCY", "LATEST"});
  both({"LATENCY", "RESET"});

  // HISTOGRAM: calls and the power-of-two buckets' shape.
  both({"CONFIG", "RESETSTAT"});
  both({"SET", "x", "1"});
  both({"SET", "x", "2"});
  a.Command({"CLIENT", "ID"});
  b.Command({"CLIENT", "ID"});
  auto histogram = [](Client& c, const std::vector<std::string>& argv) {
    const Reply r = c.Command(argv);
    REQUIRE(r.type == Reply::Type::kArray);  // RESP2: a map is a flat array
    std::map<std::string, long long> calls;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      const Reply& body = r.elements[i + 1];
      REQUIRE(body.elements.size() == 4);
      CHECK(body.elements[0] == Reply::Bulk("calls"));
      CHECK(body.elements[2] == Reply::Bulk("histogram_usec"));
      long long last = 0;
      for (std::size_t j = 0; j + 1 < body.elements[3].elements.size(); j += 2) {
        CHECK(body.elements[3].elements[j + 1].integer > last);  // cumulative
        last = body.elements[3].elements[j + 1].integer;
      }
      CHECK(last == body.elements[1].integer);
      calls[r.elements[i].str] = body.elements[1].integer;
    }
    return calls;
  };
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"LATENCY", "HISTOGRAM", "set"},
        {"LATENCY", "HISTOGRAM", "set", "nosuch", "client"},
        {"LATENCY", "HISTOGRAM", "client|id"},
        {"LATENCY", "HISTOGRAM", "get"}}) {
    CAPTURE(argv);
    CHECK(histogram(a, argv) == histogram(b, argv));
  }
  CHECK(histogram(a, {"LATENCY", "HISTOGRAM", "set"}).at("set") == 2);
}

TEST_CASE("SLOWLOG and LATENCY replies in RESP3 are byte for byte Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  raw.Compare({"SLOWLOG", "HELP"});
  raw.Compare({"SLOWLOG", "GET"});
  raw.Compare({"SLOWLOG", "LEN"});
  raw.Compare({"LATENCY", "LATEST"});
  raw.Compare({"LATENCY", "DOCTOR"});
  raw.Compare({"LATENCY", "HISTOGRAM", "nosuch"});
  raw.Compare({"LATENCY", "HISTORY", "nosuch"});
  raw.Compare({"LATENCY", "RESET"});
  raw.Compare({"CONFIG", "GET", "latency-tracking"});
  CHECK(raw.mismatches() == 0);
}

TEST_CASE("ROLE, WAIT and MEMORY STATS / DOCTOR / MALLOC-STATS / PURGE answer as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  both({"ROLE"});
  both({"WAIT", "0", "0"});
  both({"SET", "k", "v"});
  both({"WAIT", "0", "100"});
  both({"WAIT", "x", "0"});
  both({"WAIT", "0", "-1"});
  both({"WAIT", "0", "x"});
  both({"WAIT", "0"});
  both({"MEMORY", "PURGE"});
  both({"MEMORY", "STATS", "x"});
  // MEMORY STATS: Redis's field names in its order (values are each server's own).
  auto names = [](const Reply& stats) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 1 < stats.elements.size(); i += 2) {
      out.push_back(stats.elements[i].str);
      if (stats.elements[i + 1].type == Reply::Type::kArray) {  // db.N's map
        for (std::size_t j = 0; j < stats.elements[i + 1].elements.size(); j += 2) {
          out.push_back("  " + stats.elements[i + 1].elements[j].str);
        }
      }
    }
    return out;
  };
  const Reply stats = a.Command({"MEMORY", "STATS"});
  CHECK(names(stats) == names(b.Command({"MEMORY", "STATS"})));
  const std::string doctor = a.Command({"MEMORY", "DOCTOR"}).str;
  CAPTURE(doctor);
  CHECK((doctor.starts_with("Hi Sam, this instance is empty") ||
         doctor.starts_with("Hi Sam, I can't find any memory issue")));
  CHECK(b.Command({"MEMORY", "DOCTOR"}).str.starts_with("Hi Sam, this instance is empty"));
  CHECK(a.Command({"MEMORY", "MALLOC-STATS"}).str.starts_with("___ Begin jemalloc statistics ___"));
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  raw.Compare({"ROLE"});
  raw.Compare({"WAIT", "0", "0"});
  raw.Compare({"MEMORY", "PURGE"});
  CHECK(raw.mismatches() == 0);
}

TEST_CASE("DEBUG OBJECT describes a key as Redis does") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  both({"SET", "s", "hello"});
  both({"SET", "long", std::string(100, 'x')});
  both({"HSET", "h", "f", "v", "g", "w"});
  both({"SADD", "set", "1", "2", "3"});
  both({"DEBUG", "OBJECT", "missing"});
  const std::regex varying(R"(Value at:0x[0-9a-f]+|lru:\d+)");
  for (const char* key : {"s", "long", "h", "set"}) {
    CAPTURE(key);
    const Reply got = a.Command({"DEBUG", "OBJECT", key});
    const Reply want = b.Command({"DEBUG", "OBJECT", key});
    REQUIRE(got.type == Reply::Type::kStatus);
    CHECK(std::regex_replace(got.str, varying, "_") == std::regex_replace(want.str, varying, "_"));
  }
}
