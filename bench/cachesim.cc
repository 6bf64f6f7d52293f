// dynakv-cachesim: the cache simulator of issue 16. An application's cache-aside code against
// one server: GET the key, and on a miss SET it with its value. Values are 100 B - 4 KB of
// realistic text (words), the same for a key on every run. Key streams:
//   zipf:S   Zipfian popularity with exponent S over the keyspace (ranks shuffled over keys);
//   scan     zipf:1.0 with a one-pass scan of keyspace/8 never-seen keys every keyspace/4
//            requests (a batch job or crawler walking through the cache);
//   shift    zipf:1.0 whose hot set moves to other keys five times during the run.
// Requests go in pipelined batches (-P) on one connection; a batch's misses are SET in the next
// round trip. Prints requests, hits, hit ratio and requests per second.
//
//   dynakv-cachesim [-p PORT] [-n REQUESTS] [-k KEYS] [-P PIPELINE] [--stream zipf:S|scan|shift]
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  int port = 6379;
  long requests = 1000000;
  long keys = 200000;
  int pipeline = 16;
  std::string stream = "zipf:1.0";
};

// Zipf(s) ranks by inverse CDF over a table (keys up to a few million).
class Zipf {
 public:
  Zipf(long n, double s) : cdf_(static_cast<std::size_t>(n)) {
    double sum = 0;
    for (long i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), s));
    for (double& c : cdf_) c /= sum;
  }
  long Next(std::mt19937_64& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<long>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

std::uint64_t Mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A key's value: 100..4096 bytes of words, as cached pages or API responses hold.
std::string ValueOf(long id) {
  static const char* kWords[] = {
      "the",     "cache",  "request", "user",    "session", "order",   "product", "price",
      "status",  "active", "account", "region",  "updated", "created", "name",    "email",
      "address", "city",   "country", "total",   "items",   "true",    "false",   "null",
      "value",   "count",  "page",    "results", "query",   "server",  "client",  "token"};
  std::uint64_t x = Mix(static_cast<std::uint64_t>(id));
  const std::size_t size = 100 + x % 3997;
  std::string out;
  out.reserve(size + 16);
  while (out.size() < size) {
    x = Mix(x);
    out += kWords[x % 32];
    out += (x >> 8) % 7 == 0 ? ", " : " ";
    if ((x >> 16) % 11 == 0) out += std::to_string((x >> 20) % 100000);
  }
  out.resize(size);
  return out;
}

struct Stream {
  Stream(const Options& o) : opt(o), rng(42) {
    double s = 1.0;
    if (opt.stream.rfind("zipf:", 0) == 0) s = std::atof(opt.stream.c_str() + 5);
    zipf = std::make_unique<Zipf>(opt.keys, s);
  }
  // The next key id; scan keys are ids past the keyspace, never repeated.
  long Next() {
    ++n;
    if (opt.stream == "scan") {
      const long period = std::max(1L, opt.keys / 4);
      const long scan_len = std::max(1L, opt.keys / 8);
      if (n % period < scan_len) return opt.keys + scan_next++;
    }
    long rank = zipf->Next(rng);
    if (opt.stream == "shift") {
      const long phase = n / std::max(1L, opt.requests / 6);
      rank = (rank + phase * (opt.keys / 6)) % opt.keys;
    }
    return static_cast<long>(Mix(static_cast<std::uint64_t>(rank) + 7) % opt.keys);
  }
  const Options& opt;
  std::mt19937_64 rng;
  std::unique_ptr<Zipf> zipf;
  long n = 0;
  long scan_next = 0;
};

redisReply* Reply(redisContext* c) {
  void* r = nullptr;
  if (redisGetReply(c, &r) != REDIS_OK) {
    std::fprintf(stderr, "connection error: %s\n", c->errstr);
    std::exit(1);
  }
  return static_cast<redisReply*>(r);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "-p")
      opt.port = std::atoi(v);
    else if (flag == "-n")
      opt.requests = std::atol(v);
    else if (flag == "-k")
      opt.keys = std::atol(v);
    else if (flag == "-P")
      opt.pipeline = std::max(1, std::atoi(v));
    else if (flag == "--stream")
      opt.stream = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  redisContext* c = redisConnect("127.0.0.1", opt.port);
  if (c == nullptr || c->err) {
    std::fprintf(stderr, "cannot connect to port %d\n", opt.port);
    return 1;
  }
  Stream stream(opt);
  long hits = 0, misses = 0, errors = 0;
  std::vector<long> batch;
  std::vector<long> missed;
  const auto start = std::chrono::steady_clock::now();
  for (long done = 0; done < opt.requests;) {
    batch.clear();
    missed.clear();
    for (int i = 0; i < opt.pipeline && done < opt.requests; ++i, ++done) {
      batch.push_back(stream.Next());
    }
    for (long id : batch) redisAppendCommand(c, "GET k:%ld", id);
    for (long id : batch) {
      redisReply* r = Reply(c);
      if (r->type == REDIS_REPLY_STRING) {
        ++hits;
      } else {
        ++misses;
        missed.push_back(id);
      }
      freeReplyObject(r);
    }
    for (long id : missed) {
      const std::string value = ValueOf(id);
      redisAppendCommand(c, "SET k:%ld %b", id, value.data(), value.size());
    }
    for (std::size_t i = 0; i < missed.size(); ++i) {
      redisReply* r = Reply(c);
      if (r->type == REDIS_REPLY_ERROR) ++errors;
      freeReplyObject(r);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("stream=%s requests=%ld hits=%ld hit_ratio=%.4f ops_per_sec=%.0f set_errors=%ld\n",
              opt.stream.c_str(), opt.requests, hits, static_cast<double>(hits) / opt.requests,
              static_cast<double>(opt.requests + misses) / secs, errors);
  redisFree(c);
  return 0;
}
