#include "master_writer.h"

#include <random>
#include <vector>

#include "client.h"
#include "reference_pair.h"  // DescribeCommand

namespace dynakv::itest {
namespace {

using Batch = std::vector<std::vector<std::string>>;

// A command that leaves the same data when it runs twice.
Batch IdempotentBatch(std::mt19937& rng, long long i, const std::string& k) {
  const std::string v = std::to_string(i);
  switch (rng() % 5) {
    case 0:
      return {{"SET", k, v}};
    case 1:
      return {{"HSET", k + ":h", "f" + std::to_string(rng() % 20), v}};
    case 2:
      return {{"SADD", k + ":s", std::to_string(rng() % 50)}, {"DEL", k + ":l"}};
    case 3:
      return {{"MULTI"},
              {"SET", k + ":tx", v, "EX", "1000"},
              {"ZADD", k + ":z", std::to_string(rng() % 100), "m" + v},
              {"EXEC"}};
    default:
      return {{"SET", k + ":t", v}, {"EXPIRE", k + ":t", std::to_string(600 + rng() % 900)}};
  }
}

Batch AnyBatch(std::mt19937& rng, long long i, const std::string& k,
               const MasterWriterOptions& options) {
  const std::string v = std::to_string(i);
  switch (rng() % 13) {
    case 0:
      return {{"SET", k, v}};
    case 1:
      return {{"INCR", "w:counter:" + std::to_string(rng() % 5)}};
    case 2:
      return {{"HSET", k + ":h", "f" + std::to_string(rng() % 20), v}};
    case 3:
      return {{"LPUSH", k + ":l", v}};
    case 4:
      return {{"SADD", k + ":s", std::to_string(rng() % 50)}};
    case 5:
      return {{"ZADD", k + ":z", std::to_string(rng() % 100), "m" + std::to_string(rng() % 30)}};
    case 6:
      return {{"DEL", k, k + ":l"}};
    case 7:
      return {{"SET", k + ":t", "v"}, {"EXPIRE", k + ":t", std::to_string(600 + rng() % 900)}};
    case 8:  // a transaction over keys of different hash tags
      return {{"MULTI"},
              {"INCRBY", "w:tx", "3"},
              {"RPUSH", "w:txlist", v},
              {"SET", k + ":tx", v, "EX", "1000"},
              {"EXEC"}};
    case 9:
      return {{"EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
               "2", k + ":lua", "w:luacounter", v}};
    case 10:  // commands Redis propagates rewritten: SET KEEPTTL, SREM, PEXPIREAT, HSET, ...
      return {{"INCRBYFLOAT", "w:float", "1.5"},
              {"SPOP", k + ":s"},
              {"GETEX", k, "EX", "500"},
              {"HINCRBYFLOAT", k + ":h", "ff", "0.25"},
              {"LMOVE", k + ":l", "w:moved", "LEFT", "RIGHT"},
              {"PERSIST", k + ":t"}};
    case 11:
      if (options.several_databases) {  // keys moving between databases
        return {{"SET", k + ":m", "moving"},
                {"MOVE", k + ":m", "15"},
                {"COPY", "w:float", "w:copy", "DB", "15", "REPLACE"}};
      }
      return {{"SET", k + ":m", v}};
    default:
      if (options.short_expiries) return {{"SET", k + ":short", "x", "PX", "150"}};
      return {{"SET", k + ":long", v, "EX", "900"}};
  }
}

}  // namespace

MasterWriter::MasterWriter(int port, MasterWriterOptions options)
    : port_(port), options_(options), thread_([this] { Run(); }) {}

void MasterWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void MasterWriter::Run() {
  Client c(port_);
  std::mt19937 rng(options_.seed);
  for (long long i = 0; !stop_; ++i) {
    if (options_.several_databases) {
      if (c.Command({"SELECT", i % 7 == 0 ? "3" : "0"}).IsError()) continue;
    }
    const std::string k = "w:" + std::to_string(rng() % 200);
    const Batch batch =
        options_.idempotent ? IdempotentBatch(rng, i, k) : AnyBatch(rng, i, k, options_);
    for (const auto& argv : batch) {
      const Reply r = c.Command(argv);
      if (r.IsError() && error_.empty()) error_ = DescribeCommand(argv) + " -> " + r.str;
    }
    ++commands_;
  }
}

}  // namespace dynakv::itest
