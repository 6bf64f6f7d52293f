// Bitmap, HyperLogLog and LCS commands in cluster mode (three nodes, N=3): read-modify-write at
// the coordinator over the reconciled value, as APPEND and SETRANGE are. The same commands,
// spread over all three coordinators, get the replies a single redis-server 7.0 gives, and every
// node then reads the same values Redis holds (but the count an HLL caches: PFCOUNT in cluster
// mode writes nothing).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

namespace {

std::vector<std::vector<std::string>> Script() {
  std::vector<std::vector<std::string>> script = {
      {"SETBIT", "bm", "7", "1"},
      {"SETBIT", "bm", "100", "1"},
      {"SETBIT", "bm", "100", "0"},
      {"GETBIT", "bm", "7"},
      {"BITCOUNT", "bm"},
      {"BITCOUNT", "bm", "0", "-1", "BIT"},
      {"BITPOS", "bm", "1"},
      {"BITPOS", "bm", "0", "1", "-1", "BIT"},
      {"SET", "other", "foobar"},
      {"BITOP", "AND", "dest", "bm", "other", "missing"},
      {"BITOP", "XOR", "dest2", "bm", "other"},
      {"BITOP", "NOT", "dest3", "other"},
      {"BITOP", "OR", "dest4", "missing"},
      {"BITFIELD", "bf",       "SET", "u8",     "0",   "200", "INCRBY", "u8",       "0",
       "100",      "OVERFLOW", "SAT", "INCRBY", "i5",  "#2",  "100",    "OVERFLOW", "FAIL",
       "INCRBY",   "u2",       "30",  "7",      "GET", "i16", "0"},
      {"BITFIELD_RO", "bf", "GET", "u8", "0"},
      {"BITFIELD_RO", "bf", "SET", "u8", "0", "1"},
      {"SETBIT", "bm", "4294967296", "1"},
      {"PFADD", "hll", "a", "b", "c"},
      {"PFADD", "hll", "a"},
      {"PFCOUNT", "hll"},
      {"PFADD", "hll2", "c", "d"},
      {"PFCOUNT", "hll", "hll2", "missing"},
      {"PFMERGE", "merged", "hll", "hll2"},
      {"PFCOUNT", "merged"},
      {"PFADD", "other", "x"},
      {"PFCOUNT", "other"},
      {"SET", "t1", "ohmytext"},
      {"SET", "t2", "mynewtext"},
      {"LCS", "t1", "t2"},
      {"LCS", "t1", "t2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"},
      {"LCS", "t1", "t2", "LEN"},
      {"SUBSTR", "t1", "2", "-2"},
      // A hash is no string: WRONGTYPE (LCS: its own text) through the coordinator too.
      {"HSET", "hk", "f", "v"},
      {"SETBIT", "hk", "1", "1"},
      {"GETBIT", "hk", "1"},
      {"BITCOUNT", "hk"},
      {"BITFIELD", "hk", "INCRBY", "u8", "0", "1"},
      {"BITOP", "AND", "dest5", "bm", "hk"},
      {"PFADD", "hk", "a"},
      {"PFCOUNT", "hk"},
      {"PFCOUNT", "hll", "hk"},
      {"PFMERGE", "merged2", "hll", "hk"},
      {"LCS", "hk", "t1"},
      {"HGET", "hk", "f"},
  };
  // Enough elements to turn "big" dense on the way, counted as it grows.
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<std::string> add = {"PFADD", "big"};
    for (int i = 0; i < 100; ++i) add.push_back("x" + std::to_string(batch * 100 + i));
    script.push_back(add);
    if (batch % 10 == 9) script.push_back({"PFCOUNT", "big"});
  }
  script.push_back({"PFMERGE", "merged", "big"});
  script.push_back({"PFCOUNT", "merged", "hll"});
  return script;
}

std::string Describe(const std::vector<std::string>& argv) {
  std::ostringstream out;
  for (std::size_t i = 0; i < argv.size() && i < 8; ++i) out << argv[i] << ' ';
  return out.str();
}

}  // namespace

TEST_CASE("bitmap, HLL and LCS commands through any coordinator answer as Redis 7 does") {
  std::string redis = dynakv::itest::ReferenceRedis();
  if (redis.empty() || dynakv::itest::TestingRealRedis()) {
    MESSAGE("skipped: needs redis-server installed and a different server under test");
    return;
  }
  LocalCluster cluster(3);
  cluster.Start();
  ServerProcess reference({}, redis);
  reference.Start();
  Client want_client(reference.port());
  std::vector<Client> nodes;
  for (int i = 0; i < cluster.size(); ++i) nodes.emplace_back(cluster.node(i).port());

  int step = 0;
  for (const std::vector<std::string>& argv : Script()) {
    CAPTURE(Describe(argv));
    Client& through = nodes[static_cast<std::size_t>(step++ % cluster.size())];
    CHECK(through.Command(argv) == want_client.Command(argv));
  }
  for (const char* key : {"bm", "dest", "dest2", "dest3", "dest4", "bf", "other"}) {
    CAPTURE(key);
    const Reply want = want_client.Command({"GET", key});
    for (Client& node : nodes) CHECK(node.Command({"GET", key}) == want);
  }
  // HLLs: the same registers and encoding; not the cached count (header bytes 8-15), which a
  // PFCOUNT in cluster mode does not store (README), so it stays marked stale.
  for (const char* key : {"hll", "hll2", "merged", "big"}) {
    CAPTURE(key);
    const Reply want = want_client.Command({"GET", key});
    REQUIRE(want.str.size() > 16);
    for (Client& node : nodes) {
      const Reply got = node.Command({"GET", key});
      REQUIRE(got.str.size() == want.str.size());
      CHECK(static_cast<unsigned char>(got.str[15]) >= 0x80);  // stale: recounted each time
      CHECK(got.str.substr(0, 8) == want.str.substr(0, 8));
      CHECK(got.str.substr(16) == want.str.substr(16));
    }
  }
  CHECK(want_client.Command({"STRLEN", "big"}) == Reply::Int(12304));  // dense by now
}
