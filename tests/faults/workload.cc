#include "workload.h"

#include <atomic>
#include <chrono>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "collections.h"
#include "conn.h"

namespace dynakv::faults {
namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string host;
  int port = 0;
  int node = 0;  // 1-based
};

std::string FirstWord(const std::string& s) { return s.substr(0, s.find(' ')); }

// Per collection of a kind with increments (ZINCRBY), the elements every client may bump: adds
// that were acknowledged and whose element is never removed, so that the bumps of one element,
// through every node, meet only one another (and its add, which they all follow).
class BumpPool {
 public:
  explicit BumpPool(int collections) : elements_(static_cast<std::size_t>(collections)) {}
  void Add(int collection, long long seq) {
    std::lock_guard lock(mu_);
    elements_[static_cast<std::size_t>(collection)].push_back(seq);
  }
  // A random element of `collection`; 0 when it has none yet.
  long long Pick(int collection, std::uint64_t random) {
    std::lock_guard lock(mu_);
    const auto& v = elements_[static_cast<std::size_t>(collection)];
    return v.empty() ? 0 : v[random % v.size()];
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<long long>> elements_;
};

// Sends one operation and records what came back.
Op Perform(Conn& conn, Op op) {
  const bool collection =
      op.kind == Op::Kind::kAdd || op.kind == Op::Kind::kRemove || op.kind == Op::Kind::kBump;
  const std::string key = op.kind == Op::Kind::kIncr ? CounterName(op.key)
                          : collection               ? CollectionName(op.key)
                                                     : KeyName(op.key);
  std::vector<std::string> argv;
  switch (op.kind) {
    case Op::Kind::kAdd: {
      const CollectionKind& kind = KindOfCollection(op.key);
      argv = kind.add(key, ElementName(op.seq), kind.payload(op.seq));
      break;
    }
    case Op::Kind::kRemove:
      argv = KindOfCollection(op.key).remove(key, ElementName(op.seq));
      break;
    case Op::Kind::kBump:
      argv = KindOfCollection(op.key).bump(key, ElementName(op.seq));
      break;
    case Op::Kind::kRemoveNone:
      break;
    case Op::Kind::kIncr:
      if (op.seq == 1) {
        argv = {"INCR", key};
      } else if (op.seq == -1) {
        argv = {"DECR", key};
      } else if (op.seq > 0) {
        argv = {"INCRBY", key, std::to_string(op.seq)};
      } else {
        argv = {"DECRBY", key, std::to_string(-op.seq)};
      }
      break;
    case Op::Kind::kSet:
      argv = {"SET", key, Value(op.key, op.seq)};
      break;
    case Op::Kind::kDel:
      argv = {"DEL", key};
      break;
    case Op::Kind::kGet:
      argv = {"GET", key};
      break;
    case Op::Kind::kDelNone:
      break;
  }
  op.start_us = NowUs();
  const Reply reply = conn.Command(argv);
  op.end_us = NowUs();
  bool ok = false;
  switch (op.kind) {
    case Op::Kind::kAdd:
      ok = reply.type == Reply::Type::kInteger;
      break;
    case Op::Kind::kRemove:
      ok = reply.type == Reply::Type::kInteger;
      if (ok && reply.integer == 0) op.kind = Op::Kind::kRemoveNone;
      break;
    case Op::Kind::kBump:
      ok = reply.type == Reply::Type::kString;  // the new score
      break;
    case Op::Kind::kRemoveNone:
      break;
    case Op::Kind::kIncr:
      ok = reply.type == Reply::Type::kInteger;
      break;
    case Op::Kind::kSet:
      ok = reply.type == Reply::Type::kStatus && reply.str == "OK";
      break;
    case Op::Kind::kDel:
      ok = reply.type == Reply::Type::kInteger;
      if (ok && reply.integer == 0) {
        op.kind = Op::Kind::kDelNone;
        op.seq = 0;
      }
      break;
    case Op::Kind::kDelNone:
      break;
    case Op::Kind::kGet:
      ok = reply.type == Reply::Type::kString || reply.type == Reply::Type::kNil;
      if (ok) op.seq = reply.type == Reply::Type::kNil ? 0 : SeqOf(op.key, reply.str);
      break;
  }
  op.outcome = ok ? Op::Outcome::kOk : Op::Outcome::kUnknown;
  if (!ok) {
    if (reply.type == Reply::Type::kIo) {
      const bool timeout = reply.str.find("temporarily unavailable") != std::string::npos ||
                           reply.str.find("timed out") != std::string::npos;
      op.error = timeout ? "timeout" : "io";
    } else if (reply.IsError()) {
      op.error = FirstWord(reply.str);
    } else {
      op.error = "unexpected-reply";
    }
  }
  return op;
}

void RunClient(const WorkloadOptions& options, const Target& target, int client,
               Clock::time_point deadline, std::atomic<long long>* next_seq, BumpPool* bumps,
               std::vector<Op>* ops) {
  std::mt19937_64 rng(options.seed * 1000003 + static_cast<std::uint64_t>(client));
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  const auto gap = std::chrono::microseconds(1000000 / std::max(1, options.ops_per_second));
  std::unique_ptr<Conn> conn;
  // Per collection, elements this client added (acknowledged or not): what its removes pick.
  std::vector<std::vector<long long>> added(static_cast<std::size_t>(options.collections));
  auto next = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_until(next);
    next = std::max(next + gap, Clock::now() - 10 * gap);
    if (conn == nullptr || !conn->ok()) {
      conn = std::make_unique<Conn>(target.host, target.port, timeout);
      if (!conn->ok()) {  // refused or timed out: nothing was sent
        conn.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    Op op;
    op.client = client;
    op.node = target.node;
    op.key = static_cast<int>(rng() % static_cast<std::uint64_t>(options.keys));
    const int dice = static_cast<int>(rng() % 100);
    op.kind = dice < 50 ? Op::Kind::kSet : dice < 60 ? Op::Kind::kDel : Op::Kind::kGet;
    if (options.counters > 0 && dice >= 85) {  // a sixth of the reads become increments
      op.kind = Op::Kind::kIncr;
      op.key = static_cast<int>(rng() % static_cast<std::uint64_t>(options.counters));
      static constexpr long long kDeltas[] = {1, 1, -1, 5, -3, 100};
      op.seq = kDeltas[rng() % std::size(kDeltas)];
    }
    if (options.collections > 0 && dice >= 60 && dice < 75) {  // collection adds and removes
      op.key = static_cast<int>(rng() % static_cast<std::uint64_t>(options.collections));
      std::vector<long long>& mine = added[static_cast<std::size_t>(op.key)];
      const bool bumps_kind = KindOfCollection(op.key).bump != nullptr;
      const long long bump = bumps_kind && rng() % 3 == 0 ? bumps->Pick(op.key, rng()) : 0;
      if (bump != 0) {
        op.kind = Op::Kind::kBump;
        op.seq = bump;
      } else if (!mine.empty() && rng() % 4 == 0) {
        const std::size_t at = static_cast<std::size_t>(rng() % mine.size());
        op.kind = Op::Kind::kRemove;
        op.seq = mine[at];
        mine[at] = mine.back();
        mine.pop_back();
      } else {
        op.kind = Op::Kind::kAdd;
        op.seq = next_seq->fetch_add(1) + 1;
        mine.push_back(op.seq);
      }
    }
    if (op.IsWrite()) op.seq = next_seq->fetch_add(1) + 1;
    ops->push_back(Perform(*conn, std::move(op)));
    const Op& done = ops->back();
    // Half the acknowledged adds of a kind with increments go to the shared pool instead: never
    // removed, bumped by every client.
    if (done.kind == Op::Kind::kAdd && done.ok() && KindOfCollection(done.key).bump != nullptr &&
        rng() % 2 == 0) {
      added[static_cast<std::size_t>(done.key)].pop_back();
      bumps->Add(done.key, done.seq);
    }
    if (!conn->ok()) conn.reset();  // a timed-out connection would pair later replies wrongly
  }
}

}  // namespace

std::vector<Op> RunWorkload(const WorkloadOptions& options) {
  std::vector<Target> targets;
  for (std::size_t i = 0; i < options.nodes.size(); ++i) {
    Target t;
    t.node = static_cast<int>(i) + 1;
    if (!ParseAddress(options.nodes[i], &t.host, &t.port)) return {};
    targets.push_back(t);
  }
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<long long>(options.seconds * 1000));
  std::atomic<long long> next_seq{0};
  BumpPool bumps(options.collections);
  const int clients = static_cast<int>(targets.size()) * options.clients_per_node;
  std::vector<std::vector<Op>> per_client(static_cast<std::size_t>(clients));
  {
    std::vector<std::jthread> threads;
    for (int c = 0; c < clients; ++c) {
      const Target& target = targets[static_cast<std::size_t>(c) % targets.size()];
      threads.emplace_back(RunClient, std::cref(options), std::cref(target), c + 1, deadline,
                           &next_seq, &bumps, &per_client[static_cast<std::size_t>(c)]);
    }
  }
  std::vector<Op> all;
  for (auto& ops : per_client) all.insert(all.end(), ops.begin(), ops.end());
  return all;
}

}  // namespace dynakv::faults
