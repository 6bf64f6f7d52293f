#include "cluster_wait.h"

#include <algorithm>
#include <climits>
#include <random>
#include <string>

#include "client.h"
#include "server.h"

namespace dynakv::server {

std::shared_ptr<cluster::WriteProgress> NewTrackedWrite(const WriteRecorder& record) {
  if (!record) return nullptr;
  auto progress = std::make_shared<cluster::WriteProgress>();
  record(TrackedWrite{progress, {}, 0, false});
  return progress;
}

ClusterWait::ClusterWait(Server& server, cluster::ClusterNode& node)
    : server_(server), node_(node), forwarded_(server.loop()) {
  std::random_device random;
  next_token_ = (static_cast<std::uint64_t>(random()) << 32) ^ random();
  node_.SetWriteAcksHandler([this](std::string_view from, std::string_view payload,
                                   std::function<void(std::string)> respond) {
    forwarded_.Serve(from, payload, std::move(respond));
  });
}

ClusterWait::~ClusterWait() {
  *alive_ = false;
  node_.SetWriteAcksHandler(nullptr);  // the node outlives the server
}

WriteRecorder ClusterWait::Recorder(std::uint64_t client_id) {
  return [this, alive = std::weak_ptr<bool>(alive_), client_id,
          command = ++next_command_](TrackedWrite write) {
    if (auto live = alive.lock(); live && *live) Record(client_id, command, std::move(write));
  };
}

void ClusterWait::Record(std::uint64_t client_id, std::uint64_t command, TrackedWrite write) {
  Client* client = server_.FindClient(client_id);
  if (client == nullptr || client->closing()) return;
  LastWrite& last = last_writes_[client_id];
  if (command < last.command) return;
  if (command > last.command) {
    last.command = command;
    last.writes.clear();
  }
  write.progress->on_ack = [this, alive = std::weak_ptr<bool>(alive_), client_id] {
    if (auto live = alive.lock(); live && *live) OnAck(client_id);
  };
  last.writes.push_back(std::move(write));
}

WriteRecorder ClusterWait::ForwardRecorder(std::string_view from, std::uint64_t token) {
  return [this, alive = std::weak_ptr<bool>(alive_), from = std::string(from),
          token](TrackedWrite write) {
    if (auto live = alive.lock(); live && *live) forwarded_.Record(from, token, write.progress);
  };
}

std::function<void(std::string)> ClusterWait::AnswerForward(
    std::string_view from, std::uint64_t token, std::function<void(std::string)> respond) {
  return [this, alive = std::weak_ptr<bool>(alive_), from = std::string(from), token,
          respond = std::move(respond)](std::string reply) {
    auto live = alive.lock();
    if (!live || !*live) {
      respond(cluster::EncodeForwardReply(cluster::ForwardReply{false, 0, std::move(reply)}));
      return;
    }
    respond(forwarded_.Reply(from, token, std::move(reply)));
  };
}

void ClusterWait::Forward(const std::string& node, cluster::ForwardRequest request,
                          std::uint64_t timeout_ms, const WriteRecorder& record,
                          std::function<void(cluster::ClusterNode::ForwardResult)> done) {
  if (record) {
    if (++next_token_ == 0) ++next_token_;
    request.track = next_token_;
  }
  const std::uint64_t token = request.track;
  node_.Forward(
      node, cluster::EncodeForwardRequest(request), timeout_ms,
      [node, token, record, done = std::move(done)](cluster::ClusterNode::ForwardResult result) {
        if (result.ok && token != 0) {
          cluster::ForwardReply reply;
          if (!cluster::DecodeForwardReply(result.reply, &reply)) {
            result.ok = false;
            result.error = "malformed FORWARD reply";
            result.reply.clear();
          } else {
            if (reply.wrote) {
              auto progress = std::make_shared<cluster::WriteProgress>();
              progress->acked = static_cast<int>(reply.acked);
              record(TrackedWrite{std::move(progress), node, token, false});
            }
            result.reply = std::move(reply.reply);
          }
        }
        done(std::move(result));
      });
}

int ClusterWait::Acked(std::uint64_t client_id) const {
  auto it = last_writes_.find(client_id);
  if (it != last_writes_.end() && !it->second.writes.empty()) {
    int least = INT_MAX;
    for (const TrackedWrite& write : it->second.writes) {
      least = std::min(least, write.progress->acked);
    }
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
  waiter->generation = ++next_generation_;
  waiter->numreplicas = numreplicas;
  if (timeout_ms > 0) {
    waiter->deadline_ms = uv_now(server_.loop()) + timeout_ms;
    if (waiter->timer.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); },
                           waiter.get()) == 0) {
      uv_timer_start(waiter->timer.get(), OnTimeout, timeout_ms, 0);
    }
  }
  Waiter& w = *waiter;
  waiters_[id] = std::move(waiter);
  ctx.client.BeginAsyncCommand();
  AskMembers(w);
}

void ClusterWait::AskMembers(Waiter& waiter) {
  auto it = last_writes_.find(waiter.client_id);
  if (it == last_writes_.end()) return;
  for (const TrackedWrite& write : it->second.writes) {
    if (write.node.empty() || write.forgotten || write.progress->acked >= waiter.numreplicas ||
        waiter.asking.count(write.token) != 0) {
      continue;
    }
    Ask(waiter, write);
  }
}

void ClusterWait::Ask(Waiter& waiter, const TrackedWrite& write) {
  std::uint64_t wait_ms = kPollMs;
  if (waiter.deadline_ms != 0) {
    const std::uint64_t now = uv_now(server_.loop());
    if (waiter.deadline_ms <= now) return;  // its timer answers it now
    wait_ms = std::min(wait_ms, waiter.deadline_ms - now);
  }
  cluster::WriteAcksRequest request;
  request.token = write.token;
  // Answered at each new acknowledgement, so the count is current when WAIT's timeout ends it.
  request.above = static_cast<std::uint32_t>(std::max(write.progress->acked, 0));
  request.wait_ms = static_cast<std::uint32_t>(wait_ms);
  waiter.asking.insert(write.token);
  const std::uint64_t timeout =
      wait_ms + static_cast<std::uint64_t>(node_.options().request_timeout_ms);
  node_.QueryWriteAcks(
      write.node, cluster::EncodeWriteAcksRequest(request), timeout,
      [this, alive = std::weak_ptr<bool>(alive_), client_id = waiter.client_id,
       generation = waiter.generation, token = write.token,
       progress = write.progress](cluster::ClusterNode::ForwardResult result) {
        if (auto live = alive.lock(); !live || !*live) return;
        cluster::WriteAcksReply reply;
        const bool answered = result.ok && cluster::DecodeWriteAcksReply(result.reply, &reply);
        if (answered) {
          progress->acked = std::max(progress->acked, static_cast<int>(reply.acked));
          if (!reply.known) {
            auto last = last_writes_.find(client_id);
            if (last != last_writes_.end()) {
              for (TrackedWrite& write : last->second.writes) {
                if (write.token == token) write.forgotten = true;
              }
            }
          }
        }
        auto it = waiters_.find(client_id);
        if (it == waiters_.end() || it->second->generation != generation) return;
        Waiter& waiter = *it->second;
        waiter.asking.erase(token);
        const int acked = Acked(client_id);
        if (acked >= waiter.numreplicas) {
          Finish(client_id, ":" + std::to_string(acked) + "\r\n");
          return;
        }
        if (answered) {
          AskMembers(waiter);
        } else if (!waiter.retry) {
          if (waiter.retry.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); },
                                &waiter) == 0) {
            uv_timer_start(waiter.retry.get(), OnRetry, kRetryMs, 0);
          }
        }
      });
}

void ClusterWait::OnRetry(uv_timer_t* timer) {
  auto* waiter = static_cast<Waiter*>(timer->data);
  waiter->retry.Close();
  waiter->owner->AskMembers(*waiter);
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
  waiters_.erase(client_id);  // closes the timers: no callback of them runs after this
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
