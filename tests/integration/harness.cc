#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

#include <doctest/doctest.h>

namespace dynakv::itest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string ServerBinary() {
  const char* path = std::getenv("DYNAKV_SERVER");
  return path == nullptr ? std::string() : std::string(path);
}

timeval ToTimeval(milliseconds ms) {
  timeval tv;
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Looks up `name` in dynakv-style flags ("--name value"); empty when absent.
std::string FlagValue(const Flags& flags, std::string_view name) {
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == name) return flags[i + 1];
  }
  return {};
}

// redis-server takes the same "--name value" syntax for the knobs both share. dynakv has one
// database, durability through its commit log only, and a default eviction policy, offload, that
// keeps every key readable: an unbounded Redis is the closest match to that.
std::vector<std::string> TranslateForRedis(const Flags& flags) {
  std::string policy = FlagValue(flags, "--maxmemory-policy");
  bool drop_maxmemory = policy.empty() || policy == "offload";
  std::vector<std::string> out = {"--save", "",         "--appendonly", "yes",
                                  "--databases", "1",   "--daemonize", "no"};
  for (std::size_t i = 0; i + 1 < flags.size(); i += 2) {
    const std::string& name = flags[i];
    if (name == "--config") FAIL("--config has no redis-server equivalent in this harness");
    if (drop_maxmemory && (name == "--maxmemory" || name == "--maxmemory-policy")) continue;
    out.push_back(name);
    out.push_back(flags[i + 1]);
  }
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  std::size_t shown = s.size() > 300 ? 300 : s.size();
  for (std::size_t i = 0; i < shown; ++i) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c >= 32 && c < 127) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (shown < s.size()) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

bool TestingRealRedis() {
  return std::filesystem::path(ServerBinary()).filename().string().find("redis-server") !=
         std::string::npos;
}

// ---- Reply ----

Reply Reply::Bulk(std::string_view s) {
  Reply r;
  r.type = Type::kString;
  r.str = s;
  return r;
}
Reply Reply::Status(std::string_view s) {
  Reply r;
  r.type = Type::kStatus;
  r.str = s;
  return r;
}
Reply Reply::Error(std::string_view s) {
  Reply r;
  r.type = Type::kError;
  r.str = s;
  return r;
}
Reply Reply::Int(long long n) {
  Reply r;
  r.type = Type::kInteger;
  r.integer = n;
  return r;
}
Reply Reply::Nil() { return Reply(); }
Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.type = Type::kArray;
  r.elements = std::move(elements);
  return r;
}
Reply Reply::Bulks(std::initializer_list<std::string_view> items) {
  std::vector<Reply> elements;
  for (std::string_view item : items) elements.push_back(Bulk(item));
  return Array(std::move(elements));
}

Reply Reply::FromHiredis(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(FromHiredis(r->element[i]));
      }
      break;
    default:
      out.type = Type::kNil;
  }
  return out;
}

bool Reply::operator==(const Reply& other) const {
  if (type != other.type) return false;
  switch (type) {
    case Type::kInteger:
      return integer == other.integer;
    case Type::kArray:
      return elements == other.elements;
    case Type::kNil:
      return true;
    default:
      return str == other.str;
  }
}

std::ostream& operator<<(std::ostream& os, const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kString:
      return os << '"' << Escape(reply.str) << '"';
    case Reply::Type::kStatus:
      return os << "+" << Escape(reply.str);
    case Reply::Type::kError:
      return os << "-" << Escape(reply.str);
    case Reply::Type::kIoError:
      return os << "<io error: " << reply.str << ">";
    case Reply::Type::kInteger:
      return os << "(integer) " << reply.integer;
    case Reply::Type::kNil:
      return os << "(nil)";
    case Reply::Type::kArray:
      os << "[";
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i == 8) return os << ", ...(" << reply.elements.size() << " elements)]";
        os << (i ? ", " : "") << reply.elements[i];
      }
      return os << "]";
  }
  return os;
}

// ---- ServerProcess ----

ServerProcess::ServerProcess(Flags flags) : flags_(std::move(flags)) {
  REQUIRE_MESSAGE(!ServerBinary().empty(), "set DYNAKV_SERVER to the server binary");
  REQUIRE_MESSAGE(access(ServerBinary().c_str(), X_OK) == 0, "not executable: ", ServerBinary());
  REQUIRE(flags_.size() % 2 == 0);
  std::string templ = (std::filesystem::temp_directory_path() / "dynakv-itest-XXXXXX").string();
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  root_dir_ = templ;
  data_dir_ = root_dir_ + "/data";
  log_path_ = root_dir_ + "/server.log";
  std::filesystem::create_directory(data_dir_);
  port_ = PickFreePort();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (std::getenv("DYNAKV_ITEST_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(root_dir_, ec);
  } else {
    std::cerr << "kept " << root_dir_ << "\n";
  }
}

std::vector<std::string> ServerProcess::Argv() const {
  std::vector<std::string> argv = {ServerBinary(), "--port", std::to_string(port_), "--bind",
                                   "127.0.0.1", "--dir", data_dir_};
  if (TestingRealRedis()) {
    for (std::string& arg : TranslateForRedis(flags_)) argv.push_back(std::move(arg));
  } else {
    argv.insert(argv.end(), flags_.begin(), flags_.end());
  }
  return argv;
}

void ServerProcess::Spawn() {
  std::vector<std::string> args = Argv();
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(log_fd >= 0);
  pid_t parent = getpid();
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The server must not outlive a test binary killed by ctest's timeout.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;
}

void ServerProcess::Start() {
  REQUIRE_MESSAGE(pid_ < 0, "server already running");
  Spawn();
  bool ready = WaitReady(std::chrono::seconds(10));
  REQUIRE_MESSAGE(ready, "server did not answer PING within 10 s; log tail:\n", LogTail());
}

bool ServerProcess::WaitReady(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!Alive()) return false;
    redisContext* ctx = redisConnectWithTimeout("127.0.0.1", port_, ToTimeval(milliseconds(500)));
    if (ctx != nullptr && ctx->err == 0) {
      redisSetTimeout(ctx, ToTimeval(milliseconds(2000)));
      auto* reply = static_cast<redisReply*>(redisCommand(ctx, "PING"));
      // Any reply but LOADING counts, NOAUTH included: the server is up and has its data.
      bool answered = reply != nullptr && !(reply->type == REDIS_REPLY_ERROR &&
                                            std::string_view(reply->str).starts_with("LOADING"));
      if (reply != nullptr) freeReplyObject(reply);
      redisFree(ctx);
      if (answered) return true;
    } else if (ctx != nullptr) {
      redisFree(ctx);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

bool ServerProcess::Reap(milliseconds timeout, int* status) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = waitpid(pid_, status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

void ServerProcess::Stop() {
  REQUIRE_MESSAGE(pid_ > 0, "server not running");
  kill(pid_, SIGTERM);
  int status = 0;
  if (!Reap(std::chrono::seconds(20), &status)) {
    kill(pid_, SIGKILL);
    Reap(std::chrono::seconds(5), &status);
    FAIL_CHECK("server did not exit within 20 s of SIGTERM; log tail:\n", LogTail());
    return;
  }
  CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "server did not exit 0 on SIGTERM (wait status ", status, "); log tail:\n",
                LogTail());
}

void ServerProcess::Kill() {
  REQUIRE_MESSAGE(pid_ > 0, "server not running");
  kill(pid_, SIGKILL);
  int status = 0;
  REQUIRE(Reap(std::chrono::seconds(10), &status));
}

int ServerProcess::WaitExit(milliseconds timeout) {
  if (pid_ < 0) return -1;
  int status = 0;
  if (Reap(timeout, &status)) return status;
  kill(pid_, SIGKILL);
  Reap(std::chrono::seconds(5), &status);
  return -1;
}

bool ServerProcess::Alive() {
  if (pid_ < 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  pid_ = -1;
  MESSAGE("server exited unexpectedly (wait status ", status, "); log tail:\n", LogTail());
  return false;
}

std::uint64_t ServerProcess::RssBytes() const {
  std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string ServerProcess::LogTail(std::size_t bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

// ---- Client ----

Client::Client(int port, milliseconds timeout) {
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, ToTimeval(timeout));
  if (ctx_ != nullptr && ctx_->err == 0) redisSetTimeout(ctx_, ToTimeval(timeout));
}

Client::~Client() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

bool Client::ok() const { return ctx_ != nullptr && ctx_->err == 0; }

std::string Client::error() const {
  if (ctx_ == nullptr) return "no context";
  return ctx_->err == 0 ? std::string() : std::string(ctx_->errstr);
}

void Client::Append(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const std::string& arg : argv) {
    ptrs.push_back(arg.data());
    lens.push_back(arg.size());
  }
  if (ctx_ != nullptr) redisAppendCommandArgv(ctx_, argv.size(), ptrs.data(), lens.data());
}

Reply Client::GetReply() {
  Reply out;
  out.type = Reply::Type::kIoError;
  if (ctx_ == nullptr || ctx_->err != 0) {
    out.str = error();
    return out;
  }
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    out.str = error();
    return out;
  }
  auto* reply = static_cast<redisReply*>(raw);
  out = Reply::FromHiredis(reply);
  freeReplyObject(reply);
  return out;
}

Reply Client::Command(const std::vector<std::string>& argv) {
  Append(argv);
  return GetReply();
}

Reply Client::Command(std::initializer_list<std::string_view> argv) {
  return Command(std::vector<std::string>(argv.begin(), argv.end()));
}

// ---- RawSocket ----

RawSocket::RawSocket(int port) : reader_(redisReaderCreate(), redisReaderFree) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
}

RawSocket::~RawSocket() { Close(); }

void RawSocket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawSocket::Send(std::string_view bytes, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLOUT, 0};
    poll(&pfd, 1, static_cast<int>(left.count()));
  }
  return true;
}

long RawSocket::ReadOnce(std::string* out, milliseconds timeout) {
  if (fd_ < 0 || eof_) return 0;
  pollfd pfd{fd_, POLLIN, 0};
  int ready = poll(&pfd, 1, static_cast<int>(std::max<long>(0, timeout.count())));
  if (ready <= 0) return -1;
  char buf[64 * 1024];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n > 0) {
    out->append(buf, n);
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
  eof_ = true;  // orderly close or reset
  return 0;
}

std::string RawSocket::ReadBytes(std::size_t count, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (pending_.size() < count) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) break;
  }
  std::string out = pending_.substr(0, std::min(count, pending_.size()));
  pending_.erase(0, out.size());
  return out;
}

std::string RawSocket::ReadUntil(std::string_view marker, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t found;
  while ((found = pending_.find(marker)) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) {
      return std::exchange(pending_, std::string());
    }
  }
  std::string out = pending_.substr(0, found + marker.size());
  pending_.erase(0, out.size());
  return out;
}

std::vector<Reply> RawSocket::ReadReplies(std::size_t count, milliseconds timeout) {
  std::vector<Reply> replies;
  auto deadline = Clock::now() + timeout;
  while (replies.size() < count) {
    if (!pending_.empty()) {
      redisReaderFeed(reader_.get(), pending_.data(), pending_.size());
      pending_.clear();
    }
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) break;
    if (raw != nullptr) {
      replies.push_back(Reply::FromHiredis(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
      continue;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadOnce(&pending_, left) == 0) break;
  }
  return replies;
}

std::string RawSocket::ReadUntilClosed(milliseconds timeout, bool* closed) {
  auto deadline = Clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  while (!eof_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    ReadOnce(&out, left);
  }
  *closed = eof_;
  return out;
}

// ---- ServerFixture ----

namespace {
ServerProcess& Started(ServerProcess& server) {
  server.Start();
  return server;
}
}  // namespace

ServerFixture::ServerFixture(Flags flags)
    : server(std::move(flags)), client(Started(server).port()) {
  REQUIRE_MESSAGE(client.ok(), "cannot connect: ", client.error());
}

// ---- helpers ----

std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  // splitmix64: fast, and different seeds give unrelated streams.
  std::string out(n, '\0');
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(out.data() + i, &z, std::min<std::size_t>(8, n - i));
  }
  return out;
}

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

}  // namespace dynakv::itest
