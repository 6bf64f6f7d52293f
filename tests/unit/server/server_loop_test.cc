// The network core in-process: a real Server and Engine on a private libuv loop, driven one
// non-blocking iteration at a time while the test talks to it over loopback sockets. Covers
// pipelining, split requests, protocol errors, AUTH gating, output backpressure and limits,
// disconnects with writes in flight, CLIENT KILL and SHUTDOWN.

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "config.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(5);

std::string Command(std::vector<std::string_view> args) { return resp::EncodeCommand(args); }

// A port free on loopback right now (`port 0` means "no plain port", as in Redis).
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

class Node {
 public:
  explicit Node(Config config = {}) {
    // As in RunNode: a peer that vanishes mid-write must cost EPIPE, not the process.
    signal(SIGPIPE, SIG_IGN);
    char pattern[] = "/tmp/dynakv-loop-test-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    config.dir = dir_;
    config.bind = "127.0.0.1";
    config.port = FreeLoopbackPort();
    config.loglevel = "warning";
    REQUIRE(storage::Engine::Open(ToStorageOptions(config), &engine_).ok());
    REQUIRE(uv_loop_init(&loop_) == 0);
    server_ = std::make_unique<Server>(&loop_, config, *engine_);
    std::string error;
    REQUIRE_MESSAGE(server_->Start(&error), error);
  }

  ~Node() {
    if (!stopped_) {
      server_->RequestShutdown();
      RunUntilStopped();
    }
    for (int fd : fds_) close(fd);
    server_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    engine_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
    std::filesystem::remove_all(dir_);
  }

  Server& server() { return *server_; }

  // Runs loop iterations until `done` holds or the timeout passes.
  bool Pump(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + kTimeout;
    while (Clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (done()) return true;
    }
    return false;
  }

  // After SHUTDOWN or RequestShutdown: the loop must run out of handles.
  bool RunUntilStopped() {
    const auto deadline = Clock::now() + kTimeout;
    while (Clock::now() < deadline) {
      if (uv_run(&loop_, UV_RUN_NOWAIT) == 0) {
        stopped_ = true;
        return true;
      }
    }
    return false;
  }

  int Connect() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    fds_.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    REQUIRE((rc == 0 || errno == EINPROGRESS));
    // The kernel completes the handshake from the listen backlog; the loop accepts it.
    const std::size_t before = server_->stats().total_connections_received;
    const std::size_t rejected = server_->stats().rejected_connections;
    REQUIRE(Pump([&] {
      return server_->stats().total_connections_received > before ||
             server_->stats().rejected_connections > rejected;
    }));
    return fd;
  }

  // Sends everything, running the loop whenever the socket is full.
  void Send(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    REQUIRE(Pump([&] {
      while (sent < bytes.size()) {
        const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      return sent == bytes.size();
    }));
  }

  // Reads until `size` bytes arrived or the peer closed.
  std::string Read(int fd, std::size_t size, bool* eof = nullptr) {
    std::string got;
    bool closed = false;
    Pump([&] {
      char buf[65536];
      for (;;) {
        const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
          got.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
        break;
      }
      return closed || got.size() >= size;
    });
    if (eof != nullptr) *eof = closed;
    return got;
  }

  std::string Roundtrip(int fd, std::string_view request, std::string_view expected) {
    Send(fd, request);
    return Read(fd, expected.size());
  }

  // Waits for the peer to close; true when it did.
  bool WaitClosed(int fd) {
    bool eof = false;
    Read(fd, SIZE_MAX, &eof);
    return eof;
  }

 private:
  std::string dir_;
  uv_loop_t loop_{};
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<Server> server_;
  std::vector<int> fds_;
  bool stopped_ = false;
};

TEST_CASE("pipelined requests get their replies in order") {
  Node node;
  const int fd = node.Connect();
  const std::string request = Command({"PING"}) + Command({"ECHO", "hello"}) + "PING inline\r\n" +
                              Command({"SET", "k", "v"}) + Command({"GET", "k"}) + "\r\n" +
                              Command({"NOPE", "x"}) + Command({"GET"});
  const std::string expected =
      "+PONG\r\n$5\r\nhello\r\n$6\r\ninline\r\n+OK\r\n$1\r\nv\r\n"
      "-ERR unknown command 'NOPE', with args beginning with: 'x' \r\n"
      "-ERR wrong number of arguments for 'get' command\r\n";
  CHECK(node.Roundtrip(fd, request, expected) == expected);
  CHECK(node.server().stats().total_commands_processed == 5);
  CHECK(node.server().stats().total_error_replies == 2);
}

TEST_CASE("a request split into single bytes is assembled") {
  Node node;
  const int fd = node.Connect();
  const std::string value(40000, 'x');  // larger than one read
  const std::string request = Command({"SET", "big", value}) + Command({"STRLEN", "big"});
  for (char c : request.substr(0, 100)) node.Send(fd, std::string_view(&c, 1));
  node.Send(fd, request.substr(100));
  CHECK(node.Read(fd, 12) == "+OK\r\n:40000\r\n");
}

TEST_CASE("a client that half-closes after its requests still gets every reply") {
  Config config;
  config.client_output_buffer_soft_limit = 64 * 1024;
  Node node(config);
  const int fd = node.Connect();
  const std::string value(16 * 1024, 'q');
  node.Send(fd, Command({"SET", "q", value}));
  REQUIRE(node.Read(fd, 5) == "+OK\r\n");
  const int kGets = 600;  // ~10 MB of replies: more than the socket buffers hold
  std::string gets;
  for (int i = 0; i < kGets; ++i) gets += Command({"GET", "q"});
  node.Send(fd, gets);
  shutdown(fd, SHUT_WR);
  // Let the server fill the socket and pause before anything is read.
  for (int i = 0; i < 100; ++i) node.Pump([] { return true; });
  bool eof = false;
  const std::string reply = "$16384\r\n" + value + "\r\n";
  const std::string received = node.Read(fd, SIZE_MAX, &eof);
  CHECK(eof);
  CHECK(received.size() == reply.size() * kGets);
}

TEST_CASE("a protocol error is answered, then the connection closes") {
  Node node;
  const int fd = node.Connect();
  node.Send(fd, Command({"PING"}) + "*1\r\n$x\r\n" + Command({"PING"}));
  bool eof = false;
  CHECK(node.Read(fd, SIZE_MAX, &eof) == "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
  CHECK(eof);
  node.Pump([&] { return node.server().connected_clients() == 0; });
  CHECK(node.server().connected_clients() == 0);
}

TEST_CASE("QUIT replies +OK and closes; later pipelined requests are ignored") {
  Node node;
  const int fd = node.Connect();
  node.Send(fd, Command({"QUIT"}) + Command({"PING"}));
  bool eof = false;
  CHECK(node.Read(fd, SIZE_MAX, &eof) == "+OK\r\n");
  CHECK(eof);
}

TEST_CASE("with requirepass, commands wait for AUTH") {
  Config config;
  config.requirepass = "pw";
  Node node(config);
  const int fd = node.Connect();
  const std::string expected =
      "-NOAUTH Authentication required.\r\n"
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
      "+OK\r\n+PONG\r\n";
  CHECK(node.Roundtrip(fd,
                       Command({"PING"}) + Command({"AUTH", "nope"}) + Command({"AUTH", "pw"}) +
                           Command({"PING"}),
                       expected) == expected);
  // Before AUTH, big requests are refused outright (Redis's unauthenticated limits).
  const int other = node.Connect();
  node.Send(other, "*100\r\n");
  bool eof = false;
  CHECK(node.Read(other, SIZE_MAX, &eof) ==
        "-ERR Protocol error: unauthenticated multibulk length\r\n");
  CHECK(eof);
}

TEST_CASE("a client that does not read is paused at the soft limit and resumes when it reads") {
  Config config;
  config.client_output_buffer_soft_limit = 256 * 1024;
  Node node(config);
  const int fd = node.Connect();
  const std::string value(64 * 1024, 'v');
  node.Send(fd, Command({"SET", "v", value}));
  REQUIRE(node.Read(fd, 5) == "+OK\r\n");

  const int kGets = 400;  // ~26 MB of replies
  std::string gets;
  for (int i = 0; i < kGets; ++i) gets += Command({"GET", "v"});
  // Queue the requests without reading; the server must stop producing replies.
  std::size_t sent = 0;
  for (int i = 0; i < 200; ++i) {
    node.Pump([] { return true; });
    const ssize_t n = send(fd, gets.data() + sent, gets.size() - sent, MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  REQUIRE(node.server().connected_clients() == 1);
  const Client& client = *node.server().clients().begin()->second;
  CHECK(client.PendingOutput() <= config.client_output_buffer_soft_limit + value.size() + 64);
  CHECK(node.server().stats().total_commands_processed < kGets);

  // Reading everything lets it finish every request.
  const std::string reply = "$65536\r\n" + value + "\r\n";
  std::string received;
  REQUIRE(node.Pump([&] {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
      received.append(buf, static_cast<std::size_t>(n));
    }
    if (sent < gets.size()) {
      n = send(fd, gets.data() + sent, gets.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    return received.size() >= reply.size() * kGets;
  }));
  CHECK(received.size() == reply.size() * kGets);
  CHECK(received.compare(received.size() - reply.size(), reply.size(), reply) == 0);
}

TEST_CASE("output over the hard limit closes the client") {
  Config config;
  config.client_output_buffer_soft_limit = 0;  // no backpressure: the hard limit must act
  config.client_output_buffer_hard_limit = 1024 * 1024;
  Node node(config);
  const int fd = node.Connect();
  const std::string value(200 * 1024, 'h');
  node.Send(fd, Command({"SET", "h", value}));
  REQUIRE(node.Read(fd, 5) == "+OK\r\n");
  std::string gets;
  for (int i = 0; i < 100; ++i) gets += Command({"GET", "h"});
  node.Send(fd, gets);
  CHECK(node.Pump([&] { return node.server().connected_clients() == 0; }));
}

TEST_CASE("disconnecting with a write in flight is cleaned up") {
  Node node;
  const int keeper = node.Connect();
  const int fd = node.Connect();
  node.Send(fd, Command({"SET", "x", std::string(512 * 1024, 'x')}));
  REQUIRE(node.Read(fd, 5) == "+OK\r\n");
  std::string gets;
  for (int i = 0; i < 50; ++i) gets += Command({"GET", "x"});
  node.Send(fd, gets);
  node.Pump([&] { return node.server().stats().total_commands_processed > 10; });
  linger hard_close{1, 0};  // RST: the server's pending write fails
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard_close, sizeof(hard_close));
  shutdown(fd, SHUT_RDWR);
  CHECK(node.Pump([&] { return node.server().connected_clients() == 1; }));
  CHECK(node.Roundtrip(keeper, Command({"PING"}), "+PONG\r\n") == "+PONG\r\n");
}

TEST_CASE("maxclients turns extra connections away") {
  Config config;
  config.maxclients = 1;
  Node node(config);
  const int first = node.Connect();
  const int second = node.Connect();
  bool eof = false;
  CHECK(node.Read(second, SIZE_MAX, &eof) == "-ERR max number of clients reached\r\n");
  CHECK(eof);
  CHECK(node.server().stats().rejected_connections == 1);
  CHECK(node.Roundtrip(first, Command({"PING"}), "+PONG\r\n") == "+PONG\r\n");
}

TEST_CASE("CLIENT KILL closes another connection; CLIENT ID and SETNAME work") {
  Node node;
  const int victim = node.Connect();
  const int killer = node.Connect();
  CHECK(node.Roundtrip(victim, Command({"CLIENT", "ID"}), ":1\r\n") == ":1\r\n");
  CHECK(node.Roundtrip(killer,
                       Command({"CLIENT", "SETNAME", "killer"}) + Command({"CLIENT", "GETNAME"}) +
                           Command({"CLIENT", "KILL", "ID", "1"}),
                       "+OK\r\n$6\r\nkiller\r\n:1\r\n") == "+OK\r\n$6\r\nkiller\r\n:1\r\n");
  CHECK(node.WaitClosed(victim));
}

TEST_CASE("SHUTDOWN stops the loop and closes every connection") {
  Node node;
  const int idle = node.Connect();
  const int fd = node.Connect();
  node.Send(fd, Command({"SET", "k", "v"}) + Command({"SHUTDOWN"}));
  bool eof = false;
  CHECK(node.Read(fd, SIZE_MAX, &eof) == "+OK\r\n");
  CHECK(eof);
  CHECK(node.RunUntilStopped());
  char byte;
  CHECK(recv(idle, &byte, 1, MSG_DONTWAIT) == 0);
}

TEST_CASE("HELLO 3 switches the connection to RESP3") {
  Node node;
  const int fd = node.Connect();
  node.Send(fd, Command({"HELLO", "3"}) + Command({"CONFIG", "GET", "appendonly"}) +
                    Command({"HELLO", "2"}) + Command({"CONFIG", "GET", "appendonly"}));
  const std::string hello_fields =
      "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:%\r\n"
      "$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
      "$7\r\nmodules\r\n*0\r\n";
  auto hello = [&](char protocol) {
    std::string fields = hello_fields;
    fields[fields.find('%')] = protocol;
    return fields;
  };
  const std::string expected = "%7\r\n" + hello('3') +
                               "%1\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n" +
                               "*14\r\n" + hello('2') +
                               "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n";
  CHECK(node.Read(fd, expected.size()) == expected);
}

}  // namespace
}  // namespace dynakv::server
