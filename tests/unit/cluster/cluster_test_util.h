// Helpers for the cluster tests that run real ClusterNodes: several nodes on one libuv loop, each
// with its own storage engine in a temp dir and its bus on a free 127.0.0.1 port, plus raw
// sockets for talking to a bus by hand. Every wait is bounded by a watchdog timer.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "storage/engine.h"
#include "temp_dir.h"

namespace dynakv::cluster::testing {

using dynakv::testing::TempDir;

// An fd closed when the object goes away.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A TCP socket bound to 127.0.0.1 on a kernel-chosen port; listening when `listen` is set (it
// then completes handshakes but, never accepting, never reads a byte).
inline Fd BoundSocket(bool listen, int* port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  REQUIRE(fd.get() >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  if (listen) REQUIRE(::listen(fd.get(), 16) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// `n` distinct ports free at the time of the call (held together while chosen, then released).
inline std::vector<int> FreePorts(int n) {
  std::vector<Fd> held;
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) {
    int port = 0;
    held.push_back(BoundSocket(false, &port));
    ports.push_back(port);
  }
  return ports;
}

// A blocking client connection to 127.0.0.1:port; reads are non-blocking polls, so the test can
// keep the loop (and with it the node) running between them.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_.get() >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // The kernel completes the handshake from the listener's backlog; the loop accepts later.
    REQUIRE(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  void Send(const std::string& bytes) {
    REQUIRE(::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Appends whatever arrived to received(); false once the peer closed (EOF or reset).
  bool Poll() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        received_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return false;
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
  }
  std::string& received() { return received_; }

 private:
  Fd fd_;
  std::string received_;
};

// Runs `loop` until `done()` holds or `timeout_ms` pass (a watchdog timer guarantees the loop
// wakes up). Returns done().
inline bool RunUntil(uv_loop_t* loop, const std::function<bool()>& done, int timeout_ms = 5000) {
  bool expired = false;
  uv_timer_t watchdog;
  uv_timer_init(loop, &watchdog);
  watchdog.data = &expired;
  uv_timer_start(
      &watchdog, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      static_cast<std::uint64_t>(timeout_ms), 0);
  while (!done() && !expired) uv_run(loop, UV_RUN_ONCE);
  bool closed = false;
  watchdog.data = &closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog),
           [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
  while (!closed) uv_run(loop, UV_RUN_ONCE);
  return done();
}

// Runs the loop for `ms` milliseconds.
inline void RunFor(uv_loop_t* loop, int ms) {
  RunUntil(
      loop, [] { return false; }, ms);
}

struct MemberSpec {
  std::string id;
  std::string dc;
};

// Nodes on one loop. Members are given ids and bus ports up front (static membership); nodes
// are created for the first `started` members (the rest may be stand-ins, e.g. raw sockets).
class TestCluster {
 public:
  using Tweak = std::function<void(ClusterOptions&)>;
  // Every test cluster's bus secret (a tweak may clear it: an unauthenticated bus, for tests
  // that play a member with a raw socket).
  static constexpr const char* kSecret = "unit-test-cluster-secret, not for production";

  explicit TestCluster(std::vector<MemberSpec> specs, const Tweak& tweak = nullptr,
                       std::vector<int> ports = {}) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    if (ports.empty()) ports = FreePorts(static_cast<int>(specs.size()));
    for (std::size_t i = 0; i < specs.size(); ++i) {
      NodeInfo info;
      info.id = specs[i].id;
      info.host = "127.0.0.1";
      info.port = ports[i];  // with bus_port_offset 0 the member port is the bus port
      info.dc = specs[i].dc;
      members_.push_back(info);
    }
    for (std::size_t i = 0; i < specs.size(); ++i) slots_.push_back(std::make_unique<Slot>());
    tweak_ = tweak;
  }

  explicit TestCluster(int n, const Tweak& tweak = nullptr) : TestCluster(Specs(n), tweak) {}

  ~TestCluster() {
    // No REQUIRE here: a destructor must not throw, even after a failed test.
    for (auto& slot : slots_) {
      if (!slot->node || slot->stopped) continue;
      bool done = false;
      slot->node->Stop([&done] { done = true; });
      CHECK(RunUntil(&loop_, [&] { return done; }));
    }
    for (auto& slot : slots_) {
      slot->node.reset();
      slot->engine.reset();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);  // every handle was closed
  }

  static std::vector<MemberSpec> Specs(int n) {
    std::vector<MemberSpec> specs;
    for (int i = 0; i < n; ++i) specs.push_back(MemberSpec{std::string(1, char('A' + i)), ""});
    return specs;
  }

  ClusterOptions Options(int i) const {
    ClusterOptions options;
    options.self_id = members_[static_cast<std::size_t>(i)].id;
    options.members = members_;
    options.bus_port_offset = 0;
    options.replication_factor = static_cast<int>(members_.size());
    options.request_timeout_ms = 500;
    options.ping_interval_ms = 0;
    options.read_repair_chance = 0;  // which replicas a read asks is then deterministic
    options.secret = kSecret;        // an authenticated bus, as in production
    if (tweak_) tweak_(options);
    return options;
  }

  // Opens node i's engine (kept across restarts) and creates and starts its ClusterNode.
  void Start(int i) {
    Slot& slot = *slots_[static_cast<std::size_t>(i)];
    if (!slot.engine) {
      storage::Options storage_options;
      storage_options.dir = slot.dir.path();
      storage_options.fsync = storage::FsyncPolicy::kNo;
      REQUIRE(storage::Engine::Open(storage_options, &slot.engine).ok());
    }
    std::string error;
    REQUIRE_MESSAGE(ClusterNode::Create(&loop_, *slot.engine, Options(i), &slot.node, &error),
                    error);
    REQUIRE_MESSAGE(slot.node->Start(&error), error);
    slot.stopped = false;
  }
  void StartAll() {
    for (std::size_t i = 0; i < slots_.size(); ++i) Start(static_cast<int>(i));
  }

  // Stops node i and waits for its done callback; the node object is then destroyed.
  void Stop(int i) {
    Slot& slot = *slots_[static_cast<std::size_t>(i)];
    bool done = false;
    slot.node->Stop([&done] { done = true; });
    CHECK_FALSE(done);  // never inside Stop
    REQUIRE(RunUntil(&loop_, [&] { return done; }));
    slot.node.reset();
    slot.stopped = true;
  }

  // Loses stopped node i's disk: its engine is closed and its data dir emptied, so the next
  // Start opens an empty engine under the same id and port.
  void Wipe(int i) {
    Slot& slot = *slots_[static_cast<std::size_t>(i)];
    REQUIRE(slot.stopped);
    slot.engine.reset();
    for (const auto& entry : std::filesystem::directory_iterator(slot.dir.path())) {
      std::filesystem::remove_all(entry.path());
    }
  }

  uv_loop_t* loop() { return &loop_; }
  ClusterNode& node(int i) { return *slots_[static_cast<std::size_t>(i)]->node; }
  storage::Engine& engine(int i) { return *slots_[static_cast<std::size_t>(i)]->engine; }
  const std::vector<NodeInfo>& members() const { return members_; }

  // Node i cut off from the nodes in `from`, both ways (adding to earlier partitions).
  void Partition(int i, const std::vector<int>& from) {
    for (int j : from) {
      partitions_[i].push_back(members_[static_cast<std::size_t>(j)].id);
      partitions_[j].push_back(members_[static_cast<std::size_t>(i)].id);
    }
    for (auto& [k, ids] : partitions_) {
      Node(k, [&](ClusterNode& node) { node.SetPartitionedFrom(ids); });
    }
  }
  void Heal() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Node(static_cast<int>(i), [](ClusterNode& node) { node.SetPartitionedFrom({}); });
    }
    partitions_.clear();
  }

  // --- requests, each run to its callback (the callback must not run inside the call) -------
  WriteResult Write(int via, const std::string& key, const SiblingSet& set,
                    const ConsistencyLevel& level) {
    std::optional<WriteResult> result;
    node(via).Write(key, set, level, [&](WriteResult r) { result = std::move(r); });
    CHECK_FALSE(result.has_value());
    REQUIRE_MESSAGE(RunUntil(&loop_, [&] { return result.has_value(); }),
                    "write callback never ran");
    return *result;
  }
  ReadResult Read(int via, const std::string& key, const ConsistencyLevel& level) {
    std::optional<ReadResult> result;
    node(via).Read(key, level, [&](ReadResult r) { result = std::move(r); });
    CHECK_FALSE(result.has_value());
    REQUIRE_MESSAGE(RunUntil(&loop_, [&] { return result.has_value(); }),
                    "read callback never ran");
    return *result;
  }
  // A write as the server makes it: a new version with `context` on top of the local copy.
  WriteResult Set(int via, const std::string& key, const std::string& value,
                  const ConsistencyLevel& level, std::optional<SiblingSet> base = std::nullopt) {
    SiblingSet set = base ? *base : node(via).LocalSiblings(key);
    Version version = set.NewVersion(set.Context(), node(via).self_id(), node(via).NextTimestamp());
    version.value = value;
    REQUIRE(set.Add(version));
    return Write(via, key, set, level);
  }

 private:
  struct Slot {
    TempDir dir;
    std::unique_ptr<storage::Engine> engine;
    std::unique_ptr<ClusterNode> node;
    bool stopped = false;
  };
  template <typename Fn>
  void Node(int i, Fn fn) {
    Slot& slot = *slots_[static_cast<std::size_t>(i)];
    if (slot.node && !slot.stopped) fn(*slot.node);
  }

  uv_loop_t loop_;
  std::vector<NodeInfo> members_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::map<int, std::vector<std::string>> partitions_;
  Tweak tweak_;
};

inline ConsistencyLevel Level(int count) {
  return ConsistencyLevel{ConsistencyLevel::Kind::kCount, count};
}

inline std::vector<std::string> Values(const SiblingSet& set) {
  std::vector<std::string> values;
  for (const Version& version : set.versions()) values.push_back(version.value);
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace dynakv::cluster::testing
