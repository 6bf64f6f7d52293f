// Request shapes the node sends over the bus beyond the coordinator's quorum reads and writes:
// one request that must fail asynchronously when it cannot be sent, and one request to each of
// several members answered once all of them have.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deferrer.h"
#include "peer_pool.h"

namespace dynakv::cluster {

// PeerPool::Send, except that a request it refuses (no connection, partitioned) is answered
// with the refusal through `deferrer`: callers get exactly one answer, never from inside the call.
void SendOrFail(PeerPool& peers, Deferrer& deferrer, std::string_view node, bus::FrameType type,
                std::shared_ptr<const std::string> payload, PeerClient::Callback done,
                std::uint64_t timeout_ms = 0);

// Sends `payload` to every member in `nodes`; `done` runs once, after all answered, with the
// first failure as "<node>: <error>" (empty when every member confirmed).
void SendToEach(PeerPool& peers, Deferrer& deferrer, const std::vector<std::string>& nodes,
                bus::FrameType type, std::shared_ptr<const std::string> payload,
                std::function<void(std::string first_error)> done);

}  // namespace dynakv::cluster
