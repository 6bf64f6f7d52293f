// CLIENT PAUSE's state on the Server (server.h): Redis 7.0's pauseClients / unpauseClients and
// the check processCommand makes before running a request (BLOCKED_POSTPONE).

#include <algorithm>

#include "client.h"
#include "server.h"

namespace dynakv::server {

void Server::PauseClients(PauseType type, std::uint64_t end_ms) {
  pause_type_ = type;
  pause_end_ms_ = std::max(pause_end_ms_, end_ms);
  // Redis 7: while clients are paused the dataset does not change by itself either.
  engine_.PauseKeyRemoval(true);
}

void Server::UnpauseClients() {
  pause_type_ = PauseType::kNone;
  pause_end_ms_ = 0;
  engine_.PauseKeyRemoval(false);
  const std::vector<std::uint64_t> held = std::move(postponed_);
  postponed_.clear();
  for (std::uint64_t id : held) {
    if (Client* client = FindClient(id); client != nullptr) client->ResumeAfterPause();
  }
}

bool Server::Postpone(Client& client, const std::vector<std::string_view>& argv) {
  if (pause_type_ == PauseType::kNone) return false;
  if (uv_now(loop_) >= pause_end_ms_) {
    UnpauseClients();
    return false;
  }
  if (pause_type_ == PauseType::kWrite) {
    const CommandSpec* spec = commands_.Find(argv[0]);
    if (spec == nullptr) return false;
    // Redis's CMD_MAY_REPLICATE commands write through what they run.
    static constexpr std::string_view kMayReplicate[] = {"eval", "evalsha", "fcall", "publish",
                                                         "spublish", "pfcount"};
    bool writes = (spec->flags & kCmdWrite) != 0 ||
                  std::find(std::begin(kMayReplicate), std::end(kMayReplicate), spec->name) !=
                      std::end(kMayReplicate);
    if (spec->name == "exec" && client.transaction().active()) {
      writes = (client.transaction().queued_flags() & kCmdWrite) != 0;
    }
    if (!writes) return false;
  }
  if (std::find(postponed_.begin(), postponed_.end(), client.id()) == postponed_.end()) {
    postponed_.push_back(client.id());
  }
  return true;
}

}  // namespace dynakv::server
