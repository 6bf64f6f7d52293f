// dynakv-loadgen: a small closed-loop load generator for SET/GET with values of a chosen kind,
// which redis-benchmark cannot produce (its -d values are pseudorandom printable characters):
// `random` bytes (incompressible), or `text`: JSON-like records, as a cache of API responses
// holds, which LZ4 shrinks about 3x.
//
//   dynakv-loadgen [-h HOST] [-p PORT] [-c CONNS] [-P PIPELINE] [-d BYTES] [-s SECONDS]
//                  [-r KEYSPACE] [-t set|get|multi|zrangebyscore|hgetall|bitcount] [-i ITEMS]
//                  [-v random|text] [--loaded] [--csv]
//
// -t multi: each request is a transaction of three commands, MULTI SET k v, INCR k:n, GET k EXEC
// (five commands sent back to back); its latency runs to EXEC's reply, and -P counts
// transactions. A reply that is not what the transaction must answer is an error.
//
// Reads of the collection types, on data the generator loads itself first (every key it uses is
// deleted and written afresh, so both servers of a comparison hold the same data); each reply is
// checked (its length, or the count):
//   -t zrangebyscore  ZRANGEBYSCORE bench:zset LO LO+I-1: one sorted set of -r members (member
//                     "m:<n>", score n), I = -i results from a random LO
//   -t hgetall        HGETALL bench:hash:<k>: -r hashes of -i fields ("field:<j>" -> -d bytes)
//   -t bitcount       BITCOUNT bench:bitmap: one bitmap of -d random bytes
// --loaded skips the load (an earlier run with the same options wrote the data), so that a
// server's CPU time can be measured around the requests alone.
//
// One thread multiplexes all connections with poll(), like redis-benchmark: each connection sends
// P commands, waits for all P replies, then sends the next batch. A request's latency is the time
// from its batch's send to the arrival of its reply. Prints ops/s, p50 and p99 (ms).
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  int conns = 50;
  int pipeline = 1;
  size_t value_size = 1024;
  double seconds = 10;
  long keyspace = 100000;
  bool get = false;
  bool multi = false;
  enum class Read { kNone, kZrangebyscore, kHgetall, kBitcount } read = Read::kNone;
  long items = 10;  // -i: ZRANGEBYSCORE results, HGETALL fields
  bool text = false;
  bool csv = false;
  bool loaded = false;  // --loaded
};

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

struct Connection {
  Context ctx;
  int outstanding = 0;
  Clock::time_point sent;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "dynakv-loadgen: %s\nusage: dynakv-loadgen [-h HOST] [-p PORT] [-c CONNS] "
               "[-P PIPELINE] [-d BYTES] [-s SECONDS] [-r KEYSPACE] "
               "[-t set|get|multi|zrangebyscore|hgetall|bitcount] [-i ITEMS] [-v random|text] "
               "[--loaded] [--csv]\n",
               why);
  std::exit(2);
}

long parse_positive(const char* flag, const char* text) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v <= 0) usage((std::string(flag) + " takes a positive number").c_str());
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--csv") { o.csv = true; continue; }
    if (a == "--loaded") { o.loaded = true; continue; }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "-h") o.host = v;
    else if (a == "-p") o.port = static_cast<int>(parse_positive("-p", v));
    else if (a == "-c") o.conns = static_cast<int>(parse_positive("-c", v));
    else if (a == "-P") o.pipeline = static_cast<int>(parse_positive("-P", v));
    else if (a == "-d") o.value_size = static_cast<size_t>(parse_positive("-d", v));
    else if (a == "-s") o.seconds = static_cast<double>(parse_positive("-s", v));
    else if (a == "-r") o.keyspace = parse_positive("-r", v);
    else if (a == "-t") {
      std::string t = v;
      o.get = t == "get";
      o.multi = t == "multi";
      if (t == "zrangebyscore") o.read = Options::Read::kZrangebyscore;
      else if (t == "hgetall") o.read = Options::Read::kHgetall;
      else if (t == "bitcount") o.read = Options::Read::kBitcount;
      else if (t != "set" && t != "get" && t != "multi")
        usage("-t takes set, get, multi, zrangebyscore, hgetall or bitcount");
    } else if (a == "-i") {
      o.items = parse_positive("-i", v);
    } else if (a == "-v") {
      std::string kind = v;
      if (kind != "random" && kind != "text") usage("-v takes random or text");
      o.text = kind == "text";
    } else usage(("unknown option " + a).c_str());
  }
  return o;
}

class LoadGenerator {
 public:
  explicit LoadGenerator(const Options& o) : opt_(o), rng_(12345) {
    // Values are windows into a pool at random offsets: no per-request generation cost that
    // would slow the client more than the server.
    const size_t size = o.value_size + (1 << 20);
    if (o.text) {
      static const char* const kPlans[] = {"free", "pro", "enterprise"};
      while (pool_.size() < size) {
        const unsigned long id = rng_() % 1000000;
        pool_ += "{\"id\":" + std::to_string(id) + ",\"user\":\"user-" + std::to_string(id) +
                 "\",\"email\":\"user" + std::to_string(id) + "@example.com\",\"plan\":\"" +
                 kPlans[rng_() % 3] + "\",\"active\":" + (rng_() % 2 ? "true" : "false") +
                 ",\"visits\":" + std::to_string(rng_() % 10000) +
                 ",\"tags\":[\"alpha\",\"beta\"]}\n";
      }
      pool_.resize(size);
    } else {
      pool_.resize(size);
      for (auto& ch : pool_) ch = static_cast<char>(rng_());
    }
  }

  bool connect_all() {
    for (int i = 0; i < opt_.conns; ++i) {
      Context c(redisConnect(opt_.host.c_str(), opt_.port));
      if (!c || c->err) {
        std::fprintf(stderr, "connect %s:%d: %s\n", opt_.host.c_str(), opt_.port,
                     c ? c->errstr : "out of memory");
        return false;
      }
      conns_.push_back(Connection{std::move(c), 0, Clock::time_point{}});
    }
    return true;
  }

  // The data the read tests (-t zrangebyscore, hgetall, bitcount) ask for, written through the
  // first connection.
  bool load() {
    redisContext* c = conns_.front().ctx.get();
    std::vector<std::string> args;
    auto send = [&]() {
      if (opt_.loaded) {  // only what the replies are checked against is computed
        args.clear();
        return 0;
      }
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data());
      args.clear();
      return 1;
    };
    long pending = 0;
    switch (opt_.read) {
      case Options::Read::kNone:
        return true;
      case Options::Read::kZrangebyscore:
        if (opt_.keyspace < opt_.items) usage("-t zrangebyscore needs -r >= -i");
        args = {"DEL", "bench:zset"};
        pending += send();
        for (long i = 0; i < opt_.keyspace;) {
          args = {"ZADD", "bench:zset"};
          for (long end = std::min(opt_.keyspace, i + 1000); i < end; ++i) {
            args.push_back(std::to_string(i));
            args.push_back("m:" + std::to_string(i));
          }
          pending += send();
        }
        break;
      case Options::Read::kHgetall:
        for (long k = 0; k < opt_.keyspace; ++k) {
          const std::string key = "bench:hash:" + std::to_string(k);
          args = {"DEL", key};
          pending += send();
          args = {"HSET", key};
          for (long j = 0; j < opt_.items; ++j) {
            args.push_back("field:" + std::to_string(j));
            args.emplace_back(pool_.data() + rng_() % (pool_.size() - opt_.value_size),
                              opt_.value_size);
          }
          pending += send();
        }
        break;
      case Options::Read::kBitcount:
        args = {"SET", "bench:bitmap", pool_.substr(0, opt_.value_size)};
        for (unsigned char ch : args.back()) bitcount_ += __builtin_popcount(ch);
        pending += send();
        break;
    }
    for (; pending > 0; --pending) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
        std::fprintf(stderr, "load: %s\n", c->errstr);
        return false;
      }
      auto* reply = static_cast<redisReply*>(raw);
      const bool error = reply->type == REDIS_REPLY_ERROR;
      if (error) std::fprintf(stderr, "load: server error: %s\n", reply->str);
      freeReplyObject(reply);
      if (error) return false;
    }
    return true;
  }

  bool run() {
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(opt_.seconds));
    for (auto& c : conns_) send_batch(c);
    std::vector<pollfd> fds(conns_.size());
    bool stopping = false;
    while (true) {
      if (!stopping && Clock::now() >= deadline) stopping = true;
      bool any = false;
      for (size_t i = 0; i < conns_.size(); ++i) {
        int done = 0;
        redisBufferWrite(conns_[i].ctx.get(), &done);
        fds[i] = {conns_[i].ctx->fd, static_cast<short>(done ? POLLIN : (POLLIN | POLLOUT)), 0};
        any |= conns_[i].outstanding > 0;
      }
      if (!any) break;
      if (poll(fds.data(), fds.size(), 5000) <= 0) {
        std::fprintf(stderr, "server stopped answering\n");
        return false;
      }
      for (size_t i = 0; i < conns_.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
        if (!drain(conns_[i])) return false;
        if (conns_[i].outstanding == 0 && !stopping) send_batch(conns_[i]);
      }
    }
    elapsed_ = std::chrono::duration<double>(Clock::now() - start).count();
    return true;
  }

  void report() {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) {
      if (latencies_us_.empty()) return 0.0;
      size_t i = std::min(latencies_us_.size() - 1, static_cast<size_t>(p * latencies_us_.size()));
      return latencies_us_[i] / 1000.0;
    };
    double rps = latencies_us_.size() / elapsed_;
    const char* name = opt_.multi ? "MULTI/EXEC (SET, INCR, GET)" : opt_.get ? "GET" : "SET";
    if (opt_.read == Options::Read::kZrangebyscore) name = "ZRANGEBYSCORE";
    if (opt_.read == Options::Read::kHgetall) name = "HGETALL";
    if (opt_.read == Options::Read::kBitcount) name = "BITCOUNT";
    if (opt_.csv) {
      std::printf("\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%zu\"\n", name, rps, pct(0.50), pct(0.99),
                  latencies_us_.size());
    } else {
      std::printf("%s %s %zu B, -c %d -P %d: %.0f ops/s, p50 %.3f ms, p99 %.3f ms (%zu requests, %.1f s)\n",
                  name, opt_.text ? "text" : "random", opt_.value_size, opt_.conns, opt_.pipeline, rps, pct(0.50), pct(0.99),
                  latencies_us_.size(), elapsed_);
    }
  }

 private:
  void send_batch(Connection& c) {
    char key[32];
    for (int i = 0; i < opt_.pipeline; ++i) {
      int klen = std::snprintf(key, sizeof key, "key:%012ld",
                               static_cast<long>(rng_() % static_cast<unsigned long>(opt_.keyspace)));
      if (opt_.read != Options::Read::kNone) {
        append_read(c);
      } else if (opt_.multi) {
        size_t off = rng_() % (pool_.size() - opt_.value_size);
        char counter[40];
        int clen = std::snprintf(counter, sizeof counter, "%s:n", key);
        const char* multi[] = {"MULTI"};
        size_t multi_len[] = {5};
        const char* set[] = {"SET", key, pool_.data() + off};
        size_t set_len[] = {3, static_cast<size_t>(klen), opt_.value_size};
        const char* incr[] = {"INCR", counter};
        size_t incr_len[] = {4, static_cast<size_t>(clen)};
        const char* get[] = {"GET", key};
        size_t get_len[] = {3, static_cast<size_t>(klen)};
        const char* exec[] = {"EXEC"};
        size_t exec_len[] = {4};
        redisAppendCommandArgv(c.ctx.get(), 1, multi, multi_len);
        redisAppendCommandArgv(c.ctx.get(), 3, set, set_len);
        redisAppendCommandArgv(c.ctx.get(), 2, incr, incr_len);
        redisAppendCommandArgv(c.ctx.get(), 2, get, get_len);
        redisAppendCommandArgv(c.ctx.get(), 1, exec, exec_len);
      } else if (opt_.get) {
        const char* argv[] = {"GET", key};
        size_t lens[] = {3, static_cast<size_t>(klen)};
        redisAppendCommandArgv(c.ctx.get(), 2, argv, lens);
      } else {
        size_t off = rng_() % (pool_.size() - opt_.value_size);
        const char* argv[] = {"SET", key, pool_.data() + off};
        size_t lens[] = {3, static_cast<size_t>(klen), opt_.value_size};
        redisAppendCommandArgv(c.ctx.get(), 3, argv, lens);
      }
    }
    c.outstanding = opt_.pipeline * (opt_.multi ? 5 : 1);
    c.sent = Clock::now();
  }

  void append_read(Connection& c) {
    std::string a, b, key;
    switch (opt_.read) {
      case Options::Read::kZrangebyscore: {
        const long lo = static_cast<long>(rng_() % static_cast<unsigned long>(opt_.keyspace - opt_.items + 1));
        a = std::to_string(lo);
        b = std::to_string(lo + opt_.items - 1);
        const char* argv[] = {"ZRANGEBYSCORE", "bench:zset", a.c_str(), b.c_str()};
        size_t lens[] = {13, 10, a.size(), b.size()};
        redisAppendCommandArgv(c.ctx.get(), 4, argv, lens);
        break;
      }
      case Options::Read::kHgetall: {
        key = "bench:hash:" + std::to_string(rng_() % static_cast<unsigned long>(opt_.keyspace));
        const char* argv[] = {"HGETALL", key.c_str()};
        size_t lens[] = {7, key.size()};
        redisAppendCommandArgv(c.ctx.get(), 2, argv, lens);
        break;
      }
      case Options::Read::kBitcount: {
        const char* argv[] = {"BITCOUNT", "bench:bitmap"};
        size_t lens[] = {8, 12};
        redisAppendCommandArgv(c.ctx.get(), 2, argv, lens);
        break;
      }
      case Options::Read::kNone:
        break;
    }
  }

  // Whether a read test's reply is what the loaded data must answer.
  bool read_reply_ok(const redisReply* reply) const {
    switch (opt_.read) {
      case Options::Read::kZrangebyscore:
        return reply->type == REDIS_REPLY_ARRAY && reply->elements == static_cast<size_t>(opt_.items);
      case Options::Read::kHgetall:
        return (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 * static_cast<size_t>(opt_.items));
      case Options::Read::kBitcount:
        return reply->type == REDIS_REPLY_INTEGER && reply->integer == bitcount_;
      case Options::Read::kNone:
        break;
    }
    return true;
  }

  bool drain(Connection& c) {
    if (redisBufferRead(c.ctx.get()) != REDIS_OK) {
      std::fprintf(stderr, "read: %s\n", c.ctx->errstr);
      return false;
    }
    while (c.outstanding > 0) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c.ctx.get(), &raw) != REDIS_OK) {
        std::fprintf(stderr, "protocol error: %s\n", c.ctx->errstr);
        return false;
      }
      if (raw == nullptr) break;
      auto* reply = static_cast<redisReply*>(raw);
      bool error = reply->type == REDIS_REPLY_ERROR;
      if (error) std::fprintf(stderr, "server error: %s\n", reply->str);
      // A transaction's replies: +OK, +QUEUED x3, then EXEC's array of 3.
      const bool exec_reply = opt_.multi && c.outstanding % 5 == 1;
      if (exec_reply && !error && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)) {
        std::fprintf(stderr, "EXEC did not answer its three commands\n");
        error = true;
      }
      if (!error && !read_reply_ok(reply)) {
        std::fprintf(stderr, "a reply does not match the loaded data\n");
        error = true;
      }
      freeReplyObject(reply);
      if (error) return false;
      --c.outstanding;
      if (opt_.multi && !exec_reply) continue;  // the latency is the whole transaction's
      latencies_us_.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - c.sent).count());
    }
    return true;
  }

  Options opt_;
  std::mt19937_64 rng_;
  std::string pool_;
  std::vector<Connection> conns_;
  std::vector<double> latencies_us_;
  long long bitcount_ = 0;  // -t bitcount: the loaded bitmap's
  double elapsed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  LoadGenerator gen(parse(argc, argv));
  if (!gen.connect_all() || !gen.load() || !gen.run()) return 1;
  gen.report();
  return 0;
}
