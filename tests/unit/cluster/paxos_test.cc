// Per-key Paxos without a network: ballot order, the acceptor's promise/accept/commit rules,
// the durable acceptor store, the PAXOS_* service, and the message encodings (decoders reject
// garbage).
#include "cluster/paxos.h"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/hybrid_clock.h"
#include "cluster/versioned_value.h"
#include "cluster_test_util.h"
#include "paxos_acceptor.h"
#include "paxos_service.h"
#include "replica_service.h"
#include "storage/engine.h"

namespace dynakv::cluster {
namespace {

using paxos::AcceptorState;
using paxos::Ballot;
using paxos::Proposal;
using testing::TempDir;

Proposal Value(const Ballot& ballot, const std::string& value) {
  SiblingSet set;
  Version version = set.NewVersion({}, ballot.node, ballot.micros);
  version.value = value;
  set.Add(version);
  return Proposal{ballot, false, set.Encode()};
}

std::unique_ptr<PaxosAcceptor> OpenAcceptor(const std::string& dir) {
  std::unique_ptr<PaxosAcceptor> acceptor;
  const storage::Status status =
      PaxosAcceptor::Open(dir, storage::FsyncPolicy::kAlways, nullptr, 3600 * 1000, &acceptor);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  return acceptor;
}

TEST_CASE("ballots order by time, then node id; the zero ballot is below every real one") {
  CHECK(Ballot{} < Ballot{1, "a"});
  CHECK(Ballot{1, "b"} < Ballot{2, "a"});
  CHECK(Ballot{5, "a"} < Ballot{5, "b"});
  CHECK(Ballot{5, "a"} == Ballot{5, "a"});
  CHECK_FALSE(Ballot{5, "a"} < Ballot{5, "a"});
  CHECK(Ballot{}.IsZero());
  CHECK_FALSE((Ballot{1, "a"}).IsZero());
}

TEST_CASE("an acceptor promises only higher ballots and accepts none below its promise") {
  AcceptorState state;
  bool ok = false;
  CHECK(paxos::ApplyPrepare(&state, Ballot{10, "n1"}, &ok));
  CHECK(ok);
  CHECK(state.promised == Ballot{10, "n1"});
  // The same or a lower ballot: refused, nothing changes.
  CHECK_FALSE(paxos::ApplyPrepare(&state, Ballot{10, "n1"}, &ok));
  CHECK_FALSE(ok);
  CHECK_FALSE(paxos::ApplyPrepare(&state, Ballot{9, "n3"}, &ok));
  CHECK_FALSE(ok);
  // A proposal below the promise is refused...
  CHECK_FALSE(paxos::ApplyPropose(&state, Value(Ballot{9, "n3"}, "x"), &ok));
  CHECK_FALSE(ok);
  CHECK_FALSE(state.has_accepted);
  // ... one at the promise is accepted.
  CHECK(paxos::ApplyPropose(&state, Value(Ballot{10, "n1"}, "y"), &ok));
  CHECK(ok);
  REQUIRE(state.has_accepted);
  CHECK(state.accepted.ballot == Ballot{10, "n1"});
  // A higher prepare is promised, and the accepted proposal stays to be reported.
  CHECK(paxos::ApplyPrepare(&state, Ballot{11, "n2"}, &ok));
  CHECK(ok);
  CHECK(state.has_accepted);
  // The old coordinator's late re-send is refused now.
  CHECK_FALSE(paxos::ApplyPropose(&state, Value(Ballot{10, "n1"}, "y"), &ok));
  CHECK_FALSE(ok);
  // A commit of an older ballot records nothing newer and keeps the newer accepted proposal.
  CHECK(paxos::ApplyPropose(&state, Value(Ballot{11, "n2"}, "z"), &ok));
  CHECK(paxos::ApplyCommit(&state, Value(Ballot{10, "n1"}, "y")));
  CHECK(state.committed == Ballot{10, "n1"});
  CHECK(state.InProgress());
  CHECK(state.accepted.ballot == Ballot{11, "n2"});
  // Its own commit ends it but keeps it as the most recent commit (re-sent to replicas that
  // missed it); a repeated commit changes nothing.
  CHECK(paxos::ApplyCommit(&state, Value(Ballot{11, "n2"}, "z")));
  CHECK_FALSE(state.InProgress());
  REQUIRE(state.has_accepted);
  CHECK(state.accepted.encoded_set == Value(Ballot{11, "n2"}, "z").encoded_set);
  CHECK(state.committed == Ballot{11, "n2"});
  CHECK_FALSE(paxos::ApplyCommit(&state, Value(Ballot{11, "n2"}, "z")));
  // A replica that never accepted it learns the commit's proposal from the commit itself.
  AcceptorState missed;
  CHECK(paxos::ApplyCommit(&missed, Value(Ballot{11, "n2"}, "z")));
  CHECK(missed.has_accepted);
  CHECK_FALSE(missed.InProgress());
  CHECK(missed.accepted.encoded_set == Value(Ballot{11, "n2"}, "z").encoded_set);
}

TEST_CASE("paxos messages round-trip and their decoders reject garbage") {
  const Proposal proposal = Value(Ballot{123456789, "node-1"}, "value");
  std::string_view key;
  Ballot ballot;
  REQUIRE(paxos::DecodePrepare(paxos::EncodePrepare("k", Ballot{7, "n"}), &key, &ballot));
  CHECK(key == "k");
  CHECK(ballot == Ballot{7, "n"});
  CHECK_FALSE(paxos::DecodePrepare(paxos::EncodePrepare("k", Ballot{}), &key, &ballot));

  Proposal decoded;
  const std::string encoded = paxos::EncodeProposal("key", proposal);
  REQUIRE(paxos::DecodeProposal(encoded, &key, &decoded));
  CHECK(key == "key");
  CHECK(decoded.ballot == proposal.ballot);
  CHECK(decoded.encoded_set == proposal.encoded_set);
  CHECK_FALSE(decoded.noop);
  const Proposal noop{Ballot{8, "n"}, true, ""};
  REQUIRE(paxos::DecodeProposal(paxos::EncodeProposal("key", noop), &key, &decoded));
  CHECK(decoded.noop);
  // A no-op carrying a set, or a value without one, is not something the encoder makes.
  std::string bad = paxos::EncodeProposal("key", noop);
  bad[bad.size() - 2] = 0;  // the no-op flag cleared: a value proposal without a set
  CHECK_FALSE(paxos::DecodeProposal(bad, &key, &decoded));

  paxos::Promise promise;
  promise.promised = true;
  promise.promised_ballot = Ballot{9, "n2"};
  promise.has_accepted = true;
  promise.accepted = proposal;
  promise.committed = Ballot{3, "n3"};
  promise.current = proposal.encoded_set;
  paxos::Promise back;
  const std::string promise_bytes = paxos::EncodePromise(promise);
  REQUIRE(paxos::DecodePromise(promise_bytes, &back));
  CHECK(back.promised);
  CHECK(back.promised_ballot == promise.promised_ballot);
  CHECK(back.accepted.ballot == proposal.ballot);
  CHECK(back.committed == promise.committed);
  CHECK(back.current == promise.current);

  paxos::AcceptReply reply{false, Ballot{4, "x"}};
  paxos::AcceptReply reply_back;
  REQUIRE(paxos::DecodeAcceptReply(paxos::EncodeAcceptReply(reply), &reply_back));
  CHECK_FALSE(reply_back.accepted);
  CHECK(reply_back.promised_ballot == reply.promised_ballot);

  AcceptorState state;
  state.promised = Ballot{9, "n2"};
  state.has_accepted = true;
  state.accepted = proposal;
  state.committed = Ballot{2, "n1"};
  AcceptorState state_back;
  const std::string state_bytes = paxos::EncodeState(state);
  REQUIRE(paxos::DecodeState(state_bytes, &state_back));
  CHECK(state_back.accepted.encoded_set == proposal.encoded_set);

  // Every truncation and an extra byte are refused, each by its own decoder.
  const std::vector<std::pair<std::string, std::function<bool(std::string_view)>>> cases = {
      {encoded, [&](std::string_view b) { return paxos::DecodeProposal(b, &key, &decoded); }},
      {promise_bytes, [&](std::string_view b) { return paxos::DecodePromise(b, &back); }},
      {state_bytes, [&](std::string_view b) { return paxos::DecodeState(b, &state_back); }},
      {paxos::EncodeAcceptReply(reply),
       [&](std::string_view b) { return paxos::DecodeAcceptReply(b, &reply_back); }},
      {paxos::EncodePrepare("k", Ballot{7, "n"}),
       [&](std::string_view b) { return paxos::DecodePrepare(b, &key, &ballot); }},
  };
  for (const auto& [whole, decode] : cases) {
    CHECK(decode(whole));
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
      CHECK_FALSE(decode(std::string_view(whole.data(), cut)));
    }
    CHECK_FALSE(decode(whole + "x"));
  }
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage(rng() % 40, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    // Whatever decodes must re-encode to the same bytes (one encoding per value).
    if (paxos::DecodeState(garbage, &state_back)) {
      CHECK(paxos::EncodeState(state_back) == garbage);
    }
    if (paxos::DecodeAcceptReply(garbage, &reply_back)) {
      CHECK(paxos::EncodeAcceptReply(reply_back) == garbage);
    }
    if (paxos::DecodePromise(garbage, &back)) CHECK(paxos::EncodePromise(back) == garbage);
  }
  // A negative time, or a time without a node, is no ballot.
  std::string negative;
  paxos::EncodeBallot(&negative, Ballot{-5, "n"});
  std::string_view input = negative;
  CHECK_FALSE(paxos::DecodeBallot(&input, &ballot));
  std::string nameless;
  paxos::EncodeBallot(&nameless, Ballot{5, ""});
  input = nameless;
  CHECK_FALSE(paxos::DecodeBallot(&input, &ballot));
}

TEST_CASE("the acceptor's promises and accepted proposals survive a restart") {
  TempDir dir;
  const std::string path = dir.path() + "/paxos";
  {
    auto acceptor = OpenAcceptor(path);
    paxos::Promise promise;
    REQUIRE(acceptor->Prepare("k", Ballot{10, "n1"}, &promise).ok());
    CHECK(promise.promised);
    paxos::AcceptReply reply;
    REQUIRE(acceptor->Propose("k", Value(Ballot{10, "n1"}, "v"), &reply).ok());
    CHECK(reply.accepted);
  }
  auto acceptor = OpenAcceptor(path);
  paxos::Promise promise;
  REQUIRE(acceptor->Prepare("k", Ballot{9, "n3"}, &promise).ok());
  CHECK_FALSE(promise.promised);  // the promise of ballot 10 was kept
  CHECK(promise.promised_ballot == Ballot{10, "n1"});
  REQUIRE(acceptor->Prepare("k", Ballot{11, "n2"}, &promise).ok());
  CHECK(promise.promised);
  REQUIRE(promise.has_accepted);  // reported to the new coordinator, which must complete it
  CHECK(promise.accepted.ballot == Ballot{10, "n1"});
  REQUIRE(acceptor->Commit("k", Value(Ballot{11, "n2"}, "w")).ok());
  const AcceptorState state = acceptor->Load("k");
  CHECK_FALSE(state.InProgress());  // bounded: two ballots and the most recent commit are left
  CHECK(state.accepted.encoded_set == Value(Ballot{11, "n2"}, "w").encoded_set);
  CHECK(state.committed == Ballot{11, "n2"});
  CHECK(acceptor->size() == 1);
}

TEST_CASE("the paxos service commits into the replica, and refuses malformed requests") {
  TempDir dir;
  storage::Options options;
  options.dir = dir.path() + "/data";
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(options, &engine).ok());
  ClusterOptions cluster_options;
  ClusterStats stats;
  HybridClock clock;
  ReplicaService replica(*engine, clock, cluster_options, stats);
  auto acceptor = OpenAcceptor(dir.path() + "/paxos");
  PaxosService service(acceptor.get(), replica, stats);

  const Ballot ballot{clock.Tick(replica.NowUs()), "n1"};
  auto prepared = service.Serve(bus::FrameType::kPaxosPrepare, paxos::EncodePrepare("k", ballot));
  REQUIRE(prepared.ok);
  paxos::Promise promise;
  REQUIRE(paxos::DecodePromise(prepared.payload, &promise));
  CHECK(promise.promised);
  CHECK(promise.current.empty());  // no copy yet
  const Proposal proposal = Value(ballot, "v1");
  auto accepted =
      service.Serve(bus::FrameType::kPaxosPropose, paxos::EncodeProposal("k", proposal));
  REQUIRE(accepted.ok);
  CHECK(engine->Get("k") == std::nullopt);  // accepting writes no data
  auto committed =
      service.Serve(bus::FrameType::kPaxosCommit, paxos::EncodeProposal("k", proposal));
  REQUIRE(committed.ok);
  CHECK(committed.needs_durable_log);
  const SiblingSet stored = replica.Get("k");
  REQUIRE(stored.Resolve() != nullptr);
  CHECK(stored.Resolve()->value == "v1");
  // The paxos state is not in the data engine: one key there, the user's.
  CHECK(engine->KeyCount() == 1);

  const std::uint64_t errors = stats.bus_protocol_errors;
  CHECK_FALSE(service.Serve(bus::FrameType::kPaxosPrepare, "\x01garbage").ok);
  CHECK_FALSE(service.Serve(bus::FrameType::kPaxosPropose, "").ok);
  // A proposal whose set does not decode is refused before it is accepted.
  Proposal broken{Ballot{ballot.micros + 1, "n1"}, false, "not a set"};
  CHECK_FALSE(service.Serve(bus::FrameType::kPaxosPropose, paxos::EncodeProposal("k", broken)).ok);
  CHECK(stats.bus_protocol_errors == errors + 3);
  CHECK(acceptor->Load("k").accepted.ballot == ballot);  // the commit, not the broken one
}

TEST_CASE("a tag's keys share one instance; a group is read and committed as one") {
  CHECK(paxos::InstanceOf("{user:1}:cart") == "{user:1}");
  CHECK(paxos::InstanceOf("{user:1}:total") == "{user:1}");
  CHECK(paxos::InstanceOf("plain") == "plain");
  CHECK(paxos::InstanceOf("{}x") == "{}x");  // no tag: the key itself
  CHECK(paxos::InstanceOf("{a}") == "{a}");

  const std::vector<paxos::KeyCopy> copies{{"{t}a", "x"}, {"{t}b", ""}};
  std::vector<paxos::KeyCopy> decoded;
  REQUIRE(paxos::DecodeGroup(paxos::EncodeGroup(copies), &decoded));
  REQUIRE(decoded.size() == 2);
  CHECK(decoded[1].key == "{t}b");
  CHECK(decoded[0].encoded == "x");
  // Duplicate or empty keys, trailing bytes and truncations are refused.
  CHECK_FALSE(paxos::DecodeGroup(paxos::EncodeGroup({{"k", "1"}, {"k", "2"}}), &decoded));
  CHECK_FALSE(paxos::DecodeGroup(paxos::EncodeGroup({{"", "1"}}), &decoded));
  CHECK_FALSE(paxos::DecodeGroup(paxos::EncodeGroup(copies) + "x", &decoded));
  const std::string whole = paxos::EncodeGroup(copies);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    CHECK_FALSE(paxos::DecodeGroup(whole.substr(0, n), &decoded));
  }
  std::string_view instance;
  Ballot ballot;
  std::vector<std::string_view> keys;
  const std::string prepare = paxos::EncodePrepareGroup("{t}", Ballot{5, "n1"}, {"{t}a", "{t}b"});
  REQUIRE(paxos::DecodePrepareGroup(prepare, &instance, &ballot, &keys));
  CHECK(instance == "{t}");
  CHECK(keys.size() == 2);
  CHECK_FALSE(paxos::DecodePrepareGroup(paxos::EncodePrepareGroup("{t}", Ballot{5, "n1"}, {}),
                                        &instance, &ballot, &keys));

  TempDir dir;
  storage::Options options;
  options.dir = dir.path() + "/data";
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(options, &engine).ok());
  ClusterOptions cluster_options;
  ClusterStats stats;
  HybridClock clock;
  ReplicaService replica(*engine, clock, cluster_options, stats);
  auto acceptor = OpenAcceptor(dir.path() + "/paxos");
  PaxosService service(acceptor.get(), replica, stats);
  REQUIRE(replica
              .Put("{t}a",
                   [] {
                     SiblingSet set;
                     Version version = set.NewVersion({}, "n0", 1);
                     version.value = "old";
                     set.Add(version);
                     return set;
                   }())
              .ok());

  const Ballot b{clock.Tick(replica.NowUs()), "n1"};
  auto prepared = service.Serve(bus::FrameType::kPaxosPrepareGroup,
                                paxos::EncodePrepareGroup("{t}", b, {"{t}a", "{t}b"}));
  REQUIRE(prepared.ok);
  paxos::Promise promise;
  REQUIRE(paxos::DecodePromise(prepared.payload, &promise));
  CHECK(promise.promised);
  REQUIRE(paxos::DecodeGroup(promise.current, &decoded));  // every key's copy, in order
  REQUIRE(decoded.size() == 2);
  CHECK(decoded[0].encoded == replica.GetEncoded("{t}a"));
  CHECK(decoded[1].encoded.empty());
  // A key of another tag cannot ride on the instance.
  CHECK_FALSE(service
                  .Serve(bus::FrameType::kPaxosPrepareGroup,
                         paxos::EncodePrepareGroup("{t}", b, {"{t}a", "{u}b"}))
                  .ok);

  Proposal group;
  group.ballot = b;
  group.group = true;
  group.encoded_set = paxos::EncodeGroup(
      {{"{t}a", Value(b, "new-a").encoded_set}, {"{t}b", Value(b, "new-b").encoded_set}});
  REQUIRE(service.Serve(bus::FrameType::kPaxosPropose, paxos::EncodeProposal("{t}", group)).ok);
  CHECK(engine->Get("{t}b") == std::nullopt);
  REQUIRE(service.Serve(bus::FrameType::kPaxosCommit, paxos::EncodeProposal("{t}", group)).ok);
  REQUIRE(replica.Get("{t}a").Resolve() != nullptr);
  CHECK(replica.Get("{t}a").Resolve()->value == "new-a");
  REQUIRE(replica.Get("{t}b").Resolve() != nullptr);
  CHECK(replica.Get("{t}b").Resolve()->value == "new-b");
  const AcceptorState state = acceptor->Load("{t}");
  CHECK(state.committed == b);
  CHECK(state.accepted.group);  // kept as the most recent commit

  // A tagged key's single set outside its tag's instance, or a group naming another tag's
  // key, is malformed.
  CHECK_FALSE(service
                  .Serve(bus::FrameType::kPaxosPropose,
                         paxos::EncodeProposal("{t}a", Value(Ballot{b.micros + 1, "n1"}, "v")))
                  .ok);
  Proposal foreign = group;
  foreign.ballot = Ballot{b.micros + 2, "n1"};
  foreign.encoded_set = paxos::EncodeGroup({{"{u}a", Value(b, "x").encoded_set}});
  CHECK_FALSE(
      service.Serve(bus::FrameType::kPaxosCommit, paxos::EncodeProposal("{t}", foreign)).ok);
  CHECK(engine->Get("{u}a") == std::nullopt);
}

}  // namespace
}  // namespace dynakv::cluster
