#include "cluster_zsets.h"

#include "ascii.h"
#include "crdt/hll_registers.h"
#include "crdt/hyperloglog.h"
#include "zset_util.h"

namespace dynakv::server {

namespace {

using Kind = cluster::CollectionState::Kind;

// ZADD's options, as ZAddGeneric reads them: the index of the first score.
std::size_t ZAddScoreIndex(const std::vector<std::string>& argv, bool* incr) {
  static constexpr std::string_view kOptions[] = {"nx", "xx", "ch", "gt", "lt"};
  std::size_t i = 2;
  for (; i < argv.size(); ++i) {
    if (EqualsIgnoreCase(argv[i], "incr")) {
      *incr = true;
      continue;
    }
    bool option = false;
    for (std::string_view name : kOptions) option = option || EqualsIgnoreCase(argv[i], name);
    if (!option) break;
  }
  return i;
}

}  // namespace

bool ParseScoreIncrement(const CommandSpec& spec, const std::vector<std::string>& argv,
                         ScoreIncrement* increment) {
  if (!(spec.flags & kCmdClusterCounter) || !(spec.acl & kAclSortedSet)) return false;
  std::size_t at = 2;  // ZINCRBY key increment member: the counter row of fixed arity
  if (spec.arity < 0) {
    // ZADD key [options] score member ...: an increment with INCR (one score and member) only.
    bool incr = false;
    at = ZAddScoreIndex(argv, &incr);
    if (!incr || at + 2 != argv.size()) return false;
  } else if (argv.size() != 4) {
    return false;
  }
  double by = 0;
  if (!ParseScore(argv[at], &by)) return false;
  increment->by = by;
  increment->member = argv[at + 1];
  return true;
}

bool ZsetOpToDelta(const types::Op& op, std::string_view actor, std::int64_t timestamp_us,
                   const ScoreIncrement* increment, cluster::CollectionState* seen,
                   cluster::CollectionState* delta) {
  if (seen->kind() != Kind::kZset) return false;
  switch (op.code) {
    case types::OpCode::kZsetAdd:
      if (op.args.size() % 2 != 0) return false;
      for (std::size_t i = 0; i < op.args.size(); i += 2) {
        double score = 0;
        if (!types::DecodeScoreArg(op.args[i], &score)) return false;
        const std::string_view member = op.args[i + 1];
        if (increment != nullptr && (increment->every_member || member == increment->member)) {
          // ZINCRBY: the actor's total grows by the increment, whatever the result it computed,
          // so increments made concurrently through other replicas all count.
          const double by = increment->every_member
                                ? score - seen->zset().Score(member).value_or(0.0)
                                : increment->by;
          double result = 0;
          crdt::ORSortedSet part;
          if (!seen->zset().IncrBy(actor, member, by, &result, &part)) return false;
          delta->zset().Join(part);
        } else {
          delta->zset().Join(seen->zset().Add(actor, member, timestamp_us, score));
        }
      }
      return true;
    case types::OpCode::kZsetRem:
      for (std::string_view member : op.args) delta->zset().Join(seen->zset().Remove(member));
      return true;
    default:
      return false;
  }
}

void ZsetEntriesToDelta(const types::SortedSet& result, std::string_view actor,
                        std::int64_t timestamp_us, const ScoreIncrement* increment,
                        cluster::CollectionState* seen, cluster::CollectionState* delta) {
  result.Walk(0, false, [&](std::string_view member, double score) {
    // ZINCRBY creating the member (its score is the increment alone): a total, not a score, so
    // two nodes creating the key concurrently by ZINCRBY of one member both count. An increment
    // over a plain value's member assigns the result.
    if (increment != nullptr &&
        (increment->every_member || (member == increment->member && score == increment->by))) {
      double unused = 0;
      crdt::ORSortedSet part;
      if (seen->zset().IncrBy(actor, member, score, &unused, &part)) {
        delta->zset().Join(part);
        return true;
      }
    }
    delta->zset().Join(seen->zset().Add(actor, member, timestamp_us, score));
    return true;
  });
}

bool IsHllWrite(const cluster::SiblingSet& observed, const SnapshotKeyspace::KeyState& state) {
  if (state.exists) {
    crdt::HllRegisters unused;
    return state.object == nullptr && crdt::hll::LooksValid(state.value) &&
           crdt::HllRegisters::FromRedis(state.value, &unused);
  }
  // A delete: of an HLL when the collection its writer saw is one.
  for (const cluster::Version& version : observed.versions()) {
    Kind kind;
    if (version.collection && cluster::CollectionState::PeekKind(version.value, &kind)) {
      return kind == Kind::kHll;
    }
  }
  return false;
}

bool MakeHllVersion(const cluster::SiblingSet& observed, const SnapshotKeyspace::KeyState& state,
                    std::int64_t now_ms, cluster::Version* version) {
  const cluster::Version* current = nullptr;
  cluster::CollectionState seen(Kind::kHll);
  for (const cluster::Version& v : observed.versions()) {
    cluster::CollectionState decoded;
    if (v.collection && cluster::CollectionState::Decode(v.value, &decoded) &&
        decoded.kind() == Kind::kHll) {
      current = &v;
      seen = std::move(decoded);
      break;
    }
  }
  if (!state.exists && current == nullptr) return false;  // a plain delete
  crdt::HllRegisters result;
  if (state.exists && !crdt::HllRegisters::FromRedis(state.value, &result)) return false;
  cluster::CollectionState delta(Kind::kHll);
  auto stamp = [&](std::int64_t expire_at_ms) {
    delta.expiry() = {version->timestamp_us, version->origin_node, expire_at_ms};
  };
  // What the writer saw of the HLL: registers to keep or to replace. An HLL deleted in its
  // epoch has none: writes after the delete raise that epoch's registers, so two of them made
  // concurrently through different nodes both count.
  const bool had = current != nullptr && seen.hll().exists();
  bool lowers = false;
  if (state.exists && had) {
    const crdt::HllRegisters& before = seen.hll().registers();
    for (int i = 0; i < crdt::HllRegisters::kRegisters && !lowers; ++i) {
      lowers = result.at(i) < before.at(i);
    }
  }
  if (!state.exists) {
    // DEL (or an expiry set in the past): a new epoch, which wins over concurrent writes.
    delta.hll() = seen.hll().Reset(version->timestamp_us, version->origin_node, nullptr);
    stamp(0);
  } else if (had && !current->IsLive(now_ms)) {
    // A write after expiry: the expired registers go. Its epoch is a function of what expired,
    // so writes after the same expiry through different nodes land in one epoch and all count.
    delta.hll() = seen.hll().Reset(current->expire_at_ms * 1000, "expiry", &result);
    stamp(state.expire_at_ms);
  } else if (had && (observed.Resolve() != current || lowers)) {
    // The command ran over another value than the HLL (a plain string sibling that won), or
    // replaced it (a SET of other HLL bytes): the registers it saw go.
    delta.hll() = seen.hll().Reset(version->timestamp_us, version->origin_node, &result);
    stamp(state.expire_at_ms);
  } else {
    // PFADD, PFMERGE, or the first HLL write of the key (in the first epoch: two nodes creating
    // it concurrently both count).
    delta.hll() = seen.hll().Raise(result);
    if (state.expire_at_ms != seen.expiry().expire_at_ms) stamp(state.expire_at_ms);
  }
  version->value = delta.Encode();
  return cluster::NormalizeCollectionVersion(version);
}

}  // namespace dynakv::server
