// Harness for the integration tests: real server processes on 127.0.0.1 driven over TCP.
//
// The binary under test comes from env DYNAKV_SERVER (ctest sets it to dynakv-server). Pointing it
// at a real redis-server runs the same tests against Redis 7, which is how the expected replies
// were validated; flags are translated and tests of dynakv-only features skip themselves.
//
// Every wait is bounded: a hung server fails the test instead of hanging it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;
struct redisReader;

namespace dynakv::itest {

// True when DYNAKV_SERVER is a real redis-server: dynakv-only checks are skipped then.
bool TestingRealRedis();

// An owned copy of one reply, comparable with == so a failed CHECK prints both sides.
struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError, kIoError };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError; for kIoError the transport error
  long long integer = 0;
  std::vector<Reply> elements;

  static Reply Bulk(std::string_view s);
  static Reply Status(std::string_view s);
  static Reply Error(std::string_view s);
  static Reply Int(long long n);
  static Reply Nil();
  static Reply Array(std::vector<Reply> elements);
  // An array of bulk strings, the most common multi-value reply.
  static Reply Bulks(std::initializer_list<std::string_view> items);
  static Reply FromHiredis(const redisReply* r);

  bool IsError() const { return type == Type::kError; }
  bool operator==(const Reply& other) const;
};
std::ostream& operator<<(std::ostream& os, const Reply& reply);

// Flags use dynakv's (Redis-style) names; see conf/node.toml.
using Flags = std::vector<std::string>;

class ServerProcess {
 public:
  // Picks a free loopback port and a fresh data dir; does not start the process.
  explicit ServerProcess(Flags flags = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the process (again, after Stop/Kill: same port and dir) and waits until it answers.
  void Start();
  // SIGTERM, then waits for the exit; checks the process exits with status 0.
  void Stop();
  // SIGKILL and reap: a crash as far as the data dir is concerned.
  void Kill();
  // Waits (bounded) for a process that was told to exit by other means (SHUTDOWN) and returns its
  // raw wait status, or -1 when it did not exit in time (it is then killed).
  int WaitExit(std::chrono::milliseconds timeout);
  // True while the process runs; reaps it (and logs why) if it died.
  bool Alive();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return data_dir_; }
  // Resident set size from /proc/<pid>/statm.
  std::uint64_t RssBytes() const;
  // The last `bytes` of the server's log (its stdout and stderr).
  std::string LogTail(std::size_t bytes = 4096) const;

 private:
  std::vector<std::string> Argv() const;
  void Spawn();
  bool WaitReady(std::chrono::milliseconds timeout);
  bool Reap(std::chrono::milliseconds timeout, int* status);

  Flags flags_;
  std::string root_dir_;  // holds data/ and server.log
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A hiredis connection with connect and command timeouts.
class Client {
 public:
  explicit Client(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const;  // connected and no transport error so far
  std::string error() const;

  Reply Command(const std::vector<std::string>& argv);
  Reply Command(std::initializer_list<std::string_view> argv);
  // Pipelining: queue commands, then read the replies in order.
  void Append(const std::vector<std::string>& argv);
  Reply GetReply();

 private:
  redisContext* ctx_ = nullptr;
};

// A plain TCP connection for bytes hiredis would never send, and for reading raw replies.
class RawSocket {
 public:
  explicit RawSocket(int port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Writes everything (waiting for the peer to drain); false if the peer closed or it timed out.
  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until `count` bytes arrived, the peer closed or the timeout passed.
  std::string ReadBytes(std::size_t count, std::chrono::milliseconds timeout);
  // Reads until `marker` arrived; returns everything up to and including it, or what arrived
  // before the peer closed or the timeout passed (then without the marker).
  std::string ReadUntil(std::string_view marker, std::chrono::milliseconds timeout);
  // Reads until `count` complete RESP2 replies parsed; fewer if closed or timed out.
  std::vector<Reply> ReadReplies(std::size_t count, std::chrono::milliseconds timeout);
  // Reads until the peer closes; returns what arrived. *closed tells whether EOF (or a reset)
  // came within the timeout.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed);
  void Close();

 private:
  // One poll+read; returns bytes read, 0 on EOF/reset (sets eof_), -1 on timeout.
  long ReadOnce(std::string* out, std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;  // bytes read beyond what ReadBytes returned
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
};

// A started server and one client connected to it: the fixture most tests use.
struct ServerFixture {
  explicit ServerFixture(Flags flags = {});
  ServerProcess server;
  Client client;
};

// `n` bytes from a seeded generator: incompressible test data.
std::string RandomBytes(std::size_t n, std::uint64_t seed);

// Encodes argv as a RESP multibulk request.
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace dynakv::itest
