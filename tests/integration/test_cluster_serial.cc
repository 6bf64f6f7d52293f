// SERIAL / LOCAL_SERIAL in cluster mode (per-key Paxos, cluster/paxos.h), with 3 real node
// processes on loopback: locks taken with SET NX PX through every node never have two holders
// (and at QUORUM they do, which is why SERIAL exists); a history of register operations through
// every node is linearizable (checked by the Wing-Gong style search of tests/lincheck); a
// coordinator killed mid-round leaves nothing half-applied; one replica down is fine, two are
// UNAVAILABLE.
#include <doctest/doctest.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
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
using dynakv::itest::WaitFor;

namespace {

const Reply kOk = Reply::Status("OK");

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// --- the lock race ----------------------------------------------------------------------------

struct LockRun {
  int rounds = 0;
  int single_holder = 0;   // rounds with exactly one OK
  int double_holders = 0;  // rounds with two or more OKs
  int errors = 0;          // error replies (contention timeouts, unknown outcomes)
  int wrong_token = 0;     // one holder, but a SERIAL read shows another token
};

// `clients_per_node` clients on each node race `SET lock:<round> <token> NX PX 10000` (with
// `suffix` appended, e.g. W SERIAL) in every round, started together by a barrier.
LockRun RaceLocks(LocalCluster& cluster, int rounds, int clients_per_node,
                  const std::vector<std::string>& suffix, bool check_token) {
  const int clients = cluster.size() * clients_per_node;
  std::vector<std::unique_ptr<Client>> conns;
  for (int i = 0; i < clients; ++i) {
    conns.push_back(std::make_unique<Client>(cluster.node(i % cluster.size()).port()));
  }
  std::vector<std::vector<Reply>> replies(static_cast<std::size_t>(rounds),
                                          std::vector<Reply>(static_cast<std::size_t>(clients)));
  std::barrier sync(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int r = 0; r < rounds; ++r) {
        std::vector<std::string> argv = {
            "SET", "lock:" + std::to_string(r), "token-" + std::to_string(c), "NX", "PX", "10000"};
        argv.insert(argv.end(), suffix.begin(), suffix.end());
        sync.arrive_and_wait();
        replies[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] =
            conns[static_cast<std::size_t>(c)]->Command(argv);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  LockRun run;
  run.rounds = rounds;
  Client reader(cluster.node(0).port());
  for (int r = 0; r < rounds; ++r) {
    int holders = 0;
    int holder = -1;
    for (int c = 0; c < clients; ++c) {
      const Reply& reply = replies[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
      if (reply == kOk) {
        ++holders;
        holder = c;
      } else if (reply.IsError() || reply.type == Reply::Type::kIoError) {
        ++run.errors;
        MESSAGE("round " << r << " client " << c << ": " << reply);
      }
    }
    if (holders == 1) ++run.single_holder;
    if (holders >= 2) ++run.double_holders;
    if (check_token && holders == 1) {
      const Reply seen = reader.Command({"GET", "lock:" + std::to_string(r), "R", "SERIAL"});
      if (seen != Reply::Bulk("token-" + std::to_string(holder))) {
        ++run.wrong_token;
        MESSAGE("round " << r << ": holder token-" << holder << " but SERIAL GET " << seen);
      }
    }
  }
  return run;
}

// --- a linearizability checker for one register: the shared one (tests/lincheck) -------------

using Op = dynakv::lincheck::RegisterOp;

struct Checker {
  explicit Checker(std::vector<Op> ops) : ops(std::move(ops)) {}
  // A search too long to decide fails the test: it proves nothing either way.
  bool Linearizable() const {
    const dynakv::lincheck::Verdict verdict = dynakv::lincheck::CheckRegister(ops);
    if (verdict == dynakv::lincheck::Verdict::kUndecided) FAIL("linearizability search too long");
    return verdict == dynakv::lincheck::Verdict::kLinearizable;
  }
  std::vector<Op> ops;
};

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs one random register op through `client` and records it (an op whose error says it
// was not applied is dropped).
void RunRegisterOp(Client& client, std::mt19937& rng, int client_id, int seq,
                   std::vector<Op>* history, std::mutex* mu) {
  Op op;
  const int choice = static_cast<int>(rng() % 4);
  std::vector<std::string> argv;
  switch (choice) {
    case 0:
      op.kind = Op::Kind::kGet;
      argv = {"GET", "reg", "R", "SERIAL"};
      break;
    case 1:
      op.kind = Op::Kind::kSet;
      op.arg = 1000 * (client_id + 1) + seq;
      argv = {"SET", "reg", std::to_string(op.arg), "W", "SERIAL"};
      break;
    case 2:
      op.kind = Op::Kind::kSetNx;
      op.arg = 1000 * (client_id + 1) + seq;
      argv = {"SET", "reg", std::to_string(op.arg), "NX", "W", "SERIAL"};
      break;
    default:
      op.kind = Op::Kind::kIncr;
      argv = {"INCR", "reg"};  // INCR takes no option: the connection is at SERIAL
      break;
  }
  op.invoke = NowUs();
  const Reply reply = client.Command(argv);
  op.respond = NowUs();
  if (reply.IsError() || reply.type == Reply::Type::kIoError) {
    MESSAGE("client " << client_id << " " << argv[0] << ": " << reply);
    // Errors that say the command was not applied take no part; any other may have.
    if (reply.IsError() && (StartsWith(reply.str, "UNAVAILABLE") ||
                            reply.str.find("was not applied") != std::string::npos)) {
      return;
    }
    if (op.kind == Op::Kind::kGet) return;
    op.unknown = true;
    op.respond = std::numeric_limits<std::int64_t>::max();
  } else {
    switch (op.kind) {
      case Op::Kind::kGet:
        REQUIRE((reply.type == Reply::Type::kNil || reply.type == Reply::Type::kString));
        if (reply.type == Reply::Type::kString) op.value = std::stoll(reply.str);
        break;
      case Op::Kind::kSet:
        REQUIRE(reply == kOk);
        break;
      case Op::Kind::kSetNx:
        REQUIRE((reply == kOk || reply.type == Reply::Type::kNil));
        op.set = reply == kOk;
        break;
      case Op::Kind::kIncr:
        REQUIRE(reply.type == Reply::Type::kInteger);
        op.value = reply.integer;
        break;
    }
  }
  std::lock_guard<std::mutex> lock(*mu);
  history->push_back(op);
}

Op HistoryOp(Op::Kind kind, std::int64_t invoke, std::int64_t respond,
             std::optional<std::int64_t> value = std::nullopt, std::int64_t arg = 0) {
  Op op;
  op.kind = kind;
  op.invoke = invoke;
  op.respond = respond;
  op.value = value;
  op.arg = arg;
  return op;
}

}  // namespace

TEST_CASE("the linearizability checker accepts overlapping histories and rejects stale reads") {
  using K = Op::Kind;
  // SET 1 [0,10]; a GET overlapping it may see nil or 1; a GET after it must see 1.
  CHECK(Checker({HistoryOp(K::kSet, 0, 10, {}, 1), HistoryOp(K::kGet, 5, 6, std::nullopt),
                 HistoryOp(K::kGet, 11, 12, 1)})
            .Linearizable());
  CHECK_FALSE(Checker({HistoryOp(K::kSet, 0, 10, {}, 1), HistoryOp(K::kGet, 11, 12, std::nullopt)})
                  .Linearizable());
  // Two INCRs both answering 1: one increment lost.
  CHECK_FALSE(
      Checker({HistoryOp(K::kIncr, 0, 10, 1), HistoryOp(K::kIncr, 0, 10, 1)}).Linearizable());
  // A read sees 2 and a later read 1 (no write in between): not linearizable.
  CHECK_FALSE(Checker({HistoryOp(K::kSet, 0, 1, {}, 1), HistoryOp(K::kSet, 2, 30, {}, 2),
                       HistoryOp(K::kGet, 3, 4, 2), HistoryOp(K::kGet, 5, 6, 1)})
                  .Linearizable());
  // An INCR with unknown outcome may explain a later read of 2.
  Op unknown = HistoryOp(K::kIncr, 2, std::numeric_limits<std::int64_t>::max());
  unknown.unknown = true;
  CHECK(Checker({HistoryOp(K::kSet, 0, 1, {}, 1), unknown, HistoryOp(K::kGet, 5, 6, 2)})
            .Linearizable());
}

TEST_CASE("200 lock rounds through every node: SERIAL never has two holders, QUORUM does") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  // The config row makes SERIAL the default of conditional writes: plain SET NX runs Paxos.
  for (Client* c : {&n1, &n2, &n3}) {
    REQUIRE(c->Command({"CONFIG", "SET", "cluster-conditional-write-consistency", "serial"}) ==
            kOk);
  }
  CHECK(n1.Command({"CONFIG", "GET", "cluster-conditional-write-consistency"}) ==
        Reply::Bulks({"cluster-conditional-write-consistency", "serial"}));
  const LockRun serial = RaceLocks(cluster, 200, 2, {}, true);
  MESSAGE("SERIAL: " << serial.single_holder << " rounds with one holder, " << serial.double_holders
                     << " with two or more, " << serial.errors << " error replies");
  CHECK(serial.double_holders == 0);
  CHECK(serial.wrong_token == 0);
  // Contention may time a round out, but nearly every round must have its holder.
  CHECK(serial.single_holder >= 190);
  // The Paxos state lives apart from the data: KEYS shows the locks and nothing else.
  const Reply keys = n3.Command({"KEYS", "*"});
  CHECK_FALSE(keys.elements.empty());
  CHECK(keys.elements.size() <= 200);
  for (const Reply& key : keys.elements) CHECK(StartsWith(key.str, "lock:"));
  // n2 coordinated its two clients' 200 rounds each (the token checks went through n1).
  CHECK(dynakv::itest::ReadInfoNumber(n2, "cluster", "cluster_serial_requests") == 400);
  MESSAGE("n2: " << dynakv::itest::ReadInfoNumber(n2, "cluster", "cluster_serial_rounds")
                 << " rounds, "
                 << dynakv::itest::ReadInfoNumber(n2, "cluster", "cluster_serial_contention")
                 << " lost to contention");

  // The same race with conditional writes back at the write level (QUORUM).
  for (Client* c : {&n1, &n2, &n3}) {
    REQUIRE(c->Command({"CONFIG", "SET", "cluster-conditional-write-consistency", "write"}) == kOk);
  }
  // The race is timing-dependent: up to five runs of 200 rounds, until one shows two holders.
  int double_holders = 0;
  for (int run = 0; run < 5 && double_holders == 0; ++run) {
    REQUIRE(n1.Command({"FLUSHALL"}) == kOk);
    const LockRun quorum = RaceLocks(cluster, 200, 2, {}, false);
    MESSAGE("QUORUM: " << quorum.double_holders << " of 200 rounds with two or more holders");
    double_holders += quorum.double_holders;
  }
  CHECK(double_holders > 0);
}

TEST_CASE("SERIAL register operations through every node are linearizable") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3);
  cluster.Start();
  std::vector<Op> history;
  std::mutex mu;
  constexpr int kClients = 6;
  constexpr int kOpsPerClient = 40;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(cluster.node(c % 3).port());
      REQUIRE(client.Command({"CONSISTENCY", "SERIAL"}) == kOk);
      std::mt19937 rng(static_cast<unsigned>(c * 7919 + 17));
      for (int i = 0; i < kOpsPerClient; ++i) RunRegisterOp(client, rng, c, i, &history, &mu);
    });
  }
  for (std::thread& t : threads) t.join();
  MESSAGE(history.size() << " operations recorded");
  CHECK(history.size() >= kClients * kOpsPerClient * 9 / 10);
  CHECK(Checker(history).Linearizable());
}

TEST_CASE("a coordinator killed after a majority accepted: the next round completes it") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"SET", "k", "10", "W", "SERIAL"}) == kOk);
  REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "STOP-AFTER-ACCEPT"}) == kOk);
  {
    Client doomed(cluster.node(0).port(), std::chrono::milliseconds(500));
    REQUIRE(doomed.Command({"CONSISTENCY", "SERIAL"}) == kOk);
    const Reply lost = doomed.Command({"INCR", "k"});
    CHECK(lost.type == Reply::Type::kIoError);  // no answer: the coordinator "died"
  }
  cluster.node(0).Kill();
  // n1 accepted, and one of n2/n3 did: the proposal is chosen, and the next round commits it.
  CHECK(UntilAvailable(n2, {"GET", "k", "R", "SERIAL"}) == Reply::Bulk("11"));
  CHECK(n2.Command({"DEBUG", "LOCALGET", "k"}) == Reply::Bulk("11"));
  CHECK(n3.Command({"DEBUG", "LOCALGET", "k"}) == Reply::Bulk("11"));
  cluster.node(0).Start();
  Client back(cluster.node(0).port());
  REQUIRE(back.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  CHECK(UntilAvailable(back, {"INCR", "k"}) == Reply::Int(12));
  CHECK(n3.Command({"GET", "k", "R", "SERIAL"}) == Reply::Bulk("12"));
}

TEST_CASE("a coordinator killed after only it accepted: the proposal is discarded for good") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"SET", "k", "10", "W", "SERIAL"}) == kOk);
  REQUIRE(n1.Command({"DEBUG", "PAXOS-FAILPOINT", "STOP-AFTER-SELF-ACCEPT"}) == kOk);
  {
    Client doomed(cluster.node(0).port(), std::chrono::milliseconds(500));
    REQUIRE(doomed.Command({"CONSISTENCY", "SERIAL"}) == kOk);
    CHECK(doomed.Command({"INCR", "k"}).type == Reply::Type::kIoError);
  }
  cluster.node(0).Kill();
  // A majority (n2, n3) never saw the proposal: the SERIAL read settles the key at 10, and its
  // accepted no-op outranks the lost proposal, which n1 still holds durably.
  CHECK(UntilAvailable(n2, {"GET", "k", "R", "SERIAL"}) == Reply::Bulk("10"));
  cluster.node(0).Start();
  Client back(cluster.node(0).port());
  REQUIRE(back.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  // Rounds that now include n1 (and its stale proposal) must not bring the lost INCR back.
  for (int i = 0; i < 5; ++i) {
    CHECK(UntilAvailable(back, {"GET", "k", "R", "SERIAL"}) == Reply::Bulk("10"));
    CHECK(n3.Command({"GET", "k", "R", "SERIAL"}) == Reply::Bulk("10"));
  }
  CHECK(back.Command({"INCR", "k"}) == Reply::Int(11));
  CHECK(n2.Command({"GET", "k", "R", "SERIAL"}) == Reply::Bulk("11"));
}

TEST_CASE("SERIAL with one replica down works; with two down it is UNAVAILABLE") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, {"--cluster-request-timeout-ms", "1000"});
  auto [n1, n2, n3] = dynakv::itest::StartWithClients<3>(cluster);
  cluster.node(2).Kill();
  CHECK(UntilAvailable(n1, {"SET", "lock", "a", "NX", "PX", "10000", "W", "SERIAL"}) == kOk);
  CHECK(n2.Command({"SET", "lock", "b", "NX", "PX", "10000", "W", "SERIAL"}) == Reply::Nil());
  CHECK(n2.Command({"GET", "lock", "R", "SERIAL"}) == Reply::Bulk("a"));
  CHECK(n1.Command({"GETDEL", "lock", "W", "SERIAL"}) ==
        Reply::Error("ERR wrong number of arguments for 'getdel' command"));
  REQUIRE(n1.Command({"CONSISTENCY", "SERIAL"}) == kOk);
  CHECK(n1.Command({"CONSISTENCY"}) == Reply::Bulks({"read", "SERIAL", "write", "SERIAL"}));
  CHECK(n1.Command({"GETDEL", "lock"}) == Reply::Bulk("a"));
  CHECK(n1.Command({"INCRBY", "n", "5"}) == Reply::Int(5));
  CHECK(n1.Command({"DEL", "n"}) == Reply::Int(1));
  CHECK(n1.Command({"DEL", "n", "m"}).IsError());
  cluster.node(1).Kill();
  const Reply refused = n1.Command({"SET", "lock", "c", "NX"});
  CHECK(refused.IsError());
  CHECK(StartsWith(refused.str, "UNAVAILABLE"));
  MESSAGE("two replicas down: " << refused);
  const Reply read = n1.Command({"GET", "lock"});
  CHECK(StartsWith(read.str, "UNAVAILABLE"));
}

TEST_CASE("LOCAL_SERIAL runs among the local dc's replicas; SERIAL among all of them") {
  if (TestingRealRedis()) return;
  // Every key on all three nodes: two replicas in dc1 (n1, n2), one in dc2 (n3).
  LocalCluster cluster({"dc1", "dc1", "dc2"}, "dc1:2,dc2:1",
                       {"--cluster-request-timeout-ms", "1000"});
  cluster.Start();
  Client a(cluster.node(0).port());  // n1, dc1
  Client c(cluster.node(2).port());  // n3, dc2
  CHECK(a.Command({"SET", "lock", "a", "NX", "W", "LOCAL_SERIAL"}) == kOk);
  CHECK(a.Command({"SET", "lock", "b", "NX", "W", "LOCAL_SERIAL"}) == Reply::Nil());
  CHECK(a.Command({"GET", "lock", "R", "LOCAL_SERIAL"}) == Reply::Bulk("a"));
  // The commit reaches the other dc's replica too.
  CHECK(WaitFor([&] { return c.Command({"DEBUG", "LOCALGET", "lock"}) == Reply::Bulk("a"); }));
  // dc2 alone is its own LOCAL_SERIAL majority (one replica of one).
  CHECK(c.Command({"GET", "lock", "R", "LOCAL_SERIAL"}) == Reply::Bulk("a"));

  // With n2 down, dc1 has one of its two replicas: LOCAL_SERIAL from n1 is unavailable, while
  // SERIAL (n1 and n3 of three) still works.
  cluster.node(1).Kill();
  const Reply local = a.Command({"SET", "lock2", "x", "NX", "W", "LOCAL_SERIAL"});
  CHECK(StartsWith(local.str, "UNAVAILABLE not enough replicas for LOCAL_SERIAL (needed 2, got 1"));
  MESSAGE("LOCAL_SERIAL with one of dc1's two replicas: " << local);
  CHECK(UntilAvailable(a, {"SET", "lock2", "y", "NX", "W", "SERIAL"}) == kOk);
  CHECK(c.Command({"GET", "lock2", "R", "SERIAL"}) == Reply::Bulk("y"));
}
