#include "cluster_executor.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "client.h"
#include "clock.h"
#include "cluster_collections.h"
#include "cluster_counters.h"
#include "command_util.h"
#include "cross_slot.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "snapshot_keyspace.h"
#include "types/codec.h"

namespace dynakv::server {

struct ClusterExecutor::Operation {
  std::uint64_t client_id = 0;
  const CommandSpec* spec = nullptr;  // nullptr for VGET / VSET and RunAtomic
  AtomicBody body;                    // RunAtomic's
  std::vector<std::string> args;      // the request, owned: the client's buffer moves on
  std::vector<std::string> keys;      // distinct, in the order the request names them
  std::vector<cluster::SiblingSet> sets;  // per key: as read, or this node's copy (blind)
  cluster::ConsistencyLevel read_level;
  cluster::ConsistencyLevel write_level;
  bool blind = false;
  bool lock = false;  // takes the key locks before reading
  bool locked = false;
  bool in_run = true;  // still inside the call that started it: the reply goes out directly
  bool done = false;
  std::size_t pending = 0;  // replica requests not answered yet
  std::string reply;        // held back until every write succeeded
  bool reply_cut = false;   // the reply passed the client's output limit and was cut short
  std::string error;        // the first failure
  Client* runner = nullptr;  // RunDetached: the handler's client, and where the reply goes
  std::function<void(std::string reply)> detached_done;
  bool serial = false;        // SERIAL / LOCAL_SERIAL: one Paxos round (RunSerial)
  bool local_serial = false;
  std::vector<std::string> attempt_replies;  // SERIAL: the reply of each compute call
  std::vector<bool> attempt_wrote;           // ... and whether it changed the key
  // Counts the command's writes for WAIT: its client's last write, or a forwarded command's
  // (RunDetached's caller says); empty: not counted.
  WriteRecorder record;
};

ClusterExecutor::ClusterExecutor(Server& server, cluster::ClusterNode& node)
    : server_(server), node_(node), waits_(server, node) {}

ClusterExecutor::~ClusterExecutor() = default;

cluster::ConsistencyLevel ClusterExecutor::ReadLevel(const Client& client,
                                                     const RequestLevels* request) const {
  if (request != nullptr && request->read) return *request->read;
  if (client.read_level()) return *client.read_level();
  return server_.config().cluster_read_consistency;
}

cluster::ConsistencyLevel ClusterExecutor::WriteLevel(const Client& client,
                                                      const RequestLevels* request) const {
  if (request != nullptr && request->write) return *request->write;
  if (client.write_level()) return *client.write_level();
  return server_.config().cluster_write_consistency;
}

Client* ClusterExecutor::LiveClient(std::uint64_t id) {
  Client* client = server_.FindClient(id);
  return client != nullptr && !client->closing() ? client : nullptr;
}

void ClusterExecutor::Run(const CommandContext& ctx, const CommandSpec& spec) {
  OperationPtr op = NewOperation(ctx.client);
  op->spec = &spec;
  op->args.assign(ctx.argv.begin(), ctx.argv.end());
  op->keys = CommandKeys(spec, ctx.argv);
  op->read_level = ReadLevel(ctx.client, ctx.levels);
  op->write_level = WriteLevel(ctx.client, ctx.levels);
  op->blind = spec.blind != nullptr && spec.blind(ctx.argv);
  op->lock = (spec.flags & kCmdWrite) != 0;
  const bool explicit_write = (ctx.levels != nullptr && ctx.levels->write) ||
                              ctx.client.write_level().has_value();
  const auto& conditional = server_.config().cluster_conditional_write_consistency;
  if (!explicit_write && conditional && spec.conditional != nullptr &&
      spec.conditional(ctx.argv)) {
    op->write_level = *conditional;
  }
  const cluster::ConsistencyLevel& level =
      (spec.flags & kCmdWrite) != 0 ? op->write_level : op->read_level;
  if (cluster::IsSerial(level)) {
    op->serial = true;
    op->local_serial = level.kind == cluster::ConsistencyLevel::Kind::kLocalSerial;
    op->blind = false;
    op->lock = true;  // this node's other writes of the key wait (paxos_proposer.h)
  }
  Start(op);
  Started(op, ctx.client);
}

cluster::ConsistencyLevel ClusterExecutor::AtomicLevel(const Client& client) const {
  if (client.write_level()) return *client.write_level();
  const auto& conditional = server_.config().cluster_conditional_write_consistency;
  if (conditional) return *conditional;
  return server_.config().cluster_write_consistency;
}

void ClusterExecutor::RunAtomic(Client& client, std::vector<std::string> keys, AtomicBody body,
                                bool may_serial) {
  OperationPtr op = NewOperation(client);
  op->keys = std::move(keys);
  op->body = std::move(body);
  op->read_level = ReadLevel(client, nullptr);
  op->write_level = WriteLevel(client, nullptr);
  // Even a body that only reads locks: a WATCH check and the writes it guards are one step.
  op->lock = !op->keys.empty();
  if (may_serial && !op->keys.empty()) {
    const cluster::ConsistencyLevel level = AtomicLevel(client);
    if (cluster::IsSerial(level)) {
      op->serial = true;
      op->local_serial = level.kind == cluster::ConsistencyLevel::Kind::kLocalSerial;
    }
  }
  Start(op);
  Started(op, client);
}

void ClusterExecutor::RunDetached(Client& runner, const CommandSpec& spec,
                                  std::vector<std::string> argv,
                                  const cluster::ConsistencyLevel& read,
                                  const cluster::ConsistencyLevel& write,
                                  std::function<void(std::string reply)> done,
                                  WriteRecorder record) {
  auto op = std::make_shared<Operation>();
  operations_.insert(op);
  op->record = std::move(record);
  op->runner = &runner;
  op->detached_done = std::move(done);
  op->in_run = false;
  op->spec = &spec;
  op->args = std::move(argv);
  op->keys = CommandKeys(spec, std::vector<std::string_view>(op->args.begin(), op->args.end()));
  op->read_level = read;
  op->write_level = write;
  op->lock = (spec.flags & kCmdWrite) != 0;
  const cluster::ConsistencyLevel& level = op->lock ? write : read;
  if (cluster::IsSerial(level)) {
    op->serial = true;
    op->local_serial = level.kind == cluster::ConsistencyLevel::Kind::kLocalSerial;
    op->lock = true;
  }
  Start(op);
}

bool ClusterExecutor::HoldsReplicas(const std::vector<std::string>& keys) const {
  return std::all_of(keys.begin(), keys.end(),
                     [&](const std::string& key) { return node_.IsReplicaOf(key); });
}

void ClusterExecutor::Start(const OperationPtr& op) {
  // This node's copy stands in for a read only where it keeps one: elsewhere every blind write
  // would start from nothing and pile up as a new sibling.
  if (op->blind && !HoldsReplicas(op->keys)) op->blind = false;
  if (op->blind) {
    for (const std::string& key : op->keys) op->sets.push_back(node_.LocalSiblings(key));
    Execute(op);
    return;
  }
  if (op->lock) {
    op->locked = true;
    std::weak_ptr<Operation> weak = op;
    locks_.Acquire(op->keys, [this, weak] {
      if (OperationPtr locked = weak.lock()) ReadKeys(locked);
    });
    return;
  }
  ReadKeys(op);
}

void ClusterExecutor::ReadKeys(const OperationPtr& op) {
  if (op->serial) {
    if (op->body) {
      RunSerialAtomic(op);
    } else {
      RunSerial(op);
    }
    return;
  }
  if (op->keys.empty()) {  // nothing to wait for (the dispatcher's arity checks make this rare)
    Execute(op);
    return;
  }
  op->sets.resize(op->keys.size());
  op->pending = op->keys.size();
  std::weak_ptr<Operation> weak = op;
  for (std::size_t i = 0; i < op->keys.size(); ++i) {
    node_.Read(op->keys[i], op->read_level, [this, weak, i](cluster::ReadResult result) {
      OperationPtr op = weak.lock();
      if (!op) return;
      if (!result.ok) {
        if (op->error.empty()) op->error = std::move(result.error);
      } else {
        op->sets[i] = std::move(result.siblings);
      }
      if (--op->pending > 0) return;
      if (!op->error.empty()) {
        Complete(op, {}, op->error);
      } else {
        Execute(op);
      }
    });
  }
}

void ClusterExecutor::Execute(const OperationPtr& op) {
  Client* client = op->runner != nullptr ? op->runner : LiveClient(op->client_id);
  if (client == nullptr) {  // nobody to answer: the command is dropped unapplied
    Complete(op, {}, {});
    return;
  }
  SnapshotKeyspace snapshot(server_.keyspace(), NowMs(), server_.codec());
  for (std::size_t i = 0; i < op->keys.size(); ++i) snapshot.Load(op->keys[i], op->sets[i]);
  const std::vector<std::string_view> argv(op->args.begin(), op->args.end());
  resp::ReplyWriter writer(&op->reply, client->protocol());
  // The client's output limit holds here too: the reply is built no further than it has room.
  const std::size_t room = client->reply().room();
  if (room != SIZE_MAX) writer.set_limit(std::max<std::size_t>(room, 1));
  if (op->body) {
    AtomicView view{*client, snapshot, op->keys, op->sets, writer};
    op->body(view);
  } else {
    CommandContext ctx{server_, *client, argv, writer, snapshot, nullptr};
    op->spec->handler(ctx);
  }
  op->reply_cut = writer.over_limit();

  std::vector<std::pair<const std::string*, const SnapshotKeyspace::KeyState*>> changed;
  for (const auto& [key, state] : snapshot.keys()) {
    if (state.changed) changed.emplace_back(&key, &state);
  }
  if (changed.empty()) {
    Complete(op, op->reply, {});
    return;
  }
  // A transaction's or script's keys (one hash tag) go to each replica as one batch, stored
  // there as one atomic group: no replica ever holds half of one.
  std::vector<cluster::KeyedSet> batch;
  op->pending = op->body ? 1 : changed.size();
  for (const auto& [key, state] : changed) {
    const auto it = std::find(op->keys.begin(), op->keys.end(), *key);
    cluster::SiblingSet set;
    if (it == op->keys.end()) {
      set = node_.LocalSiblings(*key);  // not a declared key: written blind
    } else {
      set = std::move(op->sets[static_cast<std::size_t>(it - op->keys.begin())]);
    }
    AddVersion(&set, *key, *state, !op->blind, op->body != nullptr,
               op->body != nullptr && snapshot.OnlyIncremented(*key));
    if (op->body) {
      batch.push_back(cluster::KeyedSet{*key, std::move(set)});
    } else {
      WriteSet(op, *key, std::move(set), TrackWrite(op));
    }
  }
  if (!op->body) return;
  std::weak_ptr<Operation> weak = op;
  node_.WriteBatch(
      std::move(batch), op->write_level,
      [this, weak](cluster::WriteResult result) {
        OperationPtr op = weak.lock();
        if (!op) return;
        if (!result.ok && op->error.empty()) op->error = std::move(result.error);
        if (--op->pending == 0) Complete(op, op->reply, op->error);
      },
      TrackWrite(op));
}

std::shared_ptr<cluster::WriteProgress> ClusterExecutor::TrackWrite(const OperationPtr& op) {
  return NewTrackedWrite(op->record);
}

void ClusterExecutor::AddVersion(cluster::SiblingSet* set, const std::string& key,
                                 const SnapshotKeyspace::KeyState& state, bool merge_local,
                                 bool start_counter, bool only_increments) {
  // The context is what the command saw; this node's own copy joins the set so the new
  // version's dot is past every write this node made to the key.
  const cluster::VectorClock context = set->Context();
  // A transaction's or script's key that only increments wrote: all of `set` as read, to tell a
  // counter from a plain integer (MakeCounterIncrement).
  const cluster::SiblingSet read = only_increments ? *set : cluster::SiblingSet();
  const cluster::SiblingSet observed =
      FindCounter(*set) != nullptr || FindCollection(*set) != nullptr ? *set
                                                                      : cluster::SiblingSet();
  if (merge_local) set->Merge(node_.LocalSiblings(key));
  cluster::Version version = NewVersion(set, context);
  version.tombstone = !state.exists;
  version.typed = state.exists && state.object != nullptr;
  // The actor of this one write (its dot is this node's alone): what a collection's added
  // elements are tagged with, and what a transaction's or script's increments count under.
  const std::string actor = node_.self_id() + "/w" + std::to_string(version.dot);
  const std::int64_t now_ms = NowMs();
  // A counter key (cluster_counters.h): an integer result or a delete resets the counter,
  // keeping increments the command did not see; anything else replaces it as a whole value.
  // Only incremented (INCR inside MULTI or a script): an increment instead, so two transactions
  // that read the same value through different nodes both count.
  const bool incremented =
      only_increments && state.exists && !version.typed &&
      MakeCounterIncrement(read, *set, state.value, state.expire_at_ms, actor, now_ms, &version);
  const bool reset =
      incremented || MakeCounterReset(observed, *set, state.exists, !version.typed, state.value,
                                      state.expire_at_ms, start_counter, &version);
  // A set (cluster_collections.h): the command's effect as a delta of the key's ORSet. A hash or
  // sorted set only incremented (HINCRBY, ZINCRBY): every field's or member's change is an
  // increment of the actor's total in it.
  HashIncrement every_field;
  every_field.every_field = true;
  ScoreIncrement every_member;
  every_member.every_member = true;
  const bool collection =
      !reset && MakeCollectionVersion(observed, state, actor, now_ms, &version,
                                      only_increments ? &every_field : nullptr,
                                      only_increments ? &every_member : nullptr);
  if (!reset && !collection) {  // (a joined version's value, tombstone and expiry are its own)
    if (version.typed) {
      state.object->Serialize(&version.value);  // whole-value last-write-wins (README)
    } else {
      version.value = state.value;
    }
    version.expire_at_ms = state.expire_at_ms;
  }
  set->Add(std::move(version));
}

void ClusterExecutor::RunSerial(const OperationPtr& op) {
  if (op->keys.size() != 1) {
    Complete(op, {},
             "ERR SERIAL and LOCAL_SERIAL run commands of exactly one key (this one names " +
                 std::to_string(op->keys.size()) + ")");
    return;
  }
  std::weak_ptr<Operation> weak = op;
  auto compute = [this, weak](const cluster::SiblingSet& current,
                              std::size_t) -> std::optional<cluster::SiblingSet> {
    OperationPtr op = weak.lock();
    Client* client = !op ? nullptr : op->runner != nullptr ? op->runner : LiveClient(op->client_id);
    if (client == nullptr) {  // nobody to answer: nothing is applied
      if (op) {
        op->attempt_replies.emplace_back();
        op->attempt_wrote.push_back(false);
      }
      return std::nullopt;
    }
    SnapshotKeyspace snapshot(server_.keyspace(), NowMs(), server_.codec());
    snapshot.Load(op->keys[0], current);
    const std::vector<std::string_view> argv(op->args.begin(), op->args.end());
    std::string reply;
    resp::ReplyWriter writer(&reply, client->protocol());
    CommandContext ctx{server_, *client, argv, writer, snapshot, nullptr};
    op->spec->handler(ctx);
    op->attempt_replies.push_back(std::move(reply));
    op->attempt_wrote.push_back(false);
    for (const auto& [key, state] : snapshot.keys()) {
      if (!state.changed || key != op->keys[0]) continue;
      cluster::SiblingSet set = current;
      AddVersion(&set, key, state, true);
      op->attempt_wrote.back() = true;
      return set;
    }
    return std::nullopt;
  };
  // Counts the commit's acknowledgements from the start; it becomes the client's last write once
  // the round is known to have written (a command that changed nothing is not one).
  auto progress = op->record ? std::make_shared<cluster::WriteProgress>() : nullptr;
  node_.Cas(
      op->keys[0], op->local_serial, std::move(compute),
      [this, weak, progress](cluster::CasResult result) {
        OperationPtr op = weak.lock();
        if (!op) return;
        if (!result.ok) {
          Complete(op, {}, result.error);
          return;
        }
        if (progress && result.attempt < op->attempt_wrote.size() &&
            op->attempt_wrote[result.attempt]) {
          op->record(TrackedWrite{progress, {}, 0, false});
        }
        Complete(op, op->attempt_replies.at(result.attempt), {});
      },
      progress);
}

void ClusterExecutor::RunSerialAtomic(const OperationPtr& op) {
  std::weak_ptr<Operation> weak = op;
  auto compute = [this, weak](const std::vector<cluster::SiblingSet>& current,
                              std::size_t) -> std::optional<std::vector<cluster::KeyedSet>> {
    OperationPtr op = weak.lock();
    Client* client = !op ? nullptr : LiveClient(op->client_id);
    if (client == nullptr) {  // nobody to answer: nothing is applied
      if (op) op->attempt_replies.emplace_back();
      return std::nullopt;
    }
    op->sets = current;
    SnapshotKeyspace snapshot(server_.keyspace(), NowMs(), server_.codec());
    for (std::size_t i = 0; i < op->keys.size(); ++i) snapshot.Load(op->keys[i], op->sets[i]);
    std::string reply;
    resp::ReplyWriter writer(&reply, client->protocol());
    const std::size_t room = client->reply().room();
    if (room != SIZE_MAX) writer.set_limit(std::max<std::size_t>(room, 1));
    AtomicView view{*client, snapshot, op->keys, op->sets, writer};
    op->body(view);  // EXEC's WATCH check runs here, over the round's read
    op->reply_cut = writer.over_limit();
    op->attempt_replies.push_back(std::move(reply));
    std::vector<cluster::KeyedSet> writes;
    for (const auto& [key, state] : snapshot.keys()) {
      if (!state.changed) continue;
      const auto it = std::find(op->keys.begin(), op->keys.end(), key);
      // A key outside the round's cannot be part of its proposal: CasGroup refuses the whole.
      cluster::SiblingSet set = it == op->keys.end()
                                    ? cluster::SiblingSet()
                                    : op->sets[static_cast<std::size_t>(it - op->keys.begin())];
      AddVersion(&set, key, state, true, true);
      writes.push_back(cluster::KeyedSet{key, std::move(set)});
    }
    if (writes.empty()) return std::nullopt;
    return writes;
  };
  node_.CasGroup(op->keys, op->local_serial, std::move(compute),
                 [this, weak](cluster::CasResult result) {
                   OperationPtr op = weak.lock();
                   if (!op) return;
                   if (!result.ok) {
                     Complete(op, {}, result.error);
                   } else {
                     Complete(op, op->attempt_replies.at(result.attempt), {});
                   }
                 });
}

void ClusterExecutor::AfterKeyLock(const std::string& key, std::function<void()> write) {
  std::vector<std::string> keys{key};
  locks_.Acquire(keys, [this, keys, write = std::move(write)] {
    write();
    locks_.Release(keys);
  });
}

void ClusterExecutor::WriteSet(const OperationPtr& op, const std::string& key,
                               cluster::SiblingSet set,
                               std::shared_ptr<cluster::WriteProgress> progress) {
  std::weak_ptr<Operation> weak = op;
  node_.Write(
      key, std::move(set), op->write_level,
      [this, weak](cluster::WriteResult result) {
        OperationPtr op = weak.lock();
        if (!op) return;
        if (!result.ok && op->error.empty()) op->error = std::move(result.error);
        if (--op->pending == 0) Complete(op, op->reply, op->error);
      },
      std::move(progress));
}

cluster::Version ClusterExecutor::NewVersion(cluster::SiblingSet* set,
                                             const cluster::VectorClock& context) {
  // Later than everything the coordinator knows of the key, so last-write-wins ranks a write
  // after what it read even when this node's clock lags the one that wrote that.
  std::int64_t timestamp = node_.NextTimestamp();
  for (const cluster::Version& version : set->versions()) {
    timestamp = std::max(timestamp, version.timestamp_us + 1);
  }
  cluster::Version version = set->NewVersion(context, node_.self_id(), timestamp);
  // A dot is never below the write's hybrid timestamp, which is past every timestamp this node
  // gave before, in this process or an earlier one. A counter restarting with the process would
  // reuse the dot of a write this node made before a crash whenever its own copy of the key lacks
  // that write (a wiped disk, a commit log it could not write): replicas that have seen the old
  // dot would drop the new write as already seen, after acknowledging it.
  version.dot = std::max({version.dot, last_dot_ + 1, static_cast<std::uint64_t>(timestamp)});
  last_dot_ = version.dot;
  return version;
}

void ClusterExecutor::Complete(OperationPtr op, const std::string& reply,
                               const std::string& error) {
  if (op->done) return;
  op->done = true;
  operations_.erase(op);
  if (op->locked) locks_.Release(op->keys);
  if (op->detached_done) {
    op->detached_done(error.empty() ? reply : "-" + error + "\r\n");
    return;
  }
  Client* client = LiveClient(op->client_id);
  if (client == nullptr) return;
  resp::ReplyWriter& out = client->reply();
  if (op->reply_cut) {
    client->CloseForOutputLimit();
  } else if (!error.empty()) {
    out.Error(error);
    server_.NoteErrorReply(error);
  } else {
    out.buffer()->append(reply);
    if (!reply.empty() && reply[0] == '-') {
      const std::string_view message = std::string_view(reply).substr(1);
      server_.NoteErrorReply(message.substr(0, message.find("\r\n")));
    }
  }
  if (!op->in_run) client->FinishAsyncCommand();
}

ClusterExecutor::OperationPtr ClusterExecutor::NewOperation(Client& client) {
  auto op = std::make_shared<Operation>();
  op->client_id = client.id();
  op->record = waits_.Recorder(client.id());
  operations_.insert(op);
  return op;
}

void ClusterExecutor::Started(const OperationPtr& op, Client& client) {
  op->in_run = false;
  if (!op->done) client.BeginAsyncCommand();
}

void ClusterExecutor::VersionedGet(Client& client, std::string key,
                                   const cluster::ConsistencyLevel& level) {
  OperationPtr op = NewOperation(client);
  std::weak_ptr<Operation> weak = op;
  node_.Read(std::move(key), level, [this, weak](cluster::ReadResult result) {
    OperationPtr op = weak.lock();
    if (!op) return;
    Client* client = LiveClient(op->client_id);
    if (!result.ok || client == nullptr) {
      Complete(op, {}, result.error);
      return;
    }
    // [context token, [value of each live sibling]]: the token covers deleted and expired
    // versions too, so a VSET with it replaces them as well.
    const std::int64_t now = NowMs();
    std::vector<const cluster::Version*> live;
    for (const cluster::Version& version : result.siblings.versions()) {
      if (version.IsLive(now)) live.push_back(&version);
    }
    resp::ReplyWriter writer(&op->reply, client->protocol());
    writer.ArrayHeader(2);
    writer.Bulk(result.siblings.ContextToken());
    writer.ArrayHeader(live.size());
    for (const cluster::Version* version : live) writer.Bulk(PlainValue(*version));
    Complete(op, op->reply, {});
  });
  Started(op, client);
}

void ClusterExecutor::VersionedSet(Client& client, std::string key, std::string value,
                                   const cluster::VectorClock& context, std::int64_t expire_at_ms,
                                   const cluster::ConsistencyLevel& level) {
  OperationPtr op = NewOperation(client);
  op->write_level = level;
  // No read: the client's context says which versions this one replaces (Riak's put). This
  // node's copy goes along so replicas learn the siblings the new version was written beside.
  cluster::SiblingSet set = node_.LocalSiblings(key);
  cluster::Version version = NewVersion(&set, context);
  version.value = std::move(value);
  version.expire_at_ms = expire_at_ms;
  set.Add(std::move(version));
  resp::ReplyWriter(&op->reply, client.protocol()).Ok();
  op->pending = 1;
  WriteSet(op, key, std::move(set), TrackWrite(op));
  Started(op, client);
}

void ClusterExecutor::RunAsync(Client& client, std::function<void(Finish finish)> start) {
  OperationPtr op = NewOperation(client);
  std::weak_ptr<Operation> weak = op;
  start([this, weak](const std::string& reply, const std::string& error) {
    if (OperationPtr op = weak.lock()) Complete(op, reply, error);
  });
  Started(op, client);
}

void ClusterExecutor::AntiEntropy(Client& client, std::string peer) {
  OperationPtr op = NewOperation(client);
  std::weak_ptr<Operation> weak = op;
  node_.RunAntiEntropy(std::move(peer), [this, weak](cluster::AntiEntropyRound round) {
    OperationPtr op = weak.lock();
    if (!op) return;
    Client* client = LiveClient(op->client_id);
    if (!round.ok || client == nullptr) {
      Complete(op, {}, round.ok ? std::string() : "ERR anti-entropy: " + round.error);
      return;
    }
    resp::ReplyWriter writer(&op->reply, client->protocol());
    writer.MapHeader(6);
    writer.Bulk("peer");
    writer.Bulk(round.peer);
    for (const auto& [name, value] :
         {std::pair{"differing_leaves", round.differing_leaves},
          std::pair{"keys_pulled", round.keys_pulled}, std::pair{"keys_pushed", round.keys_pushed},
          std::pair{"bytes_sent", round.bytes_sent},
          std::pair{"bytes_received", round.bytes_received}}) {
      writer.Bulk(name);
      writer.Integer(static_cast<long long>(value));
    }
    Complete(op, op->reply, {});
  });
  Started(op, client);
}

}  // namespace dynakv::server
