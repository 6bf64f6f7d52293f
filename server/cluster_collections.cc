#include "cluster_collections.h"

#include <utility>

#include "client.h"
#include "clock.h"
#include "cluster/collection_state.h"
#include "cluster_executor.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"
#include "types/ops.h"
#include "types/set.h"

namespace dynakv::server {

namespace {

bool NameIs(const CommandSpec& spec, std::string_view name) { return spec.name == name; }

// Applies one recorded element operation to `observed`, adding what it changed to `delta`.
// False for an operation that is not a set's (the key changed type within the command).
bool ApplyOp(std::string_view op, std::string_view actor, cluster::CollectionState* observed,
             cluster::CollectionState* delta) {
  types::Op parsed;
  if (!types::ParseOp(op, &parsed)) return false;
  crdt::ORSet& set = observed->set();
  switch (parsed.code) {
    case types::OpCode::kSetAdd:
      // A member already here gets a new dot too (replacing its old ones): a remove elsewhere
      // that saw only the old dots must not take away an add that was acknowledged after them.
      for (std::string_view member : parsed.args) delta->set().Join(set.Add(actor, member));
      return true;
    case types::OpCode::kSetRem:
      for (std::string_view member : parsed.args) delta->set().Join(set.Remove(member));
      return true;
    default:
      return false;
  }
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
                           std::int64_t now_ms, cluster::Version* version) {
  const auto* result = dynamic_cast<const types::Set*>(state.object.get());
  if (state.exists && result == nullptr) return false;  // a string or another type: whole value
  const cluster::Version* current = FindCollection(observed);
  if (!state.exists && current == nullptr) return false;  // a plain delete
  cluster::CollectionState seen;
  if (current != nullptr) cluster::CollectionState::Decode(current->value, &seen);  // checked
  cluster::CollectionState delta;
  auto stamp = [&](std::int64_t expire_at_ms) {
    delta.expiry() = {version->timestamp_us, version->origin_node, expire_at_ms};
  };
  const cluster::Version* winner = observed.Resolve();
  // Whether the command ran over the collection's elements (else over another value, or none).
  const bool built_on = current != nullptr && winner == current && current->IsLive(now_ms);
  if (!built_on || state.replaced) {
    // DEL, a STORE, a write after expiry, or the first write over a plain (typed) set: the
    // elements the writer saw go, the result's are added, the expiry is the result's.
    delta.set().Join(seen.set().Reset());
    if (state.exists) {
      result->ForEach(
          [&](std::string_view member) { delta.set().Join(seen.set().Add(actor, member)); });
    }
    stamp(state.exists ? state.expire_at_ms : 0);
  } else {
    for (const std::string& op : state.ops) {
      if (!ApplyOp(op, actor, &seen, &delta)) return false;
    }
    if (state.exists && state.expire_at_ms != seen.expiry().expire_at_ms) {
      stamp(state.expire_at_ms);  // EXPIRE, PERSIST
    }
  }
  version->value = delta.Encode();
  return cluster::NormalizeCollectionVersion(version);
}

ClusterCollections::ClusterCollections(Server& server, ClusterExecutor& executor,
                                       cluster::ClusterNode& node)
    : server_(server), executor_(executor), node_(node) {}

bool ClusterCollections::IsCollectionCommand(const CommandSpec& spec) {
  return NameIs(spec, "sadd") || NameIs(spec, "srem") || NameIs(spec, "spop");
}

void ClusterCollections::Apply(Client& client, const CommandSpec& spec,
                               const std::vector<std::string>& argv,
                               const cluster::ConsistencyLevel& write, const std::string& actor,
                               std::function<void(std::string)> done) {
  const std::string& key = argv[1];
  cluster::SiblingSet set = node_.LocalSiblings(key);
  const std::int64_t now = NowMs();
  SnapshotKeyspace snapshot(server_.keyspace(), now, server_.codec());
  snapshot.Load(key, set);
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
  if (!MakeCollectionVersion(set, after->second, actor, now, &version)) {
    // Not a set any more within one command: cannot happen for SADD/SREM/SPOP; refuse safely.
    done("-ERR the command's result is not a set\r\n");
    return;
  }
  cluster::SiblingSet delta;
  delta.Add(version);
  set.Add(std::move(version));
  // In this node's log file before it goes anywhere, not only in the log buffer the loop flushes
  // at the end of its iteration: killed in between, the node would come back without the dot
  // that the other replicas hold, give it to its next add, and the two members tagged with one
  // dot would remove each other on the next merge (test_cluster_sets' kill -9 test).
  if (const std::string error = node_.PutLocal(key, set); !error.empty()) {
    done("-" + error + "\r\n");
    return;
  }
  if (const storage::Status status = server_.engine().FlushLog(); !status.ok()) {
    done("-ERR this replica could not store the write: " + status.ToString() + "\r\n");
    return;
  }
  node_.Write(key, std::move(delta), write,
              [reply = std::move(reply), done = std::move(done)](cluster::WriteResult result) {
                done(result.ok ? reply : "-" + result.error + "\r\n");
              });
}

}  // namespace dynakv::server
