#include "cluster_blocking.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>
#include <utility>

#include "ascii.h"
#include "blocking_command.h"
#include "client.h"
#include "cluster/key_messages.h"
#include "cluster_counters.h"
#include "cluster_executor.h"
#include "cluster_lists.h"
#include "command_util.h"
#include "resp/reply_writer.h"
#include "server.h"

namespace dynakv::server {

namespace {

// The null a pop answers when it found nothing: a null array (the blocking pops refused to
// block, LMPOP, ZMPOP), or a null bulk (LPOP, BLMOVE refused to block), in RESP2 or RESP3.
bool IsNullReply(std::string_view reply) {
  return reply == "*-1\r\n" || reply == "$-1\r\n" || reply == "_\r\n";
}

bool NameIs(const CommandSpec& spec, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), spec.name) != names.end();
}

// Where the key count of a pop of several keys is (LMPOP numkeys key ..., BLMPOP timeout
// numkeys key ...: a key spec that finds the keys it deletes from by a count); 0 for the others
// (ZUNIONSTORE's count names keys it only reads).
std::size_t NumkeysIndex(const CommandSpec& spec) {
  for (const KeySpec& keys : spec.keys.specs()) {
    if (keys.begin == KeySpec::Begin::kIndex && keys.find == KeySpec::Find::kKeynum &&
        (keys.flags & kKeyDelete)) {
      return static_cast<std::size_t>(keys.index + keys.a);
    }
  }
  return 0;
}

// The pops of several keys, which can be run one key at a time: those with a key count, and
// those whose keys run to the timeout (BLPOP key [key ...] timeout: a range of keys).
bool PopsSeveralKeys(const CommandSpec& spec) {
  if (NumkeysIndex(spec) != 0) return true;
  const std::span<const KeySpec> specs = spec.keys.specs();
  return specs.size() == 1 && specs.front().find == KeySpec::Find::kRange && specs.front().a != 0 &&
         (specs.front().flags & kKeyDelete);
}

// The timeout argument of a blocking command: right before the key count (BLMPOP, BZMPOP), else
// the last (BLPOP ... timeout, BLMOVE source destination LEFT RIGHT timeout).
std::string_view TimeoutArg(const CommandSpec& spec, const std::vector<std::string>& argv) {
  const std::size_t numkeys_at = NumkeysIndex(spec);
  return numkeys_at != 0 ? argv[numkeys_at - 1] : argv.back();
}

// The command for `key` alone, with its other arguments.
std::vector<std::string> SingleKeyArgv(const CommandSpec& spec,
                                       const std::vector<std::string>& argv,
                                       const std::string& key) {
  const std::size_t numkeys_at = NumkeysIndex(spec);
  if (numkeys_at == 0) return {argv.front(), key, argv.back()};
  std::vector<std::string> out(argv.begin(), argv.begin() + static_cast<long>(numkeys_at));
  out.emplace_back("1");
  out.push_back(key);
  const std::size_t numkeys = std::stoull(argv[numkeys_at]);  // GetKeys parsed it already
  out.insert(out.end(), argv.begin() + static_cast<long>(numkeys_at + 1 + numkeys), argv.end());
  return out;
}

// The element of an `LMPOP 1 key ...` reply in RESP2 (*2 $key *1 $element); false for anything
// else (a null, an error).
bool PoppedElement(std::string_view reply, std::string* element) {
  auto expect = [&](std::string_view prefix) {
    if (!reply.starts_with(prefix)) return false;
    reply.remove_prefix(prefix.size());
    return true;
  };
  auto bulk = [&](std::string* out) {
    if (!expect("$")) return false;
    const std::size_t crlf = reply.find("\r\n");
    std::size_t n = 0;
    if (crlf == std::string_view::npos ||
        std::from_chars(reply.data(), reply.data() + crlf, n).ptr != reply.data() + crlf) {
      return false;
    }
    reply.remove_prefix(crlf + 2);
    if (reply.size() < n + 2) return false;
    if (out != nullptr) out->assign(reply.substr(0, n));
    reply.remove_prefix(n + 2);
    return true;
  };
  return expect("*2\r\n") && bulk(nullptr) && expect("*1\r\n") && bulk(element) && reply.empty();
}

std::string BulkReply(std::string_view bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + std::string(bytes) + "\r\n";
}

// The distinct keys of a request, in order; for a move, its source only (the one it pops).
std::vector<std::string> KeysOf(const CommandSpec& spec, const std::vector<std::string>& argv) {
  if (NameIs(spec, {"lmove", "rpoplpush", "blmove", "brpoplpush"})) return {argv[1]};
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  std::vector<KeyRef> refs;
  GetKeys(spec, views, &refs);
  std::vector<std::string> keys;
  std::unordered_set<std::string_view> seen;
  for (const KeyRef& ref : refs) {
    const std::string_view key = views[static_cast<std::size_t>(ref.pos)];
    if (seen.insert(key).second) keys.emplace_back(key);
  }
  return keys;
}

}  // namespace

ClusterBlocking::ClusterBlocking(Server& server, ClusterExecutor& executor,
                                 cluster::ClusterNode& node)
    : server_(server),
      executor_(executor),
      node_(node),
      watches_(server.loop(), node, [this](const std::string& key) { ServeKey(key); }) {
  for (int i = 0; i < 2; ++i) {
    runners_[i] = std::make_unique<Client>(server, 0);
    runners_[i]->set_protocol(i + 2);
    runners_[i]->set_deny_blocking(true);  // a null answer instead: the waiter waits at home
  }
  node_.SetKeyEventHandler([this](std::string_view from, std::string_view payload) {
    watches_.OnKeyEvent(from, payload);
  });
  node_.SetKeyChangeHandler([this](std::string_view key, std::string_view encoded) {
    watches_.OnKeyChanged(key, encoded);
  });
  node_.SetForwardHandler([this](std::string_view from, std::string_view payload,
                                 std::function<void(std::string)> respond) {
    ServeForward(from, payload, std::move(respond));
  });
  if (tick_.Init([&](uv_timer_t* t) { return uv_timer_init(server.loop(), t); }, this) == 0) {
    uv_timer_start(tick_.get(), OnTick, kRepollMs, kRepollMs);
    uv_unref(tick_.base());  // waiting clients keep the loop alive, not this
  }
}

ClusterBlocking::~ClusterBlocking() {
  // The node outlives the server.
  node_.SetKeyEventHandler(nullptr);
  node_.SetKeyChangeHandler(nullptr);
  node_.SetForwardHandler(nullptr);
}

bool ClusterBlocking::RunsOnPrimary(const CommandSpec& spec) {
  // The convergent list writes run on the primary's own copy as deltas instead (cluster_lists.h).
  return (spec.flags & kCmdWrite) && (spec.acl & (kAclList | kAclSortedSet)) &&
         !IsConvergentListCommand(spec);
}

std::string ClusterBlocking::PrimaryOf(const std::string& key) const {
  const std::vector<std::string> replicas = node_.ReplicaIds(key);
  for (const std::string& id : replicas) {
    if (id == node_.self_id() || node_.IsAlive(id)) return id;
  }
  return node_.self_id();  // none alive: this node tries, and its reads and writes fail
}

Client& ClusterBlocking::Runner(int protocol) { return *runners_[protocol == 3 ? 1 : 0]; }

std::vector<ClusterBlocking::Call> ClusterBlocking::Plan(const CommandSpec& spec,
                                                         const std::vector<std::string>& argv,
                                                         const std::vector<std::string>& keys,
                                                         const std::string* only) const {
  if (keys.size() > 1 && PopsSeveralKeys(spec)) {
    if (only != nullptr) return {Call{SingleKeyArgv(spec, argv, *only), *only}};
    const std::string first = PrimaryOf(keys.front());
    const bool one_primary = std::all_of(
        keys.begin() + 1, keys.end(), [&](const std::string& k) { return PrimaryOf(k) == first; });
    if (!one_primary) {
      std::vector<Call> calls;
      for (const std::string& key : keys)
        calls.push_back(Call{SingleKeyArgv(spec, argv, key), key});
      return calls;
    }
  }
  return {Call{argv, keys.front()}};
}

void ClusterBlocking::Execute(const CommandSpec& spec, const std::vector<std::string>& argv,
                              const std::vector<std::string>& keys, const std::string* only,
                              int protocol, const Levels& levels, Done done) {
  bool from_head = false;
  bool to_head = false;
  if (SplitsMove(spec, argv, &from_head, &to_head)) {
    RunMove(argv[1], argv[2], from_head, to_head, protocol, levels, std::move(done));
    return;
  }
  RunCalls(spec, Plan(spec, argv, keys, only), protocol, levels, std::move(done));
}

bool ClusterBlocking::SplitsMove(const CommandSpec& spec, const std::vector<std::string>& argv,
                                 bool* from_head, bool* to_head) const {
  if (NameIs(spec, {"rpoplpush", "brpoplpush"})) {
    *from_head = false;
    *to_head = true;
  } else if (NameIs(spec, {"lmove", "blmove"})) {
    auto where = [](std::string_view arg, bool* head) {
      *head = EqualsIgnoreCase(arg, "left");
      return *head || EqualsIgnoreCase(arg, "right");
    };
    if (!where(argv[3], from_head) || !where(argv[4], to_head)) return false;
  } else {
    return false;
  }
  std::uint64_t timeout_ms = 0;
  std::string error;
  if ((spec.flags & kCmdBlocking) && !BlockTimeoutMs(TimeoutArg(spec, argv), &timeout_ms, &error)) {
    return false;
  }
  return argv[1] != argv[2] && PrimaryOf(argv[1]) != PrimaryOf(argv[2]);
}

void ClusterBlocking::RunMove(const std::string& source, const std::string& destination,
                              bool from_head, bool to_head, int protocol, const Levels& levels,
                              Done done) {
  const CommandSpec& lmpop = *server_.commands().Find("lmpop");
  Call pop{{"LMPOP", "1", source, from_head ? "LEFT" : "RIGHT"}, source};
  // Internal steps speak RESP2; the client gets its own protocol's null.
  RunOnPrimary(
      lmpop, std::move(pop), 2, levels,
      [this, alive = std::weak_ptr<bool>(alive_), source, destination, from_head, to_head, protocol,
       levels, done = std::move(done)](std::string reply) mutable {
        if (alive.expired()) return;
        std::string element;
        if (!PoppedElement(reply, &element)) {
          done(IsNullReply(reply) ? std::string(protocol == 3 ? "_\r\n" : "$-1\r\n") : reply);
          return;
        }
        // Popped and written on the source's replicas: from here to the push's ack a crash of
        // this node loses the element (README: the crash window of a move).
        const CommandSpec& push = *server_.commands().Find(to_head ? "lpush" : "rpush");
        Call call{{to_head ? "LPUSH" : "RPUSH", destination, element}, destination};
        RunOnPrimary(push, std::move(call), 2, levels,
                     [this, alive, source, element, from_head, levels,
                      done = std::move(done)](std::string pushed) mutable {
                       if (alive.expired()) return;
                       if (pushed.empty() || pushed[0] != '-') {
                         done(BulkReply(element));
                         return;
                       }
                       const CommandSpec& back =
                           *server_.commands().Find(from_head ? "lpush" : "rpush");
                       Call undo{{from_head ? "LPUSH" : "RPUSH", source, element}, source};
                       RunOnPrimary(back, std::move(undo), 2, levels, [](std::string) {});
                       done(std::move(pushed));
                     });
      });
}

void ClusterBlocking::RunCalls(const CommandSpec& spec, std::vector<Call> calls, int protocol,
                               const Levels& levels, Done done) {
  struct State {
    std::vector<Call> calls;
    std::size_t next = 0;
    Done done;
    std::function<void()> run;
  };
  auto state = std::make_shared<State>();
  state->calls = std::move(calls);
  state->done = std::move(done);
  std::weak_ptr<State> weak = state;
  state->run = [this, &spec, protocol, levels, weak, alive = std::weak_ptr<bool>(alive_)] {
    std::shared_ptr<State> state = weak.lock();
    if (!state) return;
    Call& call = state->calls[state->next];
    RunOnPrimary(spec, std::move(call), protocol, levels, [state, alive](std::string reply) {
      if (alive.expired()) return;
      if (!IsNullReply(reply) || ++state->next == state->calls.size()) {
        Done done = std::move(state->done);
        state->run = nullptr;  // breaks the cycle through the call's callback
        done(std::move(reply));
        return;
      }
      state->run();
    });
  };
  state->run();
}

void ClusterBlocking::RunOnPrimary(const CommandSpec& spec, Call call, int protocol,
                                   const Levels& levels, Done done) {
  const std::string primary = PrimaryOf(call.key);
  if (primary == node_.self_id()) {
    executor_.RunDetached(Runner(protocol), spec, std::move(call.argv), levels.read, levels.write,
                          std::move(done), levels.record);
    return;
  }
  cluster::ForwardRequest request;
  request.protocol = static_cast<std::uint32_t>(protocol);
  request.read_level = cluster::ToString(levels.read);
  request.write_level = cluster::ToString(levels.write);
  request.argv = std::move(call.argv);
  // The primary reads and then writes the key's replicas, each within the request timeout.
  const auto timeout =
      2 * static_cast<std::uint64_t>(node_.options().request_timeout_ms) + kRepollMs;
  ++forwards_sent_;
  executor_.waits().Forward(
      primary, std::move(request), timeout, levels.record,
      [primary, done = std::move(done)](cluster::ClusterNode::ForwardResult result) {
        if (result.ok) {
          done(std::move(result.reply));
        } else {
          done("-UNAVAILABLE the key's primary replica " + primary +
               " did not answer: " + result.error + "\r\n");
        }
      });
}

void ClusterBlocking::ServeForward(std::string_view from, std::string_view payload, Done respond) {
  cluster::ForwardRequest request;
  const CommandSpec* spec = nullptr;
  cluster::ConsistencyLevel read;
  cluster::ConsistencyLevel write;
  if (cluster::DecodeForwardRequest(payload, &request)) {
    spec = server_.commands().Find(request.argv.front());
  }
  // The sender's client may WAIT for what the command writes here: counted under its token.
  WriteRecorder record;
  if (request.track != 0) {
    record = executor_.waits().ForwardRecorder(from, request.track);
    respond = executor_.waits().AnswerForward(from, request.track, std::move(respond));
  }
  // (A ZMPOP of several keys with one primary comes here whole: it runs below, on this primary.)
  if (spec != nullptr && ClusterCounters::RunsOnOneReplica(*spec) &&
      ClusterCollections::KeyOf(*spec, request.argv) != nullptr &&
      cluster::ParseConsistencyLevel(request.write_level, &write)) {
    if (IsConvergentListCommand(*spec)) ++forwards_served_;  // a list write on its primary
    server_.cluster_counters()->Serve(*spec, std::move(request.argv),
                                      static_cast<int>(request.protocol), write, std::move(respond),
                                      std::move(record));
    return;
  }
  if (spec == nullptr || !RunsOnPrimary(*spec) ||
      !cluster::ParseConsistencyLevel(request.read_level, &read) ||
      !cluster::ParseConsistencyLevel(request.write_level, &write)) {
    respond("-ERR malformed forwarded command\r\n");
    return;
  }
  ++forwards_served_;
  executor_.RunDetached(Runner(static_cast<int>(request.protocol)), *spec, std::move(request.argv),
                        read, write, std::move(respond), std::move(record));
}

void ClusterBlocking::Run(const CommandContext& ctx, const CommandSpec& spec) {
  Client& client = ctx.client;
  std::vector<std::string> argv(ctx.argv.begin(), ctx.argv.end());
  std::vector<std::string> keys = KeysOf(spec, argv);
  if (keys.empty()) {  // keys it cannot name (a bad numkeys): the handler says what is wrong
    executor_.Run(ctx, spec);
    return;
  }
  const Levels levels{executor_.ReadLevel(client, ctx.levels),
                      executor_.WriteLevel(client, ctx.levels),
                      executor_.waits().Recorder(client.id())};
  std::uint64_t timeout_ms = 0;
  std::string timeout_error;
  // A bad timeout is the handler's to report, in its order of checks: the command then runs
  // once, as a non-blocking one.
  if ((spec.flags & kCmdBlocking) &&
      BlockTimeoutMs(TimeoutArg(spec, argv), &timeout_ms, &timeout_error)) {
    Block(ctx, spec, std::move(keys), timeout_ms, levels);
    return;
  }
  // Answered at once when it completes inside this call, else through the client's async
  // command slot.
  auto started = std::make_shared<bool>(false);
  auto early = std::make_shared<std::string>();
  const std::uint64_t id = client.id();
  Execute(spec, argv, keys, nullptr, client.protocol(), levels,
          [this, id, started, early](std::string reply) {
            if (*started) {
              Deliver(id, reply);
            } else {
              *early = std::move(reply);
            }
          });
  if (!early->empty()) {
    ctx.reply.buffer()->append(*early);
    if ((*early)[0] == '-') ++server_.stats().total_error_replies;
    return;
  }
  *started = true;
  client.BeginAsyncCommand();
}

void ClusterBlocking::Deliver(std::uint64_t client_id, const std::string& reply) {
  Client* client = server_.FindClient(client_id);
  if (client == nullptr || client->closing()) return;
  client->reply().buffer()->append(reply);
  if (!reply.empty() && reply[0] == '-') ++server_.stats().total_error_replies;
  client->FinishAsyncCommand();
}

void ClusterBlocking::Block(const CommandContext& ctx, const CommandSpec& spec,
                            std::vector<std::string> keys, std::uint64_t timeout_ms,
                            const Levels& levels) {
  auto waiter = std::make_unique<Waiter>();
  Waiter& w = *waiter;
  w.owner = this;
  w.client_id = ctx.client.id();
  w.spec = &spec;
  w.argv.assign(ctx.argv.begin(), ctx.argv.end());
  w.keys = std::move(keys);
  w.protocol = ctx.client.protocol();
  w.levels = levels;
  // Watched before the first pop: a push applied after that pop read the key finds the watch
  // (the watch frames leave first, on the connections the pop's frames take).
  for (const std::string& key : w.keys) {
    queues_[key].push_back(w.client_id);
    watches_.Acquire(key);
  }
  w.timed = timeout_ms > 0;
  if (timeout_ms > 0 &&
      w.timer.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); }, &w) == 0) {
    uv_timer_start(w.timer.get(), OnTimeout, timeout_ms, 0);
  }
  waiters_[w.client_id] = std::move(waiter);
  ctx.client.BeginAsyncCommand();
  Attempt(w, nullptr);
}

void ClusterBlocking::Attempt(Waiter& waiter, const std::string* key) {
  waiter.busy = true;
  waiter.rewake = false;
  const std::string served = key != nullptr ? *key : std::string();
  Execute(*waiter.spec, waiter.argv, waiter.keys, key, waiter.protocol, waiter.levels,
          [this, id = waiter.client_id, served](std::string reply) {
            OnAttempt(id, served, std::move(reply));
          });
}

void ClusterBlocking::OnAttempt(std::uint64_t client_id, const std::string& key,
                                std::string reply) {
  if (!key.empty()) serving_.erase(key);
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) {
    // Its client went while the pop was in flight (README: what such a pop loses).
    if (!key.empty()) ServeKey(key);
    return;
  }
  Waiter& w = *it->second;
  w.busy = false;
  const bool first = !w.tried;
  w.tried = true;
  if (!first && !reply.empty() && reply[0] == '-') reply = "*-1\r\n";  // as nothing popped
  if (!IsNullReply(reply)) {
    Finish(client_id, reply, false);
    if (!key.empty()) ServeKey(key);  // the key may hold more for the next waiter
    return;
  }
  Client* client = server_.FindClient(client_id);
  if (w.timed_out || client == nullptr || client->closing() || client->peer_closed()) {
    if (client != nullptr && client->peer_closed()) {
      Remove(client_id);
      client->Close();
    } else {
      Finish(client_id, {}, true);
    }
  } else if (w.rewake) {
    Attempt(w, nullptr);
  }
  // Nothing left to pop: the waiters behind it keep waiting, unless a push came meanwhile.
  if (!key.empty() && again_.erase(key) != 0) ServeKey(key);
}

void ClusterBlocking::ServeKey(const std::string& key) {
  if (serving_.count(key) != 0) {
    again_.insert(key);
    return;
  }
  auto q = queues_.find(key);
  if (q == queues_.end()) return;
  for (std::uint64_t id : q->second) {
    Waiter& w = *waiters_.at(id);
    if (w.busy) {  // its own pop is in flight: it tries again once that is back
      w.rewake = true;
      continue;
    }
    serving_.insert(key);
    ++rerun_pops_;
    Attempt(w, &key);
    return;
  }
}

void ClusterBlocking::OnTimeout(uv_timer_t* timer) {
  auto* w = static_cast<Waiter*>(timer->data);
  if (w->busy) {  // its pop may be bringing an element: answered when it is back
    w->timed_out = true;
    return;
  }
  w->owner->Finish(w->client_id, {}, true);
}

void ClusterBlocking::OnTick(uv_timer_t* timer) {
  auto* self = static_cast<ClusterBlocking*>(timer->data);
  self->watches_.RenewDue(uv_now(self->server_.loop()));
  std::vector<std::string> keys;
  for (const auto& [key, ids] : self->queues_) keys.push_back(key);
  for (const std::string& key : keys) self->ServeKey(key);
}

void ClusterBlocking::Finish(std::uint64_t client_id, const std::string& reply, bool null_array) {
  Remove(client_id);
  Client* client = server_.FindClient(client_id);
  if (client == nullptr || client->closing()) return;
  if (null_array) {
    // Redis 7.0 answers every timed-out list or sorted-set wait with a null array.
    client->reply().NullArray();
    client->FinishAsyncCommand();
    return;
  }
  Deliver(client_id, reply);
}

void ClusterBlocking::Remove(std::uint64_t client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return;
  for (const std::string& key : it->second->keys) {
    auto q = queues_.find(key);
    if (q != queues_.end()) {
      std::erase(q->second, client_id);
      if (q->second.empty()) queues_.erase(q);
    }
    watches_.Release(key);
  }
  waiters_.erase(it);
}

void ClusterBlocking::ClientClosed(std::uint64_t client_id) { Remove(client_id); }

std::size_t ClusterBlocking::blocked_clients() const {
  return static_cast<std::size_t>(std::count_if(waiters_.begin(), waiters_.end(),
                                                [](const auto& w) { return w.second->tried; }));
}

std::size_t ClusterBlocking::timed_clients() const {
  return static_cast<std::size_t>(
      std::count_if(waiters_.begin(), waiters_.end(),
                    [](const auto& w) { return w.second->tried && w.second->timed; }));
}

void ClusterBlocking::AppendInfo(std::string* out) const {
  for (const auto& [name, value] :
       {std::pair{"cluster_blocked_clients", std::uint64_t{blocked_clients()}},
        std::pair{"cluster_watched_keys", std::uint64_t{watches_.watched_keys()}},
        std::pair{"cluster_key_watchers", std::uint64_t{watches_.watchers()}},
        std::pair{"cluster_forwards_sent", forwards_sent_},
        std::pair{"cluster_forwards_served", forwards_served_},
        std::pair{"cluster_blocked_pop_reruns", rerun_pops_}}) {
    out->append(name).append(":").append(std::to_string(value)).append("\r\n");
  }
}

bool ClusterBlocking::IsBlocked(std::uint64_t client_id) const {
  auto it = waiters_.find(client_id);
  return it != waiters_.end() && !it->second->busy;
}

}  // namespace dynakv::server
