#include "bus_handshake.h"

#include <utility>

namespace dynakv::cluster {

InboundHandshake::State InboundHandshake::OnFrame(const bus::Frame& frame, const IsPeer& is_peer,
                                                  std::string* error) {
  switch (state_) {
    case State::kAwaitingHello:
      break;
    case State::kIdentified:
    case State::kFailed:
      return state_;  // not handshake frames: the owner serves or has dropped the connection
  }
  if (frame.type != bus::FrameType::kHello) {
    return Fail(std::string("first frame was ") + bus::FrameTypeName(frame.type) + ", not HELLO",
                error);
  }
  std::uint32_t version = 0;
  std::string_view node;
  if (!bus::DecodeHello(frame.payload, &version, &node) || node.empty()) {
    return Fail("malformed HELLO", error);
  }
  if (version != bus::kProtocolVersion) {
    return Fail("peer speaks bus protocol version " + std::to_string(version) + ", this node " +
                    std::to_string(bus::kProtocolVersion),
                error);
  }
  if (!is_peer(node)) {
    return Fail("HELLO from '" + std::string(node.substr(0, 64)) + "', which is not a member",
                error);
  }
  node_.assign(node);
  state_ = State::kIdentified;
  return state_;
}

InboundHandshake::State InboundHandshake::Fail(std::string reason, std::string* error) {
  *error = std::move(reason);
  state_ = State::kFailed;
  return state_;
}

}  // namespace dynakv::cluster
