// A coordinator that lost its own copy of a key (its disk wiped, or its commit log unwritable
// when it coordinated a write) must not hand out the dot of a write it made before. Found by the
// fault harness (tests/faults, diskfull): a SET through a node whose disk had filled was
// acknowledged, then silently replaced by an older value, because the node, restarted without
// the versions it had not managed to log, numbered its next write of the key with a dot the
// other replicas had already seen (covered by a newer version), so they dropped it as obsolete.
#include <doctest/doctest.h>

#include <string>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;
using dynakv::itest::WipeDataDir;

TEST_CASE("a write through a node that lost its disk wins over the older versions it forgot") {
  if (TestingRealRedis()) return;
  // No periodic anti-entropy: it would refill the wiped node and hide the bug.
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  // v1 via n1 is n1's event 1 on this key; v2 via n2 has seen it and replaces it everywhere.
  REQUIRE(n1.Command({"SET", "dots", "v1", "W", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"SET", "dots", "v2", "W", "ALL"}) == Reply::Status("OK"));

  cluster.node(0).Kill();
  WipeDataDir(cluster.node(0));
  cluster.node(0).Start();
  Client again(cluster.node(0).port());
  REQUIRE(
      WaitFor([&] { return ReadInfoNumber(again, "cluster", "cluster_members_reachable") == 3; }));
  REQUIRE(again.Command({"DEBUG", "LOCALGET", "dots"}) == Reply::Nil());

  // A newer write through the node that forgot v1: acknowledged by every replica, so it must be
  // what every read returns from now on.
  REQUIRE(UntilAvailable(again, {"SET", "dots", "v3", "W", "ALL"}) == Reply::Status("OK"));
  // n2 may not have seen n1 come back yet (its bus reconnects with a backoff): a read at ALL is
  // retried while it answers UNAVAILABLE, and must then return v3.
  CHECK(UntilAvailable(n2, {"GET", "dots", "R", "ALL"}) == Reply::Bulk("v3"));
  CHECK(UntilAvailable(again, {"GET", "dots", "R", "ALL"}) == Reply::Bulk("v3"));
  for (int i = 0; i < 3; ++i) {
    Client node(cluster.node(i).port());
    CHECK_MESSAGE(node.Command({"DEBUG", "LOCALGET", "dots"}) == Reply::Bulk("v3"), "node n",
                  i + 1);
  }
}
