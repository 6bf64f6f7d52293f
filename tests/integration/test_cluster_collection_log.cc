// The commit log of a replica holding a convergent collection (cluster/stored_siblings.h): a write
// of one element appends O(element) bytes, whatever the collection's size (the join of the delta
// it shipped, not the merged copy), and every acknowledged element survives a kill -9 of every
// node, replayed from the log onto the last checkpoint.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

using namespace std::chrono_literals;

// Commit-log bytes the three nodes appended per command over `count` writes (SADD or HSET of one
// new element each), or -1 when a checkpoint restarted a log meanwhile.
// The elements written go to *written.
double LogBytesPerWrite(LocalCluster& cluster, Client& writer, const std::vector<std::string>& head,
                        const std::string& prefix, int count, std::set<std::string>* written) {
  std::vector<Client> nodes;
  long long before = 0;
  std::vector<long long> each;
  for (int i = 0; i < 3; ++i) {
    nodes.emplace_back(cluster.node(i).port());
    each.push_back(ReadInfoNumber(nodes.back(), "persistence", "commit_log_bytes"));
    before += each.back();
  }
  for (int j = 0; j < count; ++j) {
    std::vector<std::string> argv = head;
    argv.push_back(prefix + std::to_string(j));
    if (head[0] == "HSET") argv.push_back("v");
    REQUIRE(writer.Command(argv) == Reply::Int(1));
    written->insert(prefix + std::to_string(j));
  }
  long long after = 0;
  for (int i = 0; i < 3; ++i) {
    const long long now =
        ReadInfoNumber(nodes[static_cast<std::size_t>(i)], "persistence", "commit_log_bytes");
    if (now < each[static_cast<std::size_t>(i)]) return -1;
    after += now;
  }
  return static_cast<double>(after - before) / count;
}

double Measure(LocalCluster& cluster, Client& writer, const std::vector<std::string>& head,
               std::set<std::string>* written) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double bytes =
        LogBytesPerWrite(cluster, writer, head, "x" + std::to_string(attempt) + "-", 40, written);
    if (bytes >= 0) return bytes;
  }
  FAIL("a checkpoint restarted a commit log in every attempt");
  return 0;
}

}  // namespace

TEST_CASE(
    "cluster collections: log bytes per SADD/HSET do not grow with the collection; "
    "kill -9 of every node keeps every acknowledged element") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  // A set and a hash of 20,000 elements, grown 1,000 at a time; small ones of 10.
  constexpr int kBig = 20000;
  std::set<std::string> members;  // of "big"
  std::set<std::string> fields;   // of "bighash"
  for (int base = 0; base < kBig; base += 1000) {
    std::vector<std::string> sadd = {"SADD", "big"};
    std::vector<std::string> hset = {"HSET", "bighash"};
    for (int i = base; i < base + 1000; ++i) {
      const std::string m = "member:" + std::to_string(i);
      sadd.push_back(m);
      hset.push_back(m);
      hset.push_back("v");
      members.insert(m);
      fields.insert(m);
    }
    REQUIRE(n1.Command(sadd) == Reply::Int(1000));
    REQUIRE(n1.Command(hset) == Reply::Int(1000));
  }
  for (int i = 0; i < 10; ++i) {
    REQUIRE(n1.Command({"SADD", "small", "s" + std::to_string(i)}) == Reply::Int(1));
    REQUIRE(n1.Command({"HSET", "smallhash", "s" + std::to_string(i), "v"}) == Reply::Int(1));
  }
  // The collections go to segments, so that recovery below replays joins onto checkpointed
  // copies.
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"SAVE"}) == Reply::Status("OK"));
  }

  std::set<std::string> unused;
  const double small_set = Measure(cluster, n1, {"SADD", "small"}, &unused);
  const double big_set = Measure(cluster, n1, {"SADD", "big"}, &members);
  const double small_hash = Measure(cluster, n1, {"HSET", "smallhash"}, &unused);
  const double big_hash = Measure(cluster, n1, {"HSET", "bighash"}, &fields);
  MESSAGE("log bytes per write, 3 nodes: SADD " << small_set << " (10 members), " << big_set
                                                << " (20,000); HSET " << small_hash << ", "
                                                << big_hash);
  // The merged copy of the big ones is hundreds of kilobytes: a few hundred bytes is the delta.
  CHECK(big_set < 4096);
  CHECK(big_hash < 4096);
  CHECK(big_set < 1.5 * small_set + 64);
  CHECK(big_hash < 1.5 * small_hash + 64);

  // kill -9 of every node: no replica keeps the members anywhere but its own log and segments.
  for (int i = 0; i < 3; ++i) cluster.node(i).Kill();
  for (int i = 0; i < 3; ++i) cluster.node(i).Start();
  Client c(cluster.node(1).port());
  REQUIRE(
      WaitFor([&] { return ReadInfoNumber(c, "cluster", "cluster_members_reachable") == 3; }, 20s));
  REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  const Reply card = UntilAvailable(c, {"SCARD", "big"});
  const Reply all = c.Command({"SMEMBERS", "big"});
  REQUIRE(all.type == Reply::Type::kArray);
  std::set<std::string> present;
  for (const Reply& e : all.elements) present.insert(e.str);
  int missing = 0;
  for (const std::string& m : members) {
    if (!present.count(m)) ++missing;
  }
  CHECK(missing == 0);
  CHECK(card == Reply::Int(static_cast<long long>(members.size())));
  CHECK(c.Command({"HLEN", "bighash"}) == Reply::Int(static_cast<long long>(fields.size())));
  for (const char* field : {"member:0", "member:19999", "x0-0", "x0-39"}) {
    CHECK(c.Command({"HGET", "bighash", field}) == Reply::Bulk("v"));
  }
  // Every replica recovered the same bytes.
  std::string first;
  for (int i = 0; i < 3; ++i) {
    Client node(cluster.node(i).port());
    const Reply raw = node.Command({"DEBUG", "LOCALRAW", "big"});
    REQUIRE(raw.type == Reply::Type::kString);
    if (i == 0) first = raw.str;
    CHECK(raw.str == first);
  }
}
