// DUMP, RESTORE, OBJECT and MEMORY USAGE in cluster mode: through any coordinator, on the
// read-modify-write path (RESTORE writes the whole value as a new version to the key's replicas).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;

TEST_CASE("DUMP on one node, RESTORE through another, read through a third") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);

  const std::vector<std::vector<std::string>> writes = {
      {"SET", "s", "a string value"},      {"HSET", "h", "f1", "v1", "f2", "2"},
      {"RPUSH", "l", "a", "b", "300"},     {"SADD", "st", "1", "2", "3"},
      {"ZADD", "z", "1", "a", "2.5", "b"},
  };
  for (const auto& argv : writes) REQUIRE_FALSE(UntilAvailable(n1, argv).IsError());
  for (const std::string key : {"s", "h", "l", "st", "z"}) {
    CAPTURE(key);
    const Reply dump = n1.Command({"DUMP", key});
    REQUIRE(dump.type == Reply::Type::kString);
    CHECK(n3.Command({"DUMP", key}) == dump);  // the same bytes through any node
    CHECK(n2.Command({"RESTORE", "copy:" + key, "60000", dump.str}) == Reply::Status("OK"));
    CHECK(n2.Command({"RESTORE", "copy:" + key, "0", dump.str}) ==
          Reply::Error("BUSYKEY Target key name already exists."));
    CHECK(n3.Command({"DUMP", "copy:" + key}) == dump);
    CHECK(n3.Command({"TYPE", "copy:" + key}) == n1.Command({"TYPE", key}));
    const long long pttl = n1.Command({"PTTL", "copy:" + key}).integer;
    CHECK(pttl > 50000);
    CHECK(pttl <= 60000);
    CHECK(n1.Command({"OBJECT", "ENCODING", "copy:" + key}) ==
          n2.Command({"OBJECT", "ENCODING", key}));
    CHECK(n2.Command({"OBJECT", "REFCOUNT", "copy:" + key}) == Reply::Int(1));
    CHECK(n2.Command({"OBJECT", "IDLETIME", "copy:" + key}).type == Reply::Type::kInteger);
    CHECK(n2.Command({"MEMORY", "USAGE", "copy:" + key}).integer > 0);
  }
  CHECK(n3.Command({"LRANGE", "copy:l", "0", "-1"}) == Reply::Bulks({"a", "b", "300"}));
  CHECK(n1.Command({"ZSCORE", "copy:z", "b"}) == Reply::Bulk("2.5"));
  CHECK(n2.Command({"RESTORE", "copy:s", "0", "bad payload", "REPLACE"}) ==
        Reply::Error("ERR DUMP payload version or checksum are wrong"));
  CHECK(n2.Command({"DUMP", "missing"}) == Reply::Nil());
  CHECK(n2.Command({"MEMORY", "USAGE", "missing"}) == Reply::Nil());
}
