#include "serial_workload.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "conn.h"
#include "op_log.h"

namespace dynakv::faults {
namespace {

using Clock = std::chrono::steady_clock;

std::string FirstWord(const std::string& s) { return s.substr(0, s.find(' ')); }

// A connection at `level` (CONSISTENCY SERIAL: INCR and GET run as Paxos rounds too), or null.
std::unique_ptr<Conn> Connect(const std::string& address, const std::string& level,
                              std::chrono::milliseconds timeout) {
  std::string host;
  int port = 0;
  if (!ParseAddress(address, &host, &port)) return nullptr;
  auto conn = std::make_unique<Conn>(host, port, timeout);
  if (!conn->ok()) return nullptr;
  const Reply r = conn->Command({"CONSISTENCY", level});
  if (r.type != Reply::Type::kStatus || r.str != "OK") return nullptr;
  return conn;
}

// Sends argv and fills op's times and outcome; `good` says whether the reply is the expected
// kind (else: an error that says nothing was applied is kRefused, anything else kUnknown).
template <typename Good>
Reply Send(Conn& conn, const std::vector<std::string>& argv, SerialOp* op, Good good) {
  op->start_us = NowUs();
  const Reply reply = conn.Command(argv);
  op->end_us = NowUs();
  if (good(reply)) {
    op->outcome = SerialOp::Outcome::kOk;
  } else if (reply.IsError() && (reply.str.starts_with("UNAVAILABLE") ||
                                 reply.str.find("was not applied") != std::string::npos)) {
    op->outcome = SerialOp::Outcome::kRefused;
    op->error = FirstWord(reply.str);
  } else {
    op->outcome = SerialOp::Outcome::kUnknown;
    op->error = reply.type == Reply::Type::kIo ? "io"
                : reply.IsError()              ? FirstWord(reply.str)
                                               : "unexpected-reply";
  }
  return reply;
}

struct Shared {
  const SerialWorkloadOptions* options = nullptr;
  Clock::time_point deadline;
  std::atomic<long long> next_token{0};
};

void LockClient(Shared* shared, int node, int client, std::vector<SerialOp>* ops) {
  const SerialWorkloadOptions& o = *shared->options;
  std::mt19937_64 rng(o.seed * 7919 + static_cast<std::uint64_t>(client));
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  std::unique_ptr<Conn> conn;
  while (Clock::now() < shared->deadline) {
    if (conn == nullptr || !conn->ok()) {
      conn = Connect(o.nodes[static_cast<std::size_t>(node - 1)], o.level, timeout);
      if (conn == nullptr) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    SerialOp acquire;
    acquire.kind = SerialOp::Kind::kAcquire;
    acquire.key = static_cast<int>(rng() % static_cast<std::uint64_t>(o.locks));
    acquire.value = shared->next_token.fetch_add(1) + 1;
    acquire.px_ms = o.px_ms;
    acquire.node = node;
    acquire.client = client;
    const std::string lock = LockName(acquire.key);
    const std::string token = std::to_string(acquire.value);
    const Reply got =
        Send(*conn, {"SET", lock, token, "NX", "PX", std::to_string(o.px_ms)}, &acquire,
             [](const Reply& r) { return r.type == Reply::Type::kStatus && r.str == "OK"; });
    if (got.type == Reply::Type::kNil) {
      acquire.outcome = SerialOp::Outcome::kRefused;
      acquire.error = "nil";
    }
    ops->push_back(acquire);
    if (!conn->ok()) {
      conn.reset();
      continue;
    }
    if (!acquire.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 40));
      continue;
    }
    // Hold it a little, then release it only if it is still ours and the lease is young: a DEL
    // has no condition, so one sent late could remove the next holder's lock.
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 60));
    const Reply mine = conn->Command({"GET", lock});
    const bool young = NowUs() < acquire.start_us + o.px_ms * 1000 / 2;
    if (mine.type != Reply::Type::kString || mine.str != token || !young) continue;
    SerialOp release;
    release.kind = SerialOp::Kind::kRelease;
    release.key = acquire.key;
    release.value = acquire.value;
    release.node = node;
    release.client = client;
    Send(*conn, {"DEL", lock}, &release,
         [](const Reply& r) { return r.type == Reply::Type::kInteger; });
    ops->push_back(release);
  }
}

void RegisterClient(Shared* shared, int node, int client, std::vector<SerialOp>* ops) {
  const SerialWorkloadOptions& o = *shared->options;
  std::mt19937_64 rng(o.seed * 104729 + static_cast<std::uint64_t>(client));
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  const auto gap = std::chrono::microseconds(1000000 / std::max(1, o.register_ops_per_second));
  std::unique_ptr<Conn> conn;
  long long seq = 0;
  auto next = Clock::now();
  while (Clock::now() < shared->deadline) {
    std::this_thread::sleep_until(next);
    next = std::max(next + gap, Clock::now());
    if (conn == nullptr || !conn->ok()) {
      conn = Connect(o.nodes[static_cast<std::size_t>(node - 1)], o.level, timeout);
      if (conn == nullptr) continue;
    }
    SerialOp op;
    op.key = static_cast<int>(rng() % static_cast<std::uint64_t>(o.registers));
    op.node = node;
    op.client = client;
    const std::string reg = RegisterName(op.key);
    const int dice = static_cast<int>(rng() % 3);
    if (dice == 0) {
      op.kind = SerialOp::Kind::kGet;
      const Reply r = Send(*conn, {"GET", reg}, &op, [](const Reply& r) {
        return r.type == Reply::Type::kNil || r.type == Reply::Type::kString;
      });
      if (op.ok()) {
        op.nil = r.type == Reply::Type::kNil;
        if (!op.nil) op.value = std::atoll(r.str.c_str());
      }
    } else if (dice == 1) {
      op.kind = SerialOp::Kind::kSet;
      op.value = 1000000LL * client + ++seq;  // unique in the run
      Send(*conn, {"SET", reg, std::to_string(op.value)}, &op,
           [](const Reply& r) { return r.type == Reply::Type::kStatus && r.str == "OK"; });
    } else {
      op.kind = SerialOp::Kind::kIncr;
      const Reply r = Send(*conn, {"INCR", reg}, &op,
                           [](const Reply& r) { return r.type == Reply::Type::kInteger; });
      if (op.ok()) op.value = r.integer;
    }
    ops->push_back(op);
  }
}

}  // namespace

std::vector<SerialOp> RunSerialWorkload(const SerialWorkloadOptions& options) {
  Shared shared;
  shared.options = &options;
  shared.deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<long long>(options.seconds * 1000));
  const int nodes = static_cast<int>(options.nodes.size());
  const int per_node = options.lock_clients_per_node + options.register_clients_per_node;
  std::vector<std::vector<SerialOp>> per_client(static_cast<std::size_t>(nodes * per_node));
  {
    std::vector<std::jthread> threads;
    int client = 0;
    for (int n = 1; n <= nodes; ++n) {
      for (int c = 0; c < per_node; ++c, ++client) {
        auto* log = &per_client[static_cast<std::size_t>(client)];
        // Client ids follow the QUORUM workload's (1..) at a distance, for reports.
        if (c < options.lock_clients_per_node) {
          threads.emplace_back(LockClient, &shared, n, 1000 + client, log);
        } else {
          threads.emplace_back(RegisterClient, &shared, n, 1000 + client, log);
        }
      }
    }
  }
  std::vector<SerialOp> all;
  for (auto& ops : per_client) all.insert(all.end(), ops.begin(), ops.end());
  return all;
}

}  // namespace dynakv::faults
