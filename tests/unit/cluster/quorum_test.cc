#include "cluster/quorum.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster/consistency_level.h"

namespace dynakv::cluster {
namespace {

using Outcome = QuorumTracker::Outcome;
const std::vector<std::string> kThree = {"n1", "n2", "n3"};

TEST_CASE("quorum: succeeds on the required acks and collects payloads") {
  QuorumTracker tracker(kThree, 2);
  CHECK(tracker.outcome() == Outcome::kPending);
  CHECK(tracker.OnReply("n2", true, "from n2") == Outcome::kPending);
  CHECK(tracker.OnReply("n1", true, "from n1") == Outcome::kSucceeded);
  CHECK(tracker.acks() == 2);
  CHECK(tracker.error().empty());
  CHECK_FALSE(tracker.all_replied());
  // A late reply is still collected (read repair) and changes nothing.
  CHECK(tracker.OnReply("n3", false) == Outcome::kSucceeded);
  CHECK(tracker.all_replied());
  REQUIRE(tracker.replies().size() == 2);
  CHECK(tracker.replies()[0].node == "n2");
  CHECK(tracker.replies()[0].payload == "from n2");
  CHECK(tracker.replies()[1].payload == "from n1");
}

TEST_CASE("quorum: a failure is tolerated while enough replicas remain") {
  QuorumTracker tracker(kThree, 2);
  CHECK(tracker.OnReply("n1", false) == Outcome::kPending);
  CHECK(tracker.OnReply("n2", true) == Outcome::kPending);
  CHECK(tracker.OnReply("n3", true) == Outcome::kSucceeded);
  CHECK(tracker.failures() == 1);
}

TEST_CASE("quorum: fails as soon as the required acks are out of reach") {
  QuorumTracker tracker(kThree, 2);
  CHECK(tracker.OnReply("n1", true) == Outcome::kPending);
  CHECK(tracker.OnReply("n2", false) == Outcome::kPending);
  CHECK(tracker.OnReply("n3", false) == Outcome::kFailed);
  CHECK(tracker.error() == "UNAVAILABLE not enough replicas (needed 2, got 1)");

  QuorumTracker all(kThree, 3);
  CHECK(all.OnReply("n3", false) == Outcome::kFailed);  // no need to wait for the others
  CHECK(all.error() == "UNAVAILABLE not enough replicas (needed 3, got 0)");
  // The outcome is final.
  CHECK(all.OnReply("n1", true) == Outcome::kFailed);
  CHECK(all.error() == "UNAVAILABLE not enough replicas (needed 3, got 0)");
}

TEST_CASE("quorum: requiring more than N fails at once") {
  QuorumTracker tracker(kThree, 4);
  CHECK(tracker.outcome() == Outcome::kFailed);
  CHECK(tracker.error() == "UNAVAILABLE not enough replicas (needed 4, got 0)");
  QuorumTracker nobody({}, 1);
  CHECK(nobody.outcome() == Outcome::kFailed);
}

TEST_CASE("quorum: a timeout fails a pending request and nothing else") {
  QuorumTracker pending(kThree, 2);
  pending.OnReply("n1", true);
  CHECK(pending.OnTimeout() == Outcome::kFailed);
  CHECK(pending.error() == "UNAVAILABLE not enough replicas (needed 2, got 1)");

  QuorumTracker done(kThree, 1);
  done.OnReply("n3", true);
  CHECK(done.OnTimeout() == Outcome::kSucceeded);
  CHECK(done.error().empty());
}

TEST_CASE("quorum: repeated and unknown replies are ignored") {
  QuorumTracker tracker({"n1", "n2", "n1"}, 2);  // a duplicate target counts once
  CHECK(tracker.OnReply("n1", true) == Outcome::kPending);
  CHECK(tracker.OnReply("n1", true) == Outcome::kPending);
  CHECK(tracker.OnReply("stranger", true) == Outcome::kPending);
  CHECK(tracker.acks() == 1);
  CHECK(tracker.replies().size() == 1);
  CHECK(tracker.OnReply("n2", true) == Outcome::kSucceeded);
  CHECK(tracker.all_replied());
}

TEST_CASE("quorum: nothing required succeeds at once") {
  QuorumTracker tracker(kThree, 0);
  CHECK(tracker.outcome() == Outcome::kSucceeded);
}

std::vector<QuorumTarget> TwoDcs() {
  return {{"a1", "dc1"}, {"a2", "dc1"}, {"a3", "dc1"}, {"b1", "dc2"}, {"b2", "dc2"}};
}

TEST_CASE("quorum: EACH_QUORUM needs a quorum in every dc") {
  std::vector<AckRequirement> requirements;
  REQUIRE(ResolveConsistency(ConsistencyLevel{ConsistencyLevel::Kind::kEachQuorum},
                             ReplicasPerDc{{"dc1", 3}, {"dc2", 2}}, "dc1", &requirements,
                             nullptr));
  QuorumTracker tracker(TwoDcs(), requirements);
  tracker.OnReply("a1", true);
  tracker.OnReply("a2", true);
  CHECK(tracker.OnReply("a3", true) == Outcome::kPending);  // dc1 alone is not enough
  CHECK(tracker.OnReply("b1", true) == Outcome::kPending);
  CHECK(tracker.OnReply("b2", true) == Outcome::kSucceeded);

  QuorumTracker failing(TwoDcs(), requirements);
  failing.OnReply("a1", true);
  CHECK(failing.OnReply("b2", false) == Outcome::kFailed);  // dc2 can reach 1 of 2 at most
  CHECK(failing.error() == "UNAVAILABLE not enough replicas (needed 2, got 0)");
}

TEST_CASE("quorum: LOCAL_QUORUM counts only the local dc") {
  std::vector<AckRequirement> requirements;
  REQUIRE(ResolveConsistency(ConsistencyLevel{ConsistencyLevel::Kind::kLocalQuorum},
                             ReplicasPerDc{{"dc1", 3}, {"dc2", 2}}, "dc1", &requirements,
                             nullptr));
  QuorumTracker tracker(TwoDcs(), requirements);
  CHECK(tracker.OnReply("b1", true) == Outcome::kPending);
  CHECK(tracker.OnReply("b2", true) == Outcome::kPending);
  CHECK(tracker.OnReply("a3", true) == Outcome::kPending);
  CHECK(tracker.OnReply("a1", true) == Outcome::kSucceeded);
}

TEST_CASE("consistency level: parsing") {
  using Kind = ConsistencyLevel::Kind;
  ConsistencyLevel level;
  const std::pair<const char*, Kind> named[] = {
      {"ONE", Kind::kOne},          {"one", Kind::kOne},
      {"Quorum", Kind::kQuorum},    {"all", Kind::kAll},
      {"LOCAL_QUORUM", Kind::kLocalQuorum}, {"each_quorum", Kind::kEachQuorum},
  };
  for (const auto& [text, kind] : named) {
    REQUIRE_MESSAGE(ParseConsistencyLevel(text, &level), text);
    CHECK(level.kind == kind);
  }
  REQUIRE(ParseConsistencyLevel("2", &level));
  CHECK(level.kind == Kind::kCount);
  CHECK(level.count == 2);
  REQUIRE(ParseConsistencyLevel("1000", &level));
  CHECK(level.count == 1000);
  for (const char* bad : {"", "0", "-1", "+2", "1001", "99999999999999999999", "TWO", "ONE ",
                          " 1", "1.5", "LOCAL-QUORUM", "QUORUM\n"}) {
    CHECK_MESSAGE(!ParseConsistencyLevel(bad, &level), bad);
  }
  for (const char* text : {"ONE", "QUORUM", "ALL", "7", "LOCAL_QUORUM", "EACH_QUORUM"}) {
    REQUIRE(ParseConsistencyLevel(text, &level));
    CHECK(ToString(level) == text);
  }
}

TEST_CASE("consistency level: required acks") {
  using Kind = ConsistencyLevel::Kind;
  CHECK(RequiredAcks({Kind::kOne}, 3) == 1);
  CHECK(RequiredAcks({Kind::kQuorum}, 3) == 2);
  CHECK(RequiredAcks({Kind::kQuorum}, 4) == 3);
  CHECK(RequiredAcks({Kind::kQuorum}, 5) == 3);
  CHECK(RequiredAcks({Kind::kQuorum}, 1) == 1);
  CHECK(RequiredAcks({Kind::kAll}, 3) == 3);
  CHECK(RequiredAcks({Kind::kCount, 5}, 3) == 5);  // unavailable, not quietly capped
  CHECK(RequiredAcks({Kind::kLocalQuorum}, 3) == 2);

  const ReplicasPerDc rf{{"dc1", 3}, {"dc2", 2}};
  std::vector<AckRequirement> requirements;
  std::string error;
  auto resolve = [&](Kind kind, int count = 0, std::string_view local = "dc1") {
    return ResolveConsistency(ConsistencyLevel{kind, count}, rf, local, &requirements, &error);
  };
  REQUIRE(resolve(Kind::kQuorum));
  REQUIRE(requirements.size() == 1);
  CHECK(requirements[0].dc.empty());
  CHECK(requirements[0].required == 3);
  REQUIRE(resolve(Kind::kAll));
  CHECK(requirements[0].required == 5);
  REQUIRE(resolve(Kind::kOne));
  CHECK(requirements[0].required == 1);
  REQUIRE(resolve(Kind::kCount, 4));
  CHECK(requirements[0].required == 4);
  REQUIRE(resolve(Kind::kLocalQuorum, 0, "dc2"));
  REQUIRE(requirements.size() == 1);
  CHECK(requirements[0].dc == "dc2");
  CHECK(requirements[0].required == 2);
  REQUIRE(resolve(Kind::kEachQuorum));
  REQUIRE(requirements.size() == 2);
  CHECK(requirements[0].dc == "dc1");
  CHECK(requirements[0].required == 2);
  CHECK(requirements[1].dc == "dc2");
  CHECK(requirements[1].required == 2);

  CHECK_FALSE(resolve(Kind::kLocalQuorum, 0, "dc3"));
  CHECK(error == "LOCAL_QUORUM needs replicas in the local dc 'dc3'");
  CHECK_FALSE(ResolveConsistency(ConsistencyLevel{Kind::kOne}, ReplicasPerDc{}, "dc1",
                                 &requirements, &error));
  CHECK(error == "no replicas configured");
}

}  // namespace
}  // namespace dynakv::cluster
