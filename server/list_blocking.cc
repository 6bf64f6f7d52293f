#include "list_blocking.h"

#include <algorithm>
#include <cstring>

#include "client.h"
#include "command.h"
#include "command_call.h"
#include "keyspace.h"
#include "server.h"
#include "types/list.h"
#include "types/sorted_set.h"

namespace dynakv::server {

BlockedLists::~BlockedLists() = default;

std::string BlockedLists::QueueKey(std::uint32_t db, std::string_view key) {
  std::string out(reinterpret_cast<const char*>(&db), sizeof(db));
  out.append(key);
  return out;
}

std::uint32_t BlockedLists::QueueDb(std::string_view queue_key) {
  std::uint32_t db;
  std::memcpy(&db, queue_key.data(), sizeof(db));
  return db;
}

void BlockedLists::Block(Client& client, resp::ReplyWriter& reply, const CommandSpec& spec,
                         std::span<const std::string_view> argv,
                         std::span<const std::string_view> keys, std::uint64_t timeout_ms,
                         bool null_bulk) {
  if (rerunning_ == client.id() && waiters_.count(client.id()) != 0) return;
  // In cluster mode the command runs on its key's primary for a client waiting on another node
  // (cluster_blocking.h), which waits there: here it only answers that nothing was popped.
  if (client.deny_blocking() || server_.cluster_executor() != nullptr) {
    // Inside EXEC a blocking command cannot wait: it answers as if it timed out (Redis).
    if (null_bulk) {
      reply.Null();
    } else {
      reply.NullArray();
    }
    return;
  }
  auto waiter = std::make_unique<Waiter>();
  waiter->client_id = client.id();
  waiter->db = client.db();
  waiter->spec = &spec;
  waiter->argv.assign(argv.begin(), argv.end());
  waiter->owner = this;
  for (std::string_view key : keys) {
    if (std::find(waiter->keys.begin(), waiter->keys.end(), key) != waiter->keys.end()) continue;
    waiter->keys.emplace_back(key);
    queues_[QueueKey(waiter->db, key)].push_back(client.id());
  }
  if (timeout_ms > 0) {
    waiter->timed = true;
    Waiter* raw = waiter.get();
    if (waiter->timer.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); }, raw) ==
        0) {
      uv_timer_start(waiter->timer.get(), OnTimeout, timeout_ms, 0);
    }
  }
  waiters_[client.id()] = std::move(waiter);
  client.BeginAsyncCommand();
}

void BlockedLists::Served(Client& client) {
  auto it = waiters_.find(client.id());
  if (it != waiters_.end()) it->second->served = true;
}

void BlockedLists::SignalReady(std::uint32_t db, std::string_view key) {
  const std::string queue_key = QueueKey(db, key);
  auto it = queues_.find(queue_key);
  if (it == queues_.end() || it->second.empty()) return;
  if (ready_set_.count(queue_key) != 0) return;
  ready_set_.insert(queue_key);
  ready_.push_back(queue_key);
}

void BlockedLists::SignalDatabase(std::uint32_t db) {
  std::vector<std::string> keys;
  for (const auto& [queue_key, ids] : queues_) {
    if (QueueDb(queue_key) == db) keys.push_back(queue_key.substr(sizeof(db)));
  }
  for (const std::string& key : keys) SignalReady(db, key);
}

void BlockedLists::OnTimeout(uv_timer_t* timer) {
  auto* waiter = static_cast<Waiter*>(timer->data);
  BlockedLists* self = waiter->owner;
  const std::uint64_t id = waiter->client_id;
  const ResolvedCommand cmd{waiter->spec, nullptr};
  const std::vector<std::string> args = std::move(waiter->argv);
  self->Remove(id);  // destroys the waiter (and closes this timer)
  Client* client = self->server_.FindClient(id);
  if (client == nullptr || client->closing()) return;
  // Redis 7.0's replyToBlockedClientTimedOut answers every list wait with a null array, BLMOVE's
  // and BRPOPLPUSH's too (*-1 in RESP2); only their refusal to block (in MULTI) is a null bulk.
  client->reply().NullArray();
  // The call is counted now, as Redis's updateStatsOnUnblock counts it (no time spent running).
  const std::vector<std::string_view> argv(args.begin(), args.end());
  NoteCommandRun(self->server_, *client, cmd, argv, 0, false);
  client->FinishAsyncCommand();
}

bool BlockedLists::Unblock(std::uint64_t client_id, bool error) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end() || rerunning_ == client_id) return false;
  Client* client = server_.FindClient(client_id);
  if (client == nullptr || client->closing()) return false;
  const ResolvedCommand cmd{it->second->spec, nullptr};
  const std::vector<std::string> args = std::move(it->second->argv);
  Remove(client_id);
  if (error) {
    // Redis's reply, whose code (UNBLOCKED) errorstats counts.
    constexpr std::string_view kUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
    client->reply().Error(kUnblocked);
    server_.NoteErrorReply(kUnblocked);
  } else {
    client->reply().NullArray();
  }
  const std::vector<std::string_view> argv(args.begin(), args.end());
  NoteCommandRun(server_, *client, cmd, argv, 0, error);
  client->FinishAsyncCommand();
  return true;
}

void BlockedLists::Remove(std::uint64_t client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return;
  for (const std::string& key : it->second->keys) {
    auto q = queues_.find(QueueKey(it->second->db, key));
    if (q == queues_.end()) continue;
    std::deque<std::uint64_t>& ids = q->second;
    ids.erase(std::remove(ids.begin(), ids.end(), client_id), ids.end());
    if (ids.empty()) queues_.erase(q);
  }
  waiters_.erase(it);
}

void BlockedLists::ClientClosed(std::uint64_t client_id) { Remove(client_id); }

BlockedLists::Held BlockedLists::HeldBy(std::uint32_t db, std::string_view key) {
  std::optional<storage::ValueRef> value = server_.keyspace(db).Get(key);
  if (!value) return Held::kNone;
  if (dynamic_cast<const types::List*>(value->object()) != nullptr) return Held::kList;
  if (dynamic_cast<const types::SortedSet*>(value->object()) != nullptr) return Held::kSortedSet;
  return Held::kNone;
}

BlockedLists::Held BlockedLists::WaitsFor(const Waiter& waiter) {
  return (waiter.spec->acl & kAclSortedSet) != 0 ? Held::kSortedSet : Held::kList;
}

bool BlockedLists::Rerun(Waiter& waiter, Client& client) {
  std::vector<std::string_view> argv(waiter.argv.begin(), waiter.argv.end());
  const std::uint64_t id = waiter.client_id;
  const CommandSpec& spec = *waiter.spec;
  rerunning_ = id;
  const std::size_t before = client.reply().buffer()->size();
  // The one path of every command (command_call.h): what it popped is acknowledged by its reply,
  // which waits for the log to hold the pop, and a segment that failed to read fails it.
  CallCommand(server_, client, ResolvedCommand{&spec, nullptr}, argv, client.reply());
  rerunning_ = 0;
  // Any reply ends the wait: the element it popped, or an error (a write refused).
  if (client.reply().buffer()->size() != before) return true;
  auto it = waiters_.find(id);
  return it == waiters_.end() || it->second->served;
}

void BlockedLists::ServeReady() {
  if (serving_) return;  // a served client's next commands run inside; the loop below sees them
  serving_ = true;
  std::vector<std::uint64_t> finished;
  while (!ready_.empty()) {
    const std::string queue_key = std::move(ready_.front());
    ready_.pop_front();
    ready_set_.erase(queue_key);
    auto q = queues_.find(queue_key);
    if (q == queues_.end()) continue;
    const std::uint32_t db = QueueDb(queue_key);
    const std::string_view key = std::string_view(queue_key).substr(sizeof(db));
    const std::vector<std::uint64_t> ids(q->second.begin(), q->second.end());
    for (std::uint64_t id : ids) {
      const Held held = HeldBy(db, key);
      if (held == Held::kNone) break;
      auto it = waiters_.find(id);
      if (it == waiters_.end()) continue;
      if (WaitsFor(*it->second) != held) continue;  // a sorted set does not serve BLPOP
      Client* client = server_.FindClient(id);
      if (client == nullptr || client->closing()) {
        Remove(id);
        continue;
      }
      if (!Rerun(*it->second, *client)) continue;
      Remove(id);
      finished.push_back(id);
    }
  }
  serving_ = false;
  // Finishing runs the requests the clients queued meanwhile, which may block or push again.
  for (std::uint64_t id : finished) {
    if (Client* client = server_.FindClient(id); client != nullptr && !client->closing()) {
      client->FinishAsyncCommand();
    }
  }
  if (!ready_.empty()) ServeReady();
}

}  // namespace dynakv::server
