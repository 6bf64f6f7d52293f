#include "cluster_collections.h"

#include <utility>

#include "client.h"
#include "clock.h"
#include "cluster/collection_state.h"
#include "cluster_executor.h"
#include "cluster_lists.h"
#include "cluster_zsets.h"
#include "number_parse.h"
#include "own_actor.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/ops.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::server {

namespace {

// The increment that took `field` of `map` (absent: 0) to `value`: false when either is not an
// integer or the difference overflows.
bool FieldChange(const crdt::AddWinsMap& map, std::string_view field, std::string_view value,
                 std::int64_t* by) {
  std::int64_t after = 0, before = 0;
  if (!crdt::ParseRedisInteger(value, &after)) return false;
  if (const std::optional<std::string> current = map.Get(field);
      current.has_value() && !crdt::ParseRedisInteger(*current, &before)) {
    return false;
  }
  return !__builtin_sub_overflow(after, before, by);
}

// Applies one recorded element operation to `observed`, adding what it changed to `delta`.
// False for an operation that is not of the state's kind (the key changed type within the
// command).
bool ApplyOp(std::string_view op, std::string_view actor, std::int64_t timestamp_us,
             const HashIncrement* increment, const ScoreIncrement* score_increment,
             cluster::CollectionState* observed, cluster::CollectionState* delta) {
  types::Op parsed;
  if (!types::ParseOp(op, &parsed)) return false;
  if (observed->kind() == cluster::CollectionState::Kind::kList) {
    return ApplyListOp(parsed, actor, &observed->list(), &delta->list());  // cluster_lists.h
  }
  if (observed->kind() == cluster::CollectionState::Kind::kZset) {
    return ZsetOpToDelta(parsed, actor, timestamp_us, score_increment, observed, delta);
  }
  const bool set = observed->kind() == cluster::CollectionState::Kind::kSet;
  switch (parsed.code) {
    case types::OpCode::kSetAdd:
      if (!set) return false;
      // A member already here gets a new dot too (replacing its old ones): a remove elsewhere
      // that saw only the old dots must not take away an add that was acknowledged after them.
      for (std::string_view member : parsed.args) {
        delta->set().Join(observed->set().Add(actor, member));
      }
      return true;
    case types::OpCode::kSetRem:
      if (!set) return false;
      for (std::string_view member : parsed.args) {
        delta->set().Join(observed->set().Remove(member));
      }
      return true;
    case types::OpCode::kHashSet:
      if (set || parsed.args.size() % 2 != 0) return false;
      for (std::size_t i = 0; i < parsed.args.size(); i += 2) {
        const std::string_view field = parsed.args[i];
        if (increment != nullptr && (increment->every_field || field == increment->field)) {
          // HINCRBY: an increment of this actor's total in the field, not the value it computed,
          // so concurrent increments through other nodes all count.
          std::int64_t by = increment->by;
          if (increment->every_field &&
              !FieldChange(observed->map(), field, parsed.args[i + 1], &by)) {
            return false;
          }
          std::int64_t result = 0;
          crdt::AddWinsMap part;
          if (observed->map().IncrBy(actor, field, by, &result, &part) !=
              crdt::AddWinsMap::IncrStatus::kOk) {
            return false;
          }
          delta->map().Join(part);
        } else {
          delta->map().Join(observed->map().Set(actor, field, timestamp_us, parsed.args[i + 1]));
        }
      }
      return true;
    case types::OpCode::kHashDel:
      if (set) return false;
      for (std::string_view field : parsed.args) delta->map().Join(observed->map().Remove(field));
      return true;
    default:
      return false;
  }
}

// HINCRBY over a hash the command did not build on (a new key, one that expired, a plain typed
// hash): the field's result `value` is written as its base (the value before the increment, as
// a register, left out when 0) plus this actor's total `by`, never as one assignment of the
// result. Two nodes creating the hash concurrently by HINCRBY of one field (each copy still
// without the key) would otherwise write two registers, and the field would read as one of
// them: one increment lost (the three-node hammer's lost increment).
bool AddIncrementedField(std::string_view actor, std::int64_t timestamp_us,
                         const HashIncrement& increment, std::string_view value,
                         cluster::CollectionState* seen, cluster::CollectionState* delta) {
  std::int64_t result = 0;
  if (!crdt::ParseRedisInteger(value, &result)) return false;
  const std::int64_t base =
      static_cast<std::int64_t>(static_cast<std::uint64_t>(result) - increment.by);
  if (base != 0) {
    delta->map().Join(seen->map().Set(actor, increment.field, timestamp_us, std::to_string(base)));
  }
  std::int64_t incremented = 0;
  crdt::AddWinsMap part;
  if (seen->map().IncrBy(actor, increment.field, increment.by, &incremented, &part) !=
          crdt::AddWinsMap::IncrStatus::kOk ||
      incremented != result) {
    return false;
  }
  delta->map().Join(part);
  return true;
}

// The kind of collection a command's result is, if it is one.
bool KindOf(const storage::ValueObject* object, cluster::CollectionState::Kind* kind) {
  if (dynamic_cast<const types::Set*>(object) != nullptr) {
    *kind = cluster::CollectionState::Kind::kSet;
  } else if (dynamic_cast<const types::Hash*>(object) != nullptr) {
    *kind = cluster::CollectionState::Kind::kHash;
  } else if (dynamic_cast<const types::List*>(object) != nullptr) {
    *kind = cluster::CollectionState::Kind::kList;
  } else if (dynamic_cast<const types::SortedSet*>(object) != nullptr) {
    *kind = cluster::CollectionState::Kind::kZset;
  } else {
    return false;
  }
  return true;
}

}  // namespace

const cluster::Version* FindCollection(const cluster::SiblingSet& set) {
  for (const cluster::Version& version : set.versions()) {
    if (version.collection) return &version;
  }
  return nullptr;
}

bool MakeCollectionVersion(const cluster::SiblingSet& observed,
                           const SnapshotKeyspace::KeyState& state, std::string_view actor,
                           std::int64_t now_ms, cluster::Version* version,
                           const HashIncrement* increment, const ScoreIncrement* score_increment,
                           DecodedCollection* decoded_by_caller) {
  using Kind = cluster::CollectionState::Kind;
  // A HyperLogLog is a string: its own rules (cluster_zsets.h).
  if (IsHllWrite(observed, state)) return MakeHllVersion(observed, state, now_ms, version);
  Kind kind = Kind::kSet;
  // A string or another type: a whole value.
  if (state.exists && !KindOf(state.object.get(), &kind)) return false;
  const cluster::Version* current = nullptr;
  cluster::CollectionState seen(kind);
  for (const cluster::Version& v : observed.versions()) {
    cluster::CollectionState decoded;
    if (decoded_by_caller != nullptr && &v == decoded_by_caller->version) {
      decoded = std::move(decoded_by_caller->state);
    } else if (!v.collection || !cluster::CollectionState::Decode(v.value, &decoded)) {
      continue;
    }
    // A delete removes the collection the writer saw; a result of one kind builds on that kind.
    if (!state.exists || decoded.kind() == kind) {
      current = &v;
      seen = std::move(decoded);
      break;
    }
  }
  if (!state.exists && current == nullptr) return false;  // a plain delete
  kind = seen.kind();  // a delete's is the collection's it removes
  cluster::CollectionState delta(kind);
  auto stamp = [&](std::int64_t expire_at_ms) {
    delta.expiry() = {version->timestamp_us, version->origin_node, expire_at_ms};
  };
  const cluster::Version* winner = observed.Resolve();
  // Whether the command ran over the collection's elements (else over another value, or none).
  const bool built_on = current != nullptr && winner == current && current->IsLive(now_ms);
  if (!built_on || state.replaced) {
    // DEL, a STORE, a write after expiry, or the first write over a plain (typed) value: the
    // elements the writer saw go, the result's are added, the expiry is the result's.
    if (kind == Kind::kList) {
      delta.list().Join(seen.list().Reset());
      if (state.exists) {
        PushList(*static_cast<const types::List*>(state.object.get()), actor, &seen.list(),
                 &delta.list());
      }
    } else if (kind == Kind::kSet) {
      delta.set().Join(seen.set().Reset());
    } else if (kind == Kind::kZset) {
      delta.zset().Join(seen.zset().Reset());
    } else {
      delta.map().Join(seen.map().Reset());
    }
    if (state.exists && kind == Kind::kZset) {
      ZsetEntriesToDelta(*static_cast<const types::SortedSet*>(state.object.get()), actor,
                         version->timestamp_us, score_increment, &seen, &delta);
    } else if (state.exists && kind == Kind::kSet) {
      static_cast<const types::Set*>(state.object.get())->ForEach([&](std::string_view member) {
        delta.set().Join(seen.set().Add(actor, member));
      });
    } else if (state.exists && kind == Kind::kHash) {
      bool ok = true;
      static_cast<const types::Hash*>(state.object.get())
          ->ForEach([&](std::string_view field, std::string_view value) {
            if (increment != nullptr && (increment->every_field || field == increment->field)) {
              HashIncrement each = *increment;  // every_field: the whole value, over no field
              if (each.every_field) {
                each.field = field;
                ok = ok && crdt::ParseRedisInteger(value, &each.by);
              }
              ok = ok &&
                   AddIncrementedField(actor, version->timestamp_us, each, value, &seen, &delta);
            } else {
              delta.map().Join(seen.map().Set(actor, field, version->timestamp_us, value));
            }
          });
      if (!ok) return false;
    }
    stamp(state.exists ? state.expire_at_ms : 0);
  } else {
    for (const std::string& op : state.ops) {
      if (!ApplyOp(op, actor, version->timestamp_us, increment, score_increment, &seen, &delta)) {
        return false;
      }
    }
    if (state.exists && state.expire_at_ms != seen.expiry().expire_at_ms) {
      stamp(state.expire_at_ms);  // EXPIRE, PERSIST
    }
  }
  version->value = delta.Encode();
  return cluster::NormalizeCollectionVersion(version);
}

ClusterCollections::ClusterCollections(Server& server, ClusterExecutor& executor,
                                       cluster::ClusterNode& node, OwnActor& own)
    : server_(server), executor_(executor), node_(node), own_(own) {}

bool ClusterCollections::IsCollectionCommand(const CommandSpec& spec) {
  // Rows flagged kCmdClusterConvergent. HINCRBY runs as a counter increment of the field
  // (HashIncrement); HINCRBYFLOAT assigns its result (last-write-wins on the field).
  return (spec.flags & kCmdClusterConvergent) != 0;
}

const std::string* ClusterCollections::KeyOf(const CommandSpec& spec,
                                             const std::vector<std::string>& argv) {
  // The legacy range names one key at a fixed place for all of these but ZMPOP, whose keys follow
  // a count: its key specs find them.
  if (spec.keys.first > 0 && spec.keys.last == spec.keys.first) {
    return argv.size() > static_cast<std::size_t>(spec.keys.first) ? &argv[spec.keys.first]
                                                                   : nullptr;
  }
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  std::vector<KeyRef> keys;
  return GetKeys(spec, views, &keys) == 1 ? &argv[keys.front().pos] : nullptr;
}

bool ClusterCollections::RunsOnPrimary(const CommandSpec& spec) {
  return (spec.flags & kCmdClusterOnPrimary) != 0;
}

void ClusterCollections::Apply(Client& client, const CommandSpec& spec,
                               const std::vector<std::string>& argv,
                               const cluster::ConsistencyLevel& write, const std::string& actor,
                               const WriteRecorder& record, std::function<void(std::string)> done) {
  const std::string& key = *KeyOf(spec, argv);  // the caller checked there is one
  cluster::SiblingSet set = node_.LocalSiblings(key);
  const std::int64_t now = NowMs();
  // The copy's collection decoded once, for the command's typed value and for the delta.
  DecodedCollection decoded;
  decoded.version = FindCollection(set);
  if (decoded.version != nullptr &&
      !cluster::CollectionState::Decode(decoded.version->value, &decoded.state)) {
    decoded.version = nullptr;
  }
  SnapshotKeyspace snapshot(server_.keyspace(), now, server_.codec());
  snapshot.Load(key, set, &decoded);
  std::string reply;
  resp::ReplyWriter writer(&reply, client.protocol());
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  CommandContext ctx{server_, client, views, writer, snapshot, nullptr};
  spec.handler(ctx);
  const auto after = snapshot.keys().find(key);
  if (after == snapshot.keys().end() || !after->second.changed) {
    done(std::move(reply));  // refused, or nothing changed (SADD of members all there)
    return;
  }
  // The delta's clock is what it replaces besides the collection: the other values the key held
  // here (a string, a plain set), which the command's write supersedes. The collection's own
  // history comes with the join wherever the delta lands.
  cluster::VectorClock context;
  for (const cluster::Version& version : set.versions()) {
    if (!version.collection) context.Merge(version.History());
  }
  cluster::Version version = executor_.NewVersion(&set, context);
  HashIncrement increment;
  // HINCRBY: the field's counter (HINCRBYFLOAT assigns its result, last-write-wins on the field).
  const bool incr = (spec.flags & kCmdClusterCounter) && (spec.acl & kAclHash);
  if (incr) {
    increment.field = argv[2];
    long long by = 0;
    ParseLongLong(argv[3], &by);  // the handler accepted it
    increment.by = by;
  }
  ScoreIncrement score_increment;
  const bool zincr = ParseScoreIncrement(spec, argv, &score_increment);
  if (!MakeCollectionVersion(set, after->second, actor, now, &version, incr ? &increment : nullptr,
                             zincr ? &score_increment : nullptr, &decoded)) {
    if (after->second.exists) {
      // Not a collection any more within one command: cannot happen for these; refuse safely.
      done("-ERR the command's result is not a convergent collection\r\n");
      return;
    }
    // The command emptied, so deleted, a plain typed value: one written before the key was a
    // convergent collection (an RDB import's, a REPLICAOF full sync's). A plain delete of what
    // it saw, as DEL writes.
    version.tombstone = true;
    version.collection = false;
    version.typed = false;
    version.value.clear();
  }
  cluster::SiblingSet delta;
  delta.Add(std::move(version));
  // In this node's log file before it goes anywhere, not only in the log buffer the loop flushes
  // at the end of its iteration: killed in between, the node would come back without the dot
  // that the other replicas hold, give it to its next add, and the two members tagged with one
  // dot would remove each other on the next merge (test_cluster_sets' kill -9 test; a log write
  // that fails: own_actor.h). The delta, not the merged set: the replica logs what it is given
  // (a join, stored_siblings.h), and the join of the delta into this copy is the merged set.
  if (const std::string error = own_.Store(key, delta); !error.empty()) {
    done("-" + error + "\r\n");
    return;
  }
  node_.Write(
      key, std::move(delta), write,
      [reply = std::move(reply), done = std::move(done)](cluster::WriteResult result) {
        done(result.ok ? reply : "-" + result.error + "\r\n");
      },
      NewTrackedWrite(record));
}

}  // namespace dynakv::server
