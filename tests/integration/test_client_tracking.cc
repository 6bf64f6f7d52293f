// Client-side caching against redis-server 7: the same connections on both servers (RESP3
// clients getting invalidate pushes, RESP2 clients redirecting to a connection subscribed to
// __redis__:invalidate), the same commands, and after each command every byte each connection
// received, compared with Redis's.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::RawSocket;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferencePair;

namespace {

// Connections: 0 writer (RESP2), 1 RESP3 tracker, 2 RESP2 redirect target (subscribed),
// 3 RESP2 tracker (redirects to 2), 4 RESP3 tracker, 5 RESP3 redirect target.
const std::vector<int> kProtocols = {2, 3, 2, 2, 3, 3};

class TrackingPair {
 public:
  TrackingPair(int ours_port, int reference_port) {
    for (int port : {ours_port, reference_port}) {
      Side& side = port == ours_port ? ours_ : reference_;
      for (int protocol : kProtocols) {
        side.conns.push_back(std::make_unique<RawSocket>(port));
        RawSocket& s = *side.conns.back();
        side.ids.push_back(Send(s, {"CLIENT", "ID"}, "id"));
        if (protocol == 3) Send(s, {"HELLO", "3"}, "hello");
      }
    }
  }

  // Runs `argv` on `conn` of both servers ("$ID<n>" stands for connection n's client id there),
  // then drains every connection; all must match Redis byte for byte.
  // `ids_in_replies`: client ids in the replies and pushes (CLIENT GETREDIR, tracking-redir-broken)
  // are compared as "$ID<n>", as each server numbers its clients its own way.
  void Step(std::size_t conn, const std::vector<std::string>& argv, bool ids_in_replies = false) {
    ids_in_replies_ = ids_in_replies;
    CAPTURE(dynakv::itest::DescribeCommand(argv));
    CAPTURE(conn);
    const std::string tag = "mark-" + std::to_string(++marker_);
    const std::string want =
        Normalize(reference_, Send(*reference_.conns[conn], Bind(reference_, argv), tag));
    const std::string got = Normalize(ours_, Send(*ours_.conns[conn], Bind(ours_, argv), tag));
    if (got != want) ++mismatches_;
    CHECK(got == want);
    for (std::size_t other = 0; other < kProtocols.size(); ++other) {
      if (other == conn || closed_[other]) continue;
      CAPTURE(other);
      const std::string other_want = Normalize(reference_, Send(*reference_.conns[other], {}, tag));
      const std::string other_got = Normalize(ours_, Send(*ours_.conns[other], {}, tag));
      if (other_got != other_want) ++mismatches_;
      CHECK(other_got == other_want);
    }
  }
  int mismatches() const { return mismatches_; }
  void Close(std::size_t conn) {
    ours_.conns[conn]->Close();
    reference_.conns[conn]->Close();
    closed_[conn] = true;
  }

 private:
  struct Side {
    std::vector<std::unique_ptr<RawSocket>> conns;
    std::vector<std::string> ids;  // CLIENT ID's reply, ":<id>\r\n..." trimmed to the number
  };

  std::string Normalize(const Side& side, std::string out) const {
    if (!ids_in_replies_) return out;
    for (std::size_t i = 0; i < side.ids.size(); ++i) {
      const std::string from = ":" + side.ids[i] + "\r\n";
      const std::string to = ":$ID" + std::to_string(i) + "\r\n";
      for (std::size_t at = out.find(from); at != std::string::npos; at = out.find(from, at)) {
        out.replace(at, from.size(), to);
        at += to.size();
      }
    }
    return out;
  }

  static std::vector<std::string> Bind(const Side& side, std::vector<std::string> argv) {
    for (std::string& arg : argv) {
      if (arg.starts_with("$ID")) arg = side.ids.at(std::stoul(arg.substr(3)));
    }
    return argv;
  }

  // Sends argv (if any) and a PING carrying `tag`; returns what came back up to the tag. For
  // CLIENT ID the number alone.
  static std::string Send(RawSocket& socket, const std::vector<std::string>& argv,
                          const std::string& tag) {
    std::string bytes;
    if (!argv.empty()) bytes += dynakv::itest::EncodeCommand(argv);
    bytes += dynakv::itest::EncodeCommand({"PING", tag});
    REQUIRE(socket.Send(bytes));
    std::string out = socket.ReadUntil(tag, std::chrono::seconds(10));
    REQUIRE(out.ends_with(tag));
    if (tag == "id") return out.substr(1, out.find("\r\n") - 1);
    return out;
  }

  Side ours_;
  Side reference_;
  int marker_ = 0;
  int mismatches_ = 0;
  bool ids_in_replies_ = false;
  std::vector<bool> closed_ = std::vector<bool>(kProtocols.size(), false);
};

}  // namespace

TEST_CASE("CLIENT TRACKING: default mode, REDIRECT, FLUSHALL and the option errors as in Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  TrackingPair pair(ours.port(), reference.port());
  pair.Step(2, {"SUBSCRIBE", "__redis__:invalidate"});
  pair.Step(1, {"CLIENT", "TRACKING", "on"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "REDIRECT", "$ID2"});
  pair.Step(4, {"CLIENT", "TRACKING", "on", "REDIRECT", "$ID5", "NOLOOP"});
  for (std::size_t reader : {1, 3, 4}) {
    pair.Step(reader, {"GET", "k1"});
    pair.Step(reader, {"MGET", "k2", "k3"});
    pair.Step(reader, {"HGET", "h", "f"});
  }
  pair.Step(0, {"SET", "k1", "a"});
  pair.Step(0, {"SET", "k1", "b"});  // no longer tracked: nothing
  pair.Step(0, {"MSET", "k2", "1", "k3", "2"});
  pair.Step(0, {"HSET", "h", "f", "v"});
  // Own writes: after the reply; NOLOOP (4) hears nothing of its own.
  pair.Step(1, {"GET", "k1"});
  pair.Step(1, {"SET", "k1", "c"});
  pair.Step(4, {"GET", "k1"});
  pair.Step(4, {"SET", "k1", "d"});
  pair.Step(1, {"GET", "k1"});
  pair.Step(3, {"GET", "k1"});
  pair.Step(0, {"DEL", "k1"});
  pair.Step(0, {"PEXPIRE", "k2", "1"});
  pair.Step(1, {"GET", "k3"});
  pair.Step(0, {"FLUSHALL"});
  pair.Step(1, {"FLUSHALL"});
  pair.Step(1, {"CLIENT", "GETREDIR"});
  pair.Step(0, {"CLIENT", "GETREDIR"});
  // Off: nothing more.
  pair.Step(1, {"GET", "x"});
  pair.Step(1, {"CLIENT", "TRACKING", "off"});
  pair.Step(0, {"SET", "x", "1"});
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"CLIENT", "TRACKING", "on", "PREFIX", "a"},
        {"CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"},
        {"CLIENT", "TRACKING", "on", "BCAST", "OPTIN"},
        {"CLIENT", "TRACKING", "on", "REDIRECT", "999999"},
        {"CLIENT", "TRACKING", "on", "REDIRECT", "x"},
        {"CLIENT", "TRACKING", "on", "REDIRECT", "$ID2", "REDIRECT", "$ID2"},
        {"CLIENT", "TRACKING", "on", "WHAT"},
        {"CLIENT", "TRACKING", "maybe"},
        {"CLIENT", "CACHING", "yes"},
        {"CLIENT", "GETREDIR"},
        {"CLIENT", "TRACKING", "on", "OPTIN"},
        {"CLIENT", "CACHING", "no"},
        {"CLIENT", "CACHING", "maybe"},
        {"CLIENT", "TRACKING", "on", "OPTOUT"},
        {"CLIENT", "TRACKING", "on", "BCAST"},
        {"CLIENT", "TRACKING", "off"},
        {"CLIENT", "TRACKING", "on", "BCAST"},
        {"CLIENT", "TRACKING", "on"},
        {"CLIENT", "TRACKING", "off"}}) {
    pair.Step(0, bad);
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("CLIENT TRACKING: OPTIN/OPTOUT with CLIENT CACHING, and BCAST prefixes as in Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  TrackingPair pair(ours.port(), reference.port());
  pair.Step(2, {"SUBSCRIBE", "__redis__:invalidate"});
  pair.Step(1, {"CLIENT", "TRACKING", "on", "OPTIN"});
  pair.Step(4, {"CLIENT", "TRACKING", "on", "OPTOUT"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX",
                "job:", "REDIRECT", "$ID2"});
  pair.Step(5, {"CLIENT", "TRACKING", "on", "BCAST"});
  pair.Step(1, {"GET", "a"});  // OPTIN without CACHING yes: not remembered
  pair.Step(1, {"CLIENT", "CACHING", "yes"});
  pair.Step(1, {"GET", "b"});
  pair.Step(1, {"GET", "c"});  // the flag lasted one command
  pair.Step(4, {"GET", "a"});
  pair.Step(4, {"CLIENT", "CACHING", "no"});
  pair.Step(4, {"GET", "b"});
  pair.Step(4, {"GET", "c"});
  for (const char* key : {"a", "b", "c", "user:1", "job:7", "jobs", "other"}) {
    pair.Step(0, {"SET", key, "v"});
  }
  pair.Step(0, {"FLUSHALL"});
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("CLIENT TRACKING: a redirect to a closed client is broken, as Redis reports it") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  TrackingPair pair(ours.port(), reference.port());
  pair.Step(1, {"CLIENT", "TRACKING", "on", "REDIRECT", "$ID5"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "REDIRECT", "$ID5"});
  pair.Step(1, {"GET", "k"});
  pair.Step(3, {"GET", "k"});
  pair.Step(0, {"SET", "k", "1"});
  pair.Step(1, {"GET", "k"});
  pair.Step(3, {"GET", "k"});
  pair.Step(3, {"CLIENT", "GETREDIR"}, true);
  pair.Close(5);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both servers see the close
  pair.Step(0, {"SET", "k", "2"}, true);
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("CLIENT TRACKINGINFO, prefix overlaps, RESET, CLIENT LIST flags and INFO as in Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  TrackingPair pair(ours.port(), reference.port());
  for (std::size_t conn : {0, 1}) pair.Step(conn, {"CLIENT", "TRACKINGINFO"});
  pair.Step(1, {"CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP", "REDIRECT", "$ID5"});
  pair.Step(1, {"CLIENT", "CACHING", "yes"});
  pair.Step(1, {"CLIENT", "TRACKINGINFO"}, true);
  pair.Step(1, {"CLIENT", "TRACKINGINFO"}, true);  // the CACHING flag is gone
  pair.Step(3, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"});
  pair.Step(3, {"CLIENT", "TRACKINGINFO"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c"});
  pair.Step(3, {"CLIENT", "TRACKINGINFO"});
  pair.Step(0, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "xy"});
  pair.Step(0, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "pq", "PREFIX", "p"});
  pair.Step(0, {"CLIENT", "TRACKING", "on", "BCAST"});
  pair.Step(0, {"CLIENT", "TRACKINGINFO"});
  pair.Step(4, {"CLIENT", "TRACKING", "on", "OPTOUT"});
  pair.Step(4, {"CLIENT", "CACHING", "no"});
  pair.Step(4, {"CLIENT", "TRACKINGINFO"});
  pair.Step(4, {"MGET", "k1", "k2"});
  pair.Step(4, {"GET", "k3"});
  pair.Step(2, {"GET", "k3"});

  // INFO and CLIENT LIST of the same state, compared field by field.
  dynakv::itest::Client ours_client(ours.port());
  dynakv::itest::Client reference_client(reference.port());
  CHECK(dynakv::itest::ReadInfoNumber(ours_client, "clients", "tracking_clients") ==
        dynakv::itest::ReadInfoNumber(reference_client, "clients", "tracking_clients"));
  for (const char* field :
       {"tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"}) {
    CAPTURE(field);
    CHECK(dynakv::itest::ReadInfoNumber(ours_client, "stats", field) ==
          dynakv::itest::ReadInfoNumber(reference_client, "stats", field));
  }
  auto flags_of = [](dynakv::itest::Client& client) {
    std::vector<std::string> flags;
    const std::string list = client.Command({"CLIENT", "LIST"}).str;
    for (std::size_t at = list.find("flags="); at != std::string::npos;
         at = list.find("flags=", at + 1)) {
      flags.push_back(list.substr(at, list.find(' ', at) - at));
    }
    return flags;
  };
  CHECK(flags_of(ours_client) == flags_of(reference_client));
  pair.Step(1, {"RESET"});
  pair.Step(1, {"CLIENT", "TRACKINGINFO"});
  CHECK(dynakv::itest::ReadInfoNumber(ours_client, "clients", "tracking_clients") ==
        dynakv::itest::ReadInfoNumber(reference_client, "clients", "tracking_clients"));
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("tracking-table-max-keys: past it keys are forgotten with an invalidation, as Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  std::vector<std::pair<std::size_t, long long>> results;  // invalidations, table size
  for (int port : {ours.port(), reference.port()}) {
    dynakv::itest::Client admin(port);
    REQUIRE(admin.Command({"CONFIG", "SET", "tracking-table-max-keys", "2"}) ==
            dynakv::itest::Reply::Status("OK"));
    CHECK(admin.Command({"CONFIG", "GET", "tracking-table-max-keys"}) ==
          dynakv::itest::Reply::Bulks({"tracking-table-max-keys", "2"}));
    RawSocket tracker(port);
    std::string bytes = dynakv::itest::EncodeCommand({"HELLO", "3"}) +
                        dynakv::itest::EncodeCommand({"CLIENT", "TRACKING", "on"});
    for (const char* key : {"k1", "k2", "k3", "k4", "k5"}) {
      bytes += dynakv::itest::EncodeCommand({"GET", key});
    }
    bytes += dynakv::itest::EncodeCommand({"PING", "done"});
    REQUIRE(tracker.Send(bytes));
    const std::string out = tracker.ReadUntil("done", std::chrono::seconds(10));
    REQUIRE(out.ends_with("done"));
    std::size_t invalidations = 0;
    for (std::size_t at = out.find("invalidate"); at != std::string::npos;
         at = out.find("invalidate", at + 1)) {
      ++invalidations;
    }
    results.emplace_back(invalidations,
                         dynakv::itest::ReadInfoNumber(admin, "stats", "tracking_total_keys"));
  }
  CHECK(results[0] == results[1]);
  CHECK(results[0].first == 3);
  CHECK(results[0].second == 2);
}

TEST_CASE("CLIENT TRACKING BCAST: a command's keys in one message per prefix, after its reply") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  TrackingPair pair(ours.port(), reference.port());
  pair.Step(2, {"SUBSCRIBE", "__redis__:invalidate"});
  pair.Step(5, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "u:", "PREFIX", "v:"});
  pair.Step(4, {"CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"});
  pair.Step(3, {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "v:", "REDIRECT", "$ID2"});
  pair.Step(5, {"SET", "u:1", "x"});
  pair.Step(0, {"MSET", "u:2", "a", "u:1", "b", "v:1", "c", "w", "d"});
  pair.Step(4, {"MSET", "a", "1", "u:3", "2"});
  pair.Step(4, {"SET", "v:2", "1"});
  pair.Step(0, {"DEL", "u:1", "u:2", "v:1", "nothing"});
  pair.Step(0, {"INCR", "u:9"});
  pair.Step(0, {"FLUSHALL"});
  CHECK(pair.mismatches() == 0);
}
