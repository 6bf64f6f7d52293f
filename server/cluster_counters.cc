#include "cluster_counters.h"

#include <cerrno>
#include <span>
#include <utility>

#include "client.h"
#include "clock.h"
#include "cluster/key_messages.h"
#include "cluster_blocking.h"
#include "cluster_executor.h"
#include "cluster_lists.h"
#include "cluster_zsets.h"
#include "crdt/pn_counter.h"
#include "log.h"
#include "number_parse.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "snapshot_keyspace.h"
#include "types/codec.h"

namespace dynakv::server {

namespace {

// What `value` holds when it is an integer written the one way Redis writes it ("12", not
// "012" or "+12"): such a string can be a counter's base and read back unchanged.
bool CanonicalInteger(const std::string& value, std::int64_t* out) {
  long long parsed = 0;
  if (!ParseLongLong(value, &parsed) || std::to_string(parsed) != value) return false;
  *out = parsed;
  return true;
}

crdt::PnCounter StateOf(const cluster::Version* counter) {
  crdt::PnCounter state;
  if (counter != nullptr) crdt::PnCounter::Decode(counter->value, &state);  // checked on decode
  return state;
}

}  // namespace

const cluster::Version* FindCounter(const cluster::SiblingSet& set) {
  for (const cluster::Version& version : set.versions()) {
    if (version.counter) return &version;
  }
  return nullptr;
}

bool MakeCounterReset(const cluster::SiblingSet& observed, const cluster::SiblingSet& merged,
                      bool exists, bool is_string, const std::string& value,
                      std::int64_t expire_at_ms, bool start_counter,
                      cluster::Version* version) {
  if (FindCounter(merged) == nullptr && !(start_counter && exists)) return false;
  std::int64_t base = 0;
  if (exists && (!is_string || !CanonicalInteger(value, &base))) return false;
  crdt::PnCounter state = StateOf(FindCounter(observed));
  crdt::PnCounter::Reset reset;
  reset.timestamp_us = version->timestamp_us;
  reset.origin = version->origin_node;
  reset.deleted = !exists;
  reset.base = base;
  reset.expire_at_ms = exists ? expire_at_ms : 0;
  reset.floor = state.entries();
  state.ApplyReset(std::move(reset));
  version->value = state.Encode();
  version->typed = false;
  return cluster::NormalizeCounterVersion(version);
}

bool ChangesOnlyTtl(const CommandSpec& spec) {
  const std::span<const KeySpec> keys = spec.keys.specs();
  return (spec.flags & kCmdWrite) && (spec.acl & kAclKeyspace) && keys.size() == 1 &&
         keys.front().flags == (kKeyRW | kKeyUpdate);
}

SnapshotKeyspace::WriteKind IncrementKindOf(const CommandSpec& spec,
                                            const std::vector<std::string_view>& argv) {
  using Kind = SnapshotKeyspace::WriteKind;
  // The INCR family: counter rows that are no collection's. Of the collection rows flagged
  // counter, HINCRBY's (a hash row), and ZINCRBY and ZADD with INCR (ParseScoreIncrement: ZADD
  // without INCR is an assignment).
  if (ClusterCounters::IsCounterCommand(spec) && !ClusterCollections::IsCollectionCommand(spec)) {
    return Kind::kIncrement;
  }
  if (ClusterCounters::IsCounterCommand(spec) && (spec.acl & kAclHash)) return Kind::kIncrement;
  if (ChangesOnlyTtl(spec)) return Kind::kExpiry;
  ScoreIncrement unused;
  return ParseScoreIncrement(spec, std::vector<std::string>(argv.begin(), argv.end()), &unused)
             ? Kind::kIncrement
             : Kind::kOther;
}

bool MakeCounterIncrement(const cluster::SiblingSet& observed, const cluster::SiblingSet& merged,
                          const std::string& value, std::int64_t expire_at_ms,
                          std::string_view actor, std::int64_t now_ms, cluster::Version* version) {
  std::int64_t after = 0;
  if (!CanonicalInteger(value, &after)) return false;
  std::int64_t before = 0;  // what the snapshot read: the live counter's sum, or no key
  crdt::PnCounter read;
  if (const cluster::Version* counter = FindCounter(observed)) {
    // The snapshot showed the last-write-wins version: another sibling, if it wins.
    if (observed.Resolve() != counter) return false;
    read = StateOf(counter);
    // Deleted (and not counted past the delete since): reads as no key. Expired: the reset path.
    if (!counter->IsLive(now_ms) && read.Exists()) return false;
    before = read.Exists() ? read.Value() : 0;
  } else if (const cluster::Version* winner = observed.Resolve();
             winner != nullptr && winner->IsLive(now_ms)) {
    return false;  // a plain value: it becomes a counter by a reset (its base)
  }
  std::int64_t delta = 0;
  if (__builtin_sub_overflow(after, before, &delta)) return false;
  crdt::PnCounter state = StateOf(FindCounter(merged));
  const bool expiry_changed =
      !read.Exists() ? expire_at_ms != 0 : expire_at_ms != read.reset().expire_at_ms;
  if (expiry_changed) {
    crdt::PnCounter::Reset reset;
    reset.timestamp_us = version->timestamp_us;
    reset.origin = version->origin_node;
    reset.deleted = false;
    reset.base = before;
    reset.expire_at_ms = expire_at_ms;
    reset.floor = read.entries();
    state.ApplyReset(std::move(reset));
  }
  if (!state.Increment(actor, delta)) return false;
  version->value = state.Encode();
  version->typed = false;
  return cluster::NormalizeCounterVersion(version);
}

ClusterCounters::ClusterCounters(Server& server, ClusterExecutor& executor,
                                 cluster::ClusterNode& node, std::string dir)
    : server_(server),
      executor_(executor),
      node_(node),
      own_(server, node, std::move(dir)),
      collections_(server, executor, node, own_) {
  for (int i = 0; i < 2; ++i) {
    runners_[i] = std::make_unique<Client>(server, 0);
    runners_[i]->set_protocol(i + 2);
  }
}

ClusterCounters::~ClusterCounters() = default;

void ClusterCounters::AppendInfo(std::string* out) const {
  out->append("cluster_counter_forwards_sent:").append(std::to_string(forwarded_)).append("\r\n");
  out->append("cluster_counter_forwards_served:").append(std::to_string(served_)).append("\r\n");
}

bool ClusterCounters::IsCounterCommand(const CommandSpec& spec) {
  return (spec.flags & kCmdClusterCounter) != 0;
}

bool ClusterCounters::RunsOnOneReplica(const CommandSpec& spec) {
  return IsCounterCommand(spec) || ClusterCollections::IsCollectionCommand(spec);
}

std::string ClusterCounters::TargetOf(const std::string& key) const {
  const std::vector<std::string> replicas = node_.ReplicaIds(key);
  // Reachable first: a member killed a moment ago is still "alive" until the failure detector
  // says otherwise, but its connection has already failed.
  for (const std::string& id : replicas) {
    if (node_.IsAlive(id) && node_.PeerReachable(id)) return id;
  }
  for (const std::string& id : replicas) {
    if (node_.IsAlive(id)) return id;
  }
  return replicas.empty() ? std::string() : replicas.front();
}

void ClusterCounters::Run(const CommandContext& ctx, const CommandSpec& spec) {
  std::vector<std::string> argv(ctx.argv.begin(), ctx.argv.end());
  const cluster::ConsistencyLevel write = executor_.WriteLevel(ctx.client, ctx.levels);
  if (cluster::IsSerial(write)) {
    // SERIAL / LOCAL_SERIAL: a compare-and-set round over the key (read-modify-write), written
    // as a reset of the counter (ClusterExecutor::AddVersion).
    executor_.Run(ctx, spec);
    return;
  }
  const std::string* named = ClusterCollections::KeyOf(spec, argv);
  if (named == nullptr) {
    // A ZMPOP of several keys, which need not share a replica: tried key by key, each on its
    // primary, as the blocking pops are (cluster_blocking.h).
    server_.cluster_blocking()->Run(ctx, spec);
    return;
  }
  const std::string key = *named;
  Client& client = ctx.client;
  const WriteRecorder record = executor_.waits().Recorder(client.id());
  // Pops and list writes run on the key's primary (cluster_lists.h: the first replica alive and
  // reachable), the others here when this is a replica.
  const bool on_primary = ClusterCollections::RunsOnPrimary(spec);
  const std::string target = on_primary ? ListTarget(node_, key) : TargetOf(key);
  if (on_primary ? target == node_.self_id() : node_.IsReplicaOf(key)) {
    executor_.RunAsync(client, [&](ClusterExecutor::Finish finish) {
      // After this node's SERIAL rounds on the key (ClusterExecutor::AfterKeyLock).
      executor_.AfterKeyLock(key, [this, id = client.id(), &spec, argv = std::move(argv), write, record,
                                   finish = std::move(finish)]() mutable {
        Client* live = server_.FindClient(id);
        if (live == nullptr || live->closing()) return finish({}, "ERR client gone");
        Apply(*live, spec, argv, write, record,
              [finish = std::move(finish)](std::string reply) { finish(reply, {}); });
      });
    });
    return;
  }
  cluster::ForwardRequest request;
  request.protocol = static_cast<std::uint32_t>(client.protocol());
  request.read_level = cluster::ToString(write);  // unused: increments read nothing
  request.write_level = cluster::ToString(write);
  request.argv = std::move(argv);
  if (IsConvergentListCommand(spec)) {
    server_.cluster_blocking()->CountForwardSent();  // INFO's cluster_forwards_sent: to a primary
  } else {
    ++forwarded_;
  }
  // The replica writes once, within the request timeout; a second one for the round trips.
  const auto timeout = 2 * static_cast<std::uint64_t>(node_.options().request_timeout_ms);
  executor_.RunAsync(client, [&](ClusterExecutor::Finish finish) {
    executor_.waits().Forward(
        target, std::move(request), timeout, record,
        [target, finish = std::move(finish)](cluster::ClusterNode::ForwardResult r) {
          if (r.ok) {
            finish(r.reply, {});
          } else {
            finish({}, "UNAVAILABLE the key's replica " + target + " did not answer: " + r.error);
          }
        });
  });
}

void ClusterCounters::Serve(const CommandSpec& spec, std::vector<std::string> argv, int protocol,
                            const cluster::ConsistencyLevel& write,
                            std::function<void(std::string)> respond, WriteRecorder record) {
  ++served_;
  const bool arity_ok = spec.arity >= 0 ? argv.size() == static_cast<std::size_t>(spec.arity)
                                        : argv.size() >= static_cast<std::size_t>(-spec.arity);
  if (!RunsOnOneReplica(spec) || !arity_ok) {
    respond("-ERR malformed forwarded command\r\n");
    return;
  }
  const std::string* named = ClusterCollections::KeyOf(spec, argv);
  if (named == nullptr) {
    respond("-ERR malformed forwarded command\r\n");
    return;
  }
  if (!node_.IsReplicaOf(*named)) {
    // The ring moved under the sender: this node's entry must live on a copy it keeps.
    respond("-UNAVAILABLE this node is no longer a replica of the key\r\n");
    return;
  }
  const std::string key = *named;
  executor_.AfterKeyLock(key, [this, protocol, &spec, argv = std::move(argv), write,
                               record = std::move(record), respond = std::move(respond)]() mutable {
    Apply(*runners_[protocol == 3 ? 1 : 0], spec, argv, write, record, std::move(respond));
  });
}

void ClusterCounters::Apply(Client& client, const CommandSpec& spec,
                            const std::vector<std::string>& argv,
                            const cluster::ConsistencyLevel& write, const WriteRecorder& record,
                            std::function<void(std::string)> done) {
  const std::string& key = argv[1];
  if (ClusterCollections::IsCollectionCommand(spec)) {
    // A lost copy may have held the actor's latest dots, as it may a counter's latest entry.
    own_.RenewAfterLostCopies();
    collections_.Apply(client, spec, argv, write, own_.actor(), record, std::move(done));
    return;
  }
  cluster::SiblingSet set = node_.LocalSiblings(key);
  // An empty copy is how a lost one shows (absent keys aside): only then is the check needed.
  if (set.empty()) own_.RenewAfterLostCopies();
  const std::int64_t now = NowMs();
  SnapshotKeyspace snapshot(server_.keyspace(), now, server_.codec());
  snapshot.Load(key, set);
  const auto before = snapshot.keys().find(key);
  const bool existed = before->second.exists &&
                       (before->second.expire_at_ms == 0 || before->second.expire_at_ms > now);
  long long old_value = 0;
  if (existed && before->second.object == nullptr) ParseLongLong(before->second.value, &old_value);
  const std::int64_t old_expiry = existed ? before->second.expire_at_ms : 0;

  std::string reply;
  resp::ReplyWriter writer(&reply, client.protocol());
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  CommandContext ctx{server_, client, views, writer, snapshot, nullptr};
  spec.handler(ctx);
  const auto after = snapshot.keys().find(key);
  long long new_value = 0;
  if (after == snapshot.keys().end() || !after->second.changed ||
      !ParseLongLong(after->second.value, &new_value)) {
    done(std::move(reply));  // refused (not an integer, overflow): nothing to write
    return;
  }
  // Both within int64 and their difference is the command's own increment, which is too.
  const auto delta = static_cast<std::int64_t>(static_cast<__int128>(new_value) - old_value);

  cluster::Version version = executor_.NewVersion(&set, set.Context());
  const cluster::Version* counter = FindCounter(set);
  crdt::PnCounter state = StateOf(counter);
  const cluster::Version* winner = set.Resolve();
  // A live or deleted counter, or nothing at all, just counts: no reset, so a replica whose copy
  // is stale or gone (a wiped disk) never overrides a SET it has not seen.
  crdt::PnCounter::Reset reset;
  reset.deleted = false;
  reset.floor = state.entries();
  if (winner != nullptr && winner->counter && winner->expire_at_ms != 0 &&
      winner->expire_at_ms <= now) {
    // Expired: it starts again at 0, without the TTL, over every total it had.
    reset.timestamp_us = version.timestamp_us;
    reset.origin = node_.self_id();
    state.ApplyReset(std::move(reset));
  } else if (winner != nullptr && !winner->counter && existed) {
    // A string holding an integer becomes the base. The reset takes that string's own stamp:
    // every replica converting the same string makes the same reset, and a later SET still wins.
    reset.timestamp_us = winner->timestamp_us;
    reset.origin = winner->origin_node;
    reset.base = old_value;
    reset.expire_at_ms = old_expiry;
    state.ApplyReset(std::move(reset));
  }
  if (!state.Increment(own_.actor(), delta)) {
    resp::ReplyWriter error(&reply, client.protocol());
    reply.clear();
    error.Error(kErrOverflow);
    done(std::move(reply));
    return;
  }
  version.value = state.Encode();
  cluster::NormalizeCounterVersion(&version);
  set.Add(std::move(version));
  // In this node's log file before it goes anywhere: were it acknowledged by others while
  // missing here, this node's next increment would reuse the entry's value and be absorbed by the
  // join (own_actor.h).
  if (const std::string error = own_.Store(key, set); !error.empty()) {
    done("-" + error + "\r\n");
    return;
  }
  node_.Write(
      key, std::move(set), write,
      [reply = std::move(reply), done = std::move(done)](cluster::WriteResult result) {
        done(result.ok ? reply : "-" + result.error + "\r\n");
      },
      NewTrackedWrite(record));
}

}  // namespace dynakv::server
