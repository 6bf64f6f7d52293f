#include "cluster_wait.h"

#include <algorithm>
#include <climits>
#include <string>

#include "client.h"
#include "server.h"

namespace dynakv::server {

ClusterWait::ClusterWait(Server& server, cluster::ClusterNode& node)
    : server_(server), node_(node) {}

ClusterWait::~ClusterWait() { *alive_ = false; }

void ClusterWait::StartCommand(std::uint64_t client_id) { last_writes_[client_id].clear(); }

std::shared_ptr<cluster::WriteProgress> ClusterWait::Track(std::uint64_t client_id) {
  auto progress = std::make_shared<cluster::WriteProgress>();
  progress->on_ack = [this, alive = std::weak_ptr<bool>(alive_), client_id] {
    if (auto live = alive.lock(); live && *live) OnAck(client_id);
  };
  last_writes_[client_id].push_back(progress);
  return progress;
}

int ClusterWait::Acked(std::uint64_t client_id) const {
  auto it = last_writes_.find(client_id);
  if (it != last_writes_.end() && !it->second.empty()) {
    int least = INT_MAX;
    for (const auto& progress : it->second) least = std::min(least, progress->acked);
    return least;
  }
  // Nothing written: every replica holds it, as every connected Redis replica holds offset 0.
  const cluster::ClusterOptions& options = node_.options();
  int replicas = options.replication_factor;
  if (!options.replicas_per_dc.empty()) {
    replicas = 0;
    for (const auto& [dc, count] : options.replicas_per_dc) replicas += count;
  }
  int alive = 0;
  for (const cluster::MemberStatus& member : node_.Members()) {
    if (member.self || node_.IsAlive(member.node.id)) ++alive;
  }
  return std::min(replicas, alive);
}

void ClusterWait::Wait(CommandContext& ctx, long long numreplicas, std::uint64_t timeout_ms) {
  const std::uint64_t id = ctx.client.id();
  const int acked = Acked(id);
  // Redis answers at once inside MULTI (and never blocks a client that may not block).
  if (acked >= numreplicas || ctx.client.deny_blocking()) {
    ctx.reply.Integer(acked);
    return;
  }
  auto waiter = std::make_unique<Waiter>();
  waiter->owner = this;
  waiter->client_id = id;
  waiter->numreplicas = numreplicas;
  if (timeout_ms > 0 &&
      waiter->timer.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); },
                         waiter.get()) == 0) {
    uv_timer_start(waiter->timer.get(), OnTimeout, timeout_ms, 0);
  }
  waiters_[id] = std::move(waiter);
  ctx.client.BeginAsyncCommand();
}

void ClusterWait::OnAck(std::uint64_t client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return;
  const int acked = Acked(client_id);
  if (acked >= it->second->numreplicas) Finish(client_id, ":" + std::to_string(acked) + "\r\n");
}

void ClusterWait::OnTimeout(uv_timer_t* timer) {
  auto* waiter = static_cast<Waiter*>(timer->data);
  ClusterWait* self = waiter->owner;
  const std::uint64_t id = waiter->client_id;
  self->Finish(id, ":" + std::to_string(self->Acked(id)) + "\r\n");
}

void ClusterWait::Finish(std::uint64_t client_id, const std::string& reply) {
  waiters_.erase(client_id);  // closes the timer: no callback of it runs after this
  Client* client = server_.FindClient(client_id);
  if (client == nullptr || client->closing()) return;
  client->reply().buffer()->append(reply);
  client->FinishAsyncCommand();
}

bool ClusterWait::Unblock(std::uint64_t client_id, bool error) {
  if (waiters_.count(client_id) == 0) return false;
  if (!error) {
    Finish(client_id, ":" + std::to_string(Acked(client_id)) + "\r\n");
    return true;
  }
  constexpr std::string_view kUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
  server_.NoteErrorReply(kUnblocked);
  Finish(client_id, "-" + std::string(kUnblocked) + "\r\n");
  return true;
}

void ClusterWait::ClientClosed(std::uint64_t client_id) {
  waiters_.erase(client_id);
  last_writes_.erase(client_id);
}

}  // namespace dynakv::server
