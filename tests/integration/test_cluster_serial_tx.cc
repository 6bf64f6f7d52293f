// MULTI/EXEC and EVAL at SERIAL in cluster mode (one Paxos round of the keys' hash tag,
// cluster/paxos.h), with 3 real node processes on loopback: transactions and scripts racing
// through every node lose no update (a counter incremented by N of them ends at N, WATCH loops
// too), a history of register operations made of scripts, transactions and single-key SERIAL
// commands on one tag is linearizable (tests/lincheck), a coordinator killed mid-round leaves all
// of a transaction or none of it on every replica, and without a majority EXEC is UNAVAILABLE.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "linearizability.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;

namespace {

const Reply kOk = Reply::Status("OK");
const Reply kQueued = Reply::Status("QUEUED");

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// An error that says the command was certainly not applied.
bool NotApplied(const Reply& reply) {
  return reply.IsError() && (StartsWith(reply.str, "UNAVAILABLE") ||
                             reply.str.find("was not applied") != std::string::npos);
}

// Reads a counter-like key; nil counts as 0.
long long ReadInt(Client& client, const std::string& key) {
  const Reply reply = client.Command({"GET", key, "R", "SERIAL"});
  if (reply.type == Reply::Type::kNil) return 0;
  REQUIRE_MESSAGE(reply.type == Reply::Type::kString, reply);
  return std::stoll(reply.str);
}

// A script that reads a number and writes it + 1 to both keys (not INCR: a lost update of a
// plain read-modify-write shows as a missing step), returning the new value.
constexpr const char* kBumpBoth =
    "local v = tonumber(redis.call('GET', KEYS[1]) or '0') + 1 "
    "redis.call('SET', KEYS[1], v) redis.call('SET', KEYS[2], v) return v";

struct Outcomes {
  int acked = 0;
  int unknown = 0;  // errors whose outcome is unknown (may or may not have been applied)
};

// `per_client` operations by 2 clients per node, each `run` once per operation: it returns the
// operation's reply, which is an ack when `acked(reply)`.
Outcomes Race(LocalCluster& cluster, int per_client, const std::function<Reply(Client&)>& run,
              const std::function<bool(const Reply&)>& acked) {
  Outcomes total;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < 6; ++c) {
    threads.emplace_back([&, c] {
      Client client(cluster.node(c % 3).port());
      REQUIRE(client.Command({"CONSISTENCY", "SERIAL"}) == kOk);
      Outcomes mine;
      for (int i = 0; i < per_client; ++i) {
        const Reply reply = run(client);
        if (acked(reply)) {
          ++mine.acked;
        } else if (!NotApplied(reply)) {
          MESSAGE("client " << c << ": " << reply);
          ++mine.unknown;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      total.acked += mine.acked;
      total.unknown += mine.unknown;
    });
  }
  for (std::thread& t : threads) t.join();
  return total;
}

TEST_CASE("SERIAL transactions and scripts racing through every node lose no update") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  cluster.Start();
  constexpr int kPerClient = 15;

  // MULTI: INCR of two keys of one tag, and a SET of a third from the same snapshot.
  const Outcomes multi = Race(
      cluster, kPerClient,
      [](Client& client) {
        REQUIRE(client.Command({"MULTI"}) == kOk);
        REQUIRE(client.Command({"INCR", "{c}:a"}) == kQueued);
        REQUIRE(client.Command({"INCRBY", "{c}:b", "2"}) == kQueued);
        return client.Command({"EXEC"});
      },
      [](const Reply& reply) { return reply.type == Reply::Type::kArray; });
  // EVAL: a read-modify-write of two keys by hand.
  const Outcomes eval = Race(
      cluster, kPerClient,
      [](Client& client) {
        return client.Command({"EVAL", kBumpBoth, "2", "{s}:x", "{s}:y"});
      },
      [](const Reply& reply) { return reply.type == Reply::Type::kInteger; });
  // WATCH / GET / MULTI / SET / EXEC, retried until EXEC applies (nil: a watched key changed).
  const Outcomes watch = Race(
      cluster, kPerClient,
      [](Client& client) {
        for (;;) {
          REQUIRE(client.Command({"WATCH", "{w}:n"}) == kOk);
          const Reply read = client.Command({"GET", "{w}:n"});
          const long long value = read.type == Reply::Type::kNil ? 0 : std::stoll(read.str);
          REQUIRE(client.Command({"MULTI"}) == kOk);
          REQUIRE(client.Command({"SET", "{w}:n", std::to_string(value + 1)}) == kQueued);
          Reply exec = client.Command({"EXEC"});
          if (exec.type != Reply::Type::kNil) return exec;
        }
      },
      [](const Reply& reply) { return reply.type == Reply::Type::kArray; });
  MESSAGE("multi " << multi.acked << "+" << multi.unknown << ", eval " << eval.acked << "+"
                   << eval.unknown << ", watch " << watch.acked << "+" << watch.unknown);
  CHECK(multi.acked >= 6 * kPerClient * 8 / 10);
  CHECK(eval.acked >= 6 * kPerClient * 8 / 10);

  Client n2(cluster.node(1).port());
  // Every acknowledged transaction counted once, unknown ones at most once, and both keys of
  // one transaction moved together.
  const long long a = ReadInt(n2, "{c}:a");
  CHECK(a >= multi.acked);
  CHECK(a <= multi.acked + multi.unknown);
  CHECK(ReadInt(n2, "{c}:b") == 2 * a);
  const long long x = ReadInt(n2, "{s}:x");
  CHECK(x >= eval.acked);
  CHECK(x <= eval.acked + eval.unknown);
  CHECK(ReadInt(n2, "{s}:y") == x);
  const long long w = ReadInt(n2, "{w}:n");
  CHECK(w >= watch.acked);
  CHECK(w <= watch.acked + watch.unknown);
}

TEST_CASE("WATCH at SERIAL: EXEC is nil when another node changed a watched key") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  REQUIRE(n2.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  REQUIRE(n1.Command({"SET", "{u}:k", "1"}) == kOk);
  REQUIRE(n1.Command({"WATCH", "{u}:k"}) == kOk);
  REQUIRE(n2.Command({"SET", "{u}:k", "2"}) == kOk);  // through another node
  REQUIRE(n1.Command({"MULTI"}) == kOk);
  REQUIRE(n1.Command({"SET", "{u}:other", "x"}) == kQueued);
  CHECK(n1.Command({"EXEC"}) == Reply::Nil());
  CHECK(n3.Command({"GET", "{u}:other", "R", "SERIAL"}) == Reply::Nil());
  // Unchanged: EXEC applies.
  REQUIRE(n1.Command({"WATCH", "{u}:k"}) == kOk);
  REQUIRE(n1.Command({"MULTI"}) == kOk);
  REQUIRE(n1.Command({"SET", "{u}:other", "y"}) == kQueued);
  CHECK(n1.Command({"EXEC"}) == Reply::Array({kOk}));
  CHECK(n3.Command({"GET", "{u}:other", "R", "SERIAL"}) == Reply::Bulk("y"));
  // A compare-and-delete script releases a lock only for its holder.
  const char* release =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
      "return 0";
  REQUIRE(n1.Command({"SET", "{l}:lock", "t1", "NX", "PX", "10000"}) == kOk);
  CHECK(n2.Command({"EVAL", release, "1", "{l}:lock", "t2"}) == Reply::Int(0));
  CHECK(n2.Command({"EVAL", release, "1", "{l}:lock", "t1"}) == Reply::Int(1));
  CHECK(n3.Command({"GET", "{l}:lock", "R", "SERIAL"}) == Reply::Nil());
  // A connection that chose no level follows conditional-write-consistency: at serial its
  // scripts and transactions are SERIAL rounds (counted in INFO), at write they are not.
  Client plain(cluster.node(2).port());
  const long long before = dynakv::itest::ReadInfoNumber(n3, "cluster", "cluster_serial_requests");
  CHECK(plain.Command({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "{c}n"}) ==
        Reply::Int(1));
  CHECK(dynakv::itest::ReadInfoNumber(n3, "cluster", "cluster_serial_requests") == before);
  REQUIRE(n3.Command({"CONFIG", "SET", "cluster-conditional-write-consistency", "serial"}) == kOk);
  CHECK(plain.Command({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "{c}n"}) ==
        Reply::Int(2));
  REQUIRE(plain.Command({"MULTI"}) == kOk);
  REQUIRE(plain.Command({"INCR", "{c}n"}) == kQueued);
  CHECK(plain.Command({"EXEC"}) == Reply::Array({Reply::Int(3)}));
  CHECK(dynakv::itest::ReadInfoNumber(n3, "cluster", "cluster_serial_requests") == before + 2);
  // Keys of two tags are refused as at QUORUM.
  CHECK(StartsWith(n1.Command({"EVAL", "return 1", "2", "{a}x", "{b}y"}).str, "CROSSSLOT"));
}

TEST_CASE("SERIAL transactions and scripts incrementing a counter keep concurrent plain INCRs") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  cluster.Start();
  // Plain INCRs (the counter path: no read, one replica's entry) through n2 and n3, while SERIAL
  // transactions and scripts increment the same counters through every node.
  std::atomic<long long> plain{0};
  std::vector<std::thread> threads;
  for (int node : {1, 2}) {
    threads.emplace_back([&, node] {
      Client client(cluster.node(node).port());
      for (int i = 0; i < 60; ++i) {
        const std::string key = i % 2 == 0 ? "cnt" : "{k}cnt";
        if (client.Command({"INCR", key}).type == Reply::Type::kInteger) ++plain;
      }
    });
  }
  const Outcomes serial = Race(
      cluster, 8,
      [](Client& client) {
        REQUIRE(client.Command({"MULTI"}) == kOk);
        REQUIRE(client.Command({"INCRBY", "cnt", "1000"}) == kQueued);
        Reply exec = client.Command({"EXEC"});
        if (exec.type != Reply::Type::kArray) return exec;
        return client.Command(
            {"EVAL", "return redis.call('INCRBY', KEYS[1], 1000)", "1", "{k}cnt"});
      },
      [](const Reply& reply) { return reply.type == Reply::Type::kInteger; });
  for (std::thread& t : threads) t.join();
  MESSAGE("plain " << plain.load() << ", serial " << serial.acked << "+" << serial.unknown);
  REQUIRE(serial.unknown == 0);  // else the exact sum below is not known
  Client n1(cluster.node(0).port());
  const long long total = ReadInt(n1, "cnt") + ReadInt(n1, "{k}cnt");
  // Each acknowledged round trip did one transaction and one script (2000); a transaction whose
  // script then failed as not applied counts 1000 more, which the range allows.
  CHECK(total >= plain.load() + 2000LL * serial.acked);
  CHECK(total % 1000 == plain.load());
  CHECK(total <= plain.load() + 2000LL * serial.acked + 1000LL * (6 * 8 - serial.acked));
}

// --- register histories mixing scripts, transactions and single-key commands -----------------

using Op = dynakv::lincheck::RegisterOp;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST_CASE("SERIAL scripts, transactions and single-key commands on one tag are linearizable") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  cluster.Start();
  std::vector<Op> history;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < 6; ++c) {
    threads.emplace_back([&, c] {
      Client client(cluster.node(c % 3).port());
      REQUIRE(client.Command({"CONSISTENCY", "SERIAL"}) == kOk);
      std::mt19937 rng(static_cast<unsigned>(c * 104729 + 3));
      for (int i = 0; i < 30; ++i) {
        Op op;
        op.arg = 1000 * (c + 1) + i;
        const std::string value = std::to_string(op.arg);
        op.invoke = NowUs();
        Reply reply;
        switch (rng() % 4) {
          case 0:  // a read by script
            op.kind = Op::Kind::kGet;
            reply = client.Command({"EVAL", "return redis.call('GET', KEYS[1])", "1", "{r}reg"});
            break;
          case 1:  // a write by transaction, with a second key of the tag
            op.kind = Op::Kind::kSet;
            REQUIRE(client.Command({"MULTI"}) == kOk);
            REQUIRE(client.Command({"SET", "{r}reg", value}) == kQueued);
            REQUIRE(client.Command({"SET", "{r}last", value}) == kQueued);
            reply = client.Command({"EXEC"});
            break;
          case 2:  // SET NX as a single-key command of the tag
            op.kind = Op::Kind::kSetNx;
            reply = client.Command({"SET", "{r}reg", value, "NX"});
            break;
          default:  // INCR by script
            op.kind = Op::Kind::kIncr;
            reply = client.Command({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "{r}reg"});
            break;
        }
        op.respond = NowUs();
        if (reply.IsError() || reply.type == Reply::Type::kIoError) {
          MESSAGE("client " << c << ": " << reply);
          if (NotApplied(reply) || op.kind == Op::Kind::kGet) continue;
          op.unknown = true;
          op.respond = std::numeric_limits<std::int64_t>::max();
        } else if (op.kind == Op::Kind::kGet) {
          if (reply.type == Reply::Type::kString) op.value = std::stoll(reply.str);
        } else if (op.kind == Op::Kind::kSetNx) {
          op.set = reply == kOk;
        } else if (op.kind == Op::Kind::kIncr) {
          REQUIRE(reply.type == Reply::Type::kInteger);
          op.value = reply.integer;
        } else {
          REQUIRE(reply == Reply::Array({kOk, kOk}));
        }
        std::lock_guard<std::mutex> lock(mu);
        history.push_back(op);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MESSAGE(history.size() << " operations recorded");
  CHECK(history.size() >= 6 * 30 * 9 / 10);
  CHECK(dynakv::lincheck::CheckRegister(history) == dynakv::lincheck::Verdict::kLinearizable);
}

// --- crashes mid-round ------------------------------------------------------------------------

// Sends a transaction that sets both keys to `value` through a connection to node 0, whose
// failpoint stops it mid-round: no reply comes.
void DoomedTransaction(LocalCluster& cluster, const std::string& value) {
  Client doomed(cluster.node(0).port(), std::chrono::milliseconds(500));
  REQUIRE(doomed.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  REQUIRE(doomed.Command({"MULTI"}) == kOk);
  REQUIRE(doomed.Command({"SET", "{t}a", value}) == kQueued);
  REQUIRE(doomed.Command({"SET", "{t}b", value}) == kQueued);
  CHECK(doomed.Command({"EXEC"}).type == Reply::Type::kIoError);  // the coordinator "died"
}

TEST_CASE("a coordinator killed mid-transaction: all of it or none of it, on every replica") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  REQUIRE(n1.Command({"EVAL", "redis.call('SET', KEYS[1], 'old') redis.call('SET', KEYS[2], 'old')",
                      "2", "{t}a", "{t}b"}) == Reply::Nil());

  SUBCASE("after a majority accepted: the next round on the tag completes all of it") {
    REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "STOP-AFTER-ACCEPT"}) == kOk);
    DoomedTransaction(cluster, "new");
    cluster.node(0).Kill();
    // A single-key round on ONE key of the tag completes the whole group.
    CHECK(UntilAvailable(n2, {"GET", "{t}b", "R", "SERIAL"}) == Reply::Bulk("new"));
    for (Client* c : {&n2, &n3}) {
      CHECK(c->Command({"DEBUG", "LOCALGET", "{t}a"}) == Reply::Bulk("new"));
      CHECK(c->Command({"DEBUG", "LOCALGET", "{t}b"}) == Reply::Bulk("new"));
    }
    cluster.node(0).Start();
    Client back(cluster.node(0).port());
    CHECK(UntilAvailable(back, {"GET", "{t}a", "R", "SERIAL"}) == Reply::Bulk("new"));
    // The restarted node's own copy catches up as any replica's does (here: anti-entropy).
    CHECK(dynakv::itest::WaitFor([&] {
      back.Command({"DEBUG", "ANTIENTROPY"});
      return back.Command({"DEBUG", "LOCALGET", "{t}a"}) == Reply::Bulk("new") &&
             back.Command({"DEBUG", "LOCALGET", "{t}b"}) == Reply::Bulk("new");
    }));
  }
  SUBCASE("after only the coordinator accepted: none of it, ever") {
    REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "STOP-AFTER-SELF-ACCEPT"}) == kOk);
    DoomedTransaction(cluster, "lost");
    cluster.node(0).Kill();
    CHECK(UntilAvailable(n2, {"GET", "{t}a", "R", "SERIAL"}) == Reply::Bulk("old"));
    cluster.node(0).Start();
    Client back(cluster.node(0).port());
    REQUIRE(back.Command({"CONSISTENCY", "SERIAL"}) == kOk);
    // Rounds that include the restarted node (and its stale group proposal) never apply it.
    for (int i = 0; i < 5; ++i) {
      CHECK(UntilAvailable(back, {"GET", "{t}b", "R", "SERIAL"}) == Reply::Bulk("old"));
      CHECK(n3.Command({"EVAL", "return redis.call('GET', KEYS[1])", "1", "{t}a"}) ==
            Reply::Bulk("old"));
    }
    for (Client* c : {&back, &n2, &n3}) {
      CHECK(c->Command({"DEBUG", "LOCALGET", "{t}a"}) == Reply::Bulk("old"));
      CHECK(c->Command({"DEBUG", "LOCALGET", "{t}b"}) == Reply::Bulk("old"));
    }
  }
}

TEST_CASE("a commit that reached one replica is re-sent before a later round commits") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"SET", "k", "old", "W", "SERIAL"}) == kOk);
  // n1 and n2 accept "new" (n3 is cut off from n1), and only n1 gets the commit.
  REQUIRE(n1.Command({"DEBUG", "PARTITION", "n3"}) == kOk);
  REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "STOP-AFTER-SELF-COMMIT"}) == kOk);
  {
    Client doomed(cluster.node(0).port(), std::chrono::milliseconds(500));
    CHECK(doomed.Command({"SET", "k", "new", "W", "SERIAL"}).type == Reply::Type::kIoError);
  }
  REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "NONE"}) == kOk);
  REQUIRE(n1.Command({"DEBUG", "PARTITION"}) == kOk);
  cluster.node(1).Kill();  // n2 holds "new" only as accepted, not in its data
  // n1 and n3 decide: the read shows the committed "new", and n3, which missed the commit, gets
  // it before the round's own commit makes the accepted proposal on n2 look outdated.
  CHECK(UntilAvailable(n3, {"GET", "k", "R", "SERIAL"}) == Reply::Bulk("new"));
  cluster.node(0).Kill();
  cluster.node(1).Start();
  // n2 and n3 decide now: the value a read returned must still be there (before the re-send,
  // neither held it in its data, and the later commit ballot outranked n2's accepted one).
  Client back(cluster.node(1).port());
  CHECK(UntilAvailable(n3, {"GET", "k", "R", "SERIAL"}) == Reply::Bulk("new"));
  CHECK(back.Command({"GET", "k", "R", "SERIAL"}) == Reply::Bulk("new"));
}

TEST_CASE("SERIAL EXEC and EVAL without a majority are UNAVAILABLE and apply nothing") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  cluster.node(2).Kill();
  REQUIRE(n1.Command({"MULTI"}) == kOk);
  REQUIRE(n1.Command({"SET", "{v}a", "1"}) == kQueued);
  CHECK(n1.Command({"EXEC"}) == Reply::Array({kOk}));  // two of three: fine
  cluster.node(1).Kill();
  REQUIRE(n1.Command({"MULTI"}) == kOk);
  REQUIRE(n1.Command({"SET", "{v}a", "2"}) == kQueued);
  const Reply exec = n1.Command({"EXEC"});
  CHECK(StartsWith(exec.str, "UNAVAILABLE"));
  MESSAGE("EXEC with one replica of three: " << exec);
  const Reply eval = n1.Command({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "{v}a"});
  CHECK(StartsWith(eval.str, "UNAVAILABLE"));
  CHECK(n1.Command({"DEBUG", "LOCALGET", "{v}a"}) == Reply::Bulk("1"));
}

}  // namespace
