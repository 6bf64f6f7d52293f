// Lists in cluster mode (cluster_lists.h): every recorded list operation replayed on the sequence
// CRDT gives the list the handler computed (a differential test against types::List through the
// codec, as a node applies the same operations), its delta carries exactly that change to another
// replica, and MakeCollectionVersion turns a command's effect into a list delta (DEL removing
// only what it saw).
#include "cluster_lists.h"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster_collections.h"
#include "snapshot_keyspace.h"
#include "types/codec.h"

namespace dynakv::server {
namespace {

using Strings = std::vector<std::string>;

Strings ValuesOf(const types::List& list) {
  Strings out;
  list.ForRange(0, list.size(), [&](std::string_view e) {
    out.emplace_back(e);
    return true;
  });
  return out;
}

std::string Op(types::OpCode code, const Strings& args) {
  types::OpBuilder builder(code, args.size());
  for (const std::string& a : args) builder.Add(a);
  return builder.op();
}

// A random operation over `list` as the list commands build them (list_access.cc, cmd_list.cc):
// indexes within the list, counts and pivots sometimes matching nothing.
std::string RandomOp(std::mt19937_64& rng, const types::List* list, int i) {
  const std::size_t size = list == nullptr ? 0 : list->size();
  const std::string value = "v" + std::to_string(rng() % 6);  // repeats, for LREM / LINSERT
  const std::string fresh = "e" + std::to_string(i);
  switch (rng() % 9) {
    case 0:
      return Op(types::OpCode::kListPushFront, {fresh, fresh + "b"});
    case 1:
      return Op(types::OpCode::kListPushBack, {i % 2 == 0 ? value : fresh});
    case 2:
      return Op(types::OpCode::kListPopFront, {std::to_string(rng() % 3)});
    case 3:
      return Op(types::OpCode::kListPopBack, {std::to_string(rng() % 3)});
    case 4:
      if (size == 0) return Op(types::OpCode::kListPushBack, {value});
      return Op(types::OpCode::kListSet, {std::to_string(rng() % size), fresh});
    case 5:
      return Op(types::OpCode::kListInsert, {rng() % 2 ? "before" : "after", value, fresh});
    case 6:
      return Op(types::OpCode::kListRemove,
                {std::to_string(static_cast<int>(rng() % 5) - 2), value});
    case 7:
      return Op(types::OpCode::kListTrim, {std::to_string(rng() % 2), std::to_string(rng() % 2)});
    default:
      return Op(types::OpCode::kListPushBack, {value, fresh});
  }
}

}  // namespace

TEST_CASE("cluster lists: every list operation replayed on the sequence gives the handler's list") {
  std::mt19937_64 rng(13);
  types::TypesCodec codec;
  for (int round = 0; round < 20; ++round) {
    std::unique_ptr<storage::ValueObject> list;  // what the handler's node holds
    crdt::Sequence replica;                      // the sequence the op is replayed on
    crdt::Sequence other;                        // another replica, fed only the deltas
    for (int i = 0; i < 300; ++i) {
      const std::string op = RandomOp(rng, static_cast<const types::List*>(list.get()), i);
      std::int64_t result = 0;
      std::unique_ptr<storage::ValueObject> created;
      REQUIRE(codec.Apply(list.get(), op, &result, &created));
      if (created) list = std::move(created);
      if (list && list->Empty()) list.reset();
      types::Op parsed;
      REQUIRE(types::ParseOp(op, &parsed));
      crdt::Sequence delta;
      REQUIRE(ApplyListOp(parsed, "n" + std::to_string(i % 3), &replica, &delta));
      other.Join(delta);
      const Strings expected =
          list ? ValuesOf(*static_cast<const types::List*>(list.get())) : Strings{};
      CAPTURE(round);
      CAPTURE(i);
      REQUIRE(replica.Values() == expected);
      REQUIRE(other.Values() == expected);
      // The serialized form a read decodes is the same list.
      const auto decoded = codec.Decode(ListValue(replica));
      REQUIRE(decoded != nullptr);
      CHECK(ValuesOf(*static_cast<const types::List*>(decoded.get())) == expected);
    }
    CHECK(other.Encode() == replica.Encode());
  }
}

TEST_CASE("cluster lists: malformed or out-of-range operations are refused, not applied") {
  crdt::Sequence seq;
  crdt::Sequence delta;
  types::Op op;
  REQUIRE(types::ParseOp(Op(types::OpCode::kListPushBack, {"a"}), &op));
  REQUIRE(ApplyListOp(op, "n1", &seq, &delta));
  REQUIRE(types::ParseOp(Op(types::OpCode::kListSet, {"1", "x"}), &op));
  CHECK_FALSE(ApplyListOp(op, "n1", &seq, &delta));  // index past the end
  REQUIRE(types::ParseOp(Op(types::OpCode::kListPopFront, {"-1"}), &op));
  CHECK_FALSE(ApplyListOp(op, "n1", &seq, &delta));
  REQUIRE(types::ParseOp(Op(types::OpCode::kListInsert, {"middle", "a", "x"}), &op));
  CHECK_FALSE(ApplyListOp(op, "n1", &seq, &delta));
  REQUIRE(types::ParseOp(Op(types::OpCode::kSetAdd, {"a"}), &op));
  CHECK_FALSE(ApplyListOp(op, "n1", &seq, &delta));
  CHECK(seq.Values() == Strings{"a"});
}

TEST_CASE("cluster lists: LSET and LINSERT deltas land in place on a replica with other pushes") {
  // A replica that saw a push the writer had not: the writer's LSET / LINSERT still land next to
  // their element there.
  crdt::Sequence writer;
  crdt::Sequence delta;
  types::Op op;
  REQUIRE(types::ParseOp(Op(types::OpCode::kListPushBack, {"a", "b", "c"}), &op));
  REQUIRE(ApplyListOp(op, "n1", &writer, &delta));
  crdt::Sequence replica = writer;
  replica.PushFront("n2", "front");  // concurrent with what follows
  crdt::Sequence changes;
  REQUIRE(types::ParseOp(Op(types::OpCode::kListSet, {"1", "B"}), &op));
  REQUIRE(ApplyListOp(op, "n1", &writer, &changes));
  REQUIRE(types::ParseOp(Op(types::OpCode::kListInsert, {"before", "c", "c0"}), &op));
  REQUIRE(ApplyListOp(op, "n1", &writer, &changes));
  REQUIRE(types::ParseOp(Op(types::OpCode::kListInsert, {"after", "a", "a1"}), &op));
  REQUIRE(ApplyListOp(op, "n1", &writer, &changes));
  CHECK(writer.Values() == Strings{"a", "a1", "B", "c0", "c"});
  replica.Join(changes);
  CHECK(replica.Values() == Strings{"front", "a", "a1", "B", "c0", "c"});
}

TEST_CASE("cluster lists: MakeCollectionVersion makes pushes, pops and DEL list deltas") {
  types::TypesCodec codec;
  class NoKeys final : public Keyspace {
   public:
    std::optional<storage::ValueRef> Get(std::string_view) override { return std::nullopt; }
    bool Exists(std::string_view) override { return false; }
    std::optional<std::int64_t> GetExpireAt(std::string_view) override { return std::nullopt; }
    storage::Status Put(std::string_view, std::string_view, std::int64_t) override {
      return storage::Status::Ok();
    }
    bool Delete(std::string_view) override { return false; }
    bool SetExpireAt(std::string_view, std::int64_t) override { return false; }
    std::uint64_t KeyCount() override { return 0; }
    std::uint64_t Scan(std::uint64_t, std::size_t, std::vector<std::string>*) override { return 0; }
    std::optional<std::string> RandomKey() override { return std::nullopt; }
    void Clear() override {}
  } local;
  constexpr std::int64_t kNow = 1'000'000;
  std::int64_t ts = 100;
  // One command's effect on `set` through `node` as the write path makes it: the handler's
  // operations (or a delete) over a snapshot of `set`, the delta joined back in.
  auto write = [&](cluster::SiblingSet& set, const std::string& node,
                   const std::vector<std::string>& ops, bool del) {
    SnapshotKeyspace snapshot(local, kNow, &codec);
    snapshot.Load("k", set);
    std::int64_t result = 0;
    for (const std::string& op : ops) REQUIRE(snapshot.Mutate("k", op, &result).ok());
    if (del) REQUIRE(snapshot.Delete("k"));
    cluster::Version version = set.NewVersion(cluster::VectorClock(), node, ts += 10);
    REQUIRE(
        MakeCollectionVersion(set, snapshot.keys().find("k")->second, node + "/a", kNow, &version));
    set.Add(version);
    return version;
  };
  auto values = [&](const cluster::SiblingSet& set) {
    SnapshotKeyspace snapshot(local, kNow, &codec);
    snapshot.Load("k", set);
    const auto& state = snapshot.keys().find("k")->second;
    if (!state.exists) return Strings{};
    return ValuesOf(*static_cast<const types::List*>(state.object.get()));
  };
  cluster::SiblingSet a;
  write(a, "n1", {Op(types::OpCode::kListPushBack, {"x", "y"})}, false);
  cluster::SiblingSet b = a;
  const cluster::Version pushed = write(b, "n2", {Op(types::OpCode::kListPushFront, {"w"})}, false);
  // n1 pops x and deletes the list it saw; n2's concurrent push of w survives both.
  write(a, "n1", {Op(types::OpCode::kListPopFront, {"1"})}, false);
  CHECK(values(a) == Strings{"y"});
  write(a, "n1", {}, true);
  CHECK(values(a).empty());
  a.Add(pushed);
  b.Merge(a);
  CHECK(values(a) == Strings{"w"});
  CHECK(values(b) == Strings{"w"});
  CHECK(a.Encode() == b.Encode());
  const cluster::Version* v = FindCollection(a);
  REQUIRE(v != nullptr);
  cluster::CollectionState state;
  REQUIRE(cluster::CollectionState::Decode(v->value, &state));
  CHECK(state.kind() == cluster::CollectionState::Kind::kList);
}

}  // namespace dynakv::server
