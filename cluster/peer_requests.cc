#include "peer_requests.h"

#include <utility>

namespace dynakv::cluster {

void SendOrFail(PeerPool& peers, Deferrer& deferrer, std::string_view node, bus::FrameType type,
                std::shared_ptr<const std::string> payload, PeerClient::Callback done,
                std::uint64_t timeout_ms) {
  auto shared_done = std::make_shared<PeerClient::Callback>(std::move(done));
  std::string error;
  const bool sent = peers.Send(
      node, type, std::move(payload),
      [shared_done](PeerClient::Response response) { (*shared_done)(std::move(response)); },
      &error, timeout_ms);
  if (!sent) {
    deferrer.Defer([shared_done, error] { (*shared_done)(PeerClient::Response{false, error, {}}); });
  }
}

void SendToEach(PeerPool& peers, Deferrer& deferrer, const std::vector<std::string>& nodes,
                bus::FrameType type, std::shared_ptr<const std::string> payload,
                std::function<void(std::string first_error)> done) {
  struct Pending {
    std::size_t waiting;
    std::string error;
    std::function<void(std::string)> done;
  };
  auto pending = std::make_shared<Pending>(Pending{nodes.size(), {}, std::move(done)});
  if (nodes.empty()) {
    deferrer.Defer([pending] { pending->done({}); });
    return;
  }
  for (const std::string& node : nodes) {
    SendOrFail(peers, deferrer, node, type, payload,
               [pending, node](PeerClient::Response response) {
                 if (!response.ok && pending->error.empty()) {
                   pending->error = node + ": " + response.error;
                 }
                 if (--pending->waiting == 0) pending->done(std::move(pending->error));
               });
  }
}

}  // namespace dynakv::cluster
