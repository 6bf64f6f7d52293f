#include "forwarded_writes.h"

#include <algorithm>
#include <climits>

#include "cluster/key_messages.h"

namespace dynakv::server {

ForwardedWrites::~ForwardedWrites() { *alive_ = false; }

int ForwardedWrites::Acked(const Command& command) {
  int least = INT_MAX;
  for (const auto& progress : command.writes) least = std::min(least, progress->acked);
  return command.writes.empty() ? 0 : least;
}

void ForwardedWrites::Record(std::string_view from, std::uint64_t token,
                             std::shared_ptr<cluster::WriteProgress> progress) {
  Key key{std::string(from), token};
  auto it = commands_.find(key);
  if (it == commands_.end()) {
    if (order_.size() >= kMaxCommands) {
      auto oldest = commands_.find(order_.front());
      if (oldest != commands_.end()) {
        while (!oldest->second.queries.empty()) {
          Answer(oldest->second, oldest->second.queries.front().get());
        }
        commands_.erase(oldest);
      }
      order_.pop_front();
    }
    order_.push_back(key);
    it = commands_.emplace(key, Command{}).first;
  }
  progress->on_ack = [this, alive = std::weak_ptr<bool>(alive_), key] {
    if (auto live = alive.lock(); live && *live) OnAck(key);
  };
  it->second.writes.push_back(std::move(progress));
}

std::string ForwardedWrites::Reply(std::string_view from, std::uint64_t token,
                                   std::string reply) const {
  cluster::ForwardReply answer;
  auto it = commands_.find(Key{std::string(from), token});
  answer.wrote = it != commands_.end();
  answer.acked = answer.wrote ? static_cast<std::uint32_t>(Acked(it->second)) : 0;
  answer.reply = std::move(reply);
  return cluster::EncodeForwardReply(answer);
}

void ForwardedWrites::Serve(std::string_view from, std::string_view payload, Respond respond) {
  cluster::WriteAcksRequest request;
  if (!cluster::DecodeWriteAcksRequest(payload, &request)) {
    respond(cluster::EncodeWriteAcksReply(cluster::WriteAcksReply{}));
    return;
  }
  Key key{std::string(from), request.token};
  auto it = commands_.find(key);
  if (it == commands_.end()) {
    respond(cluster::EncodeWriteAcksReply(cluster::WriteAcksReply{}));
    return;
  }
  const int acked = Acked(it->second);
  if (acked > static_cast<int>(request.above) || request.wait_ms == 0) {
    respond(cluster::EncodeWriteAcksReply(
        cluster::WriteAcksReply{true, static_cast<std::uint32_t>(acked)}));
    return;
  }
  auto query = std::make_unique<Query>();
  query->owner = this;
  query->key = key;
  query->above = request.above;
  query->respond = std::move(respond);
  if (query->timer.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, query.get()) == 0) {
    uv_timer_start(query->timer.get(), OnTimeout, request.wait_ms, 0);
  } else {
    query->respond(cluster::EncodeWriteAcksReply(
        cluster::WriteAcksReply{true, static_cast<std::uint32_t>(acked)}));
    return;
  }
  it->second.queries.push_back(std::move(query));
}

void ForwardedWrites::OnAck(const Key& key) {
  auto it = commands_.find(key);
  if (it == commands_.end()) return;
  Command& command = it->second;
  const int acked = Acked(command);
  for (std::size_t i = 0; i < command.queries.size();) {
    if (acked > static_cast<int>(command.queries[i]->above)) {
      Answer(command, command.queries[i].get());
    } else {
      ++i;
    }
  }
}

void ForwardedWrites::OnTimeout(uv_timer_t* timer) {
  auto* query = static_cast<Query*>(timer->data);
  ForwardedWrites* self = query->owner;
  auto it = self->commands_.find(query->key);
  if (it != self->commands_.end()) self->Answer(it->second, query);
}

void ForwardedWrites::Answer(Command& command, const Query* query) {
  auto it = std::find_if(command.queries.begin(), command.queries.end(),
                         [&](const std::unique_ptr<Query>& q) { return q.get() == query; });
  if (it == command.queries.end()) return;
  std::unique_ptr<Query> owned = std::move(*it);
  command.queries.erase(it);  // owned's timer closes with it: no callback of it runs after this
  owned->respond(cluster::EncodeWriteAcksReply(
      cluster::WriteAcksReply{true, static_cast<std::uint32_t>(Acked(command))}));
}

}  // namespace dynakv::server
