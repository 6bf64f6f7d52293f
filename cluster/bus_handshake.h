// The accepting side's half of the bus handshake, one per inbound connection: what a peer must
// send before the node serves it, and what it may send until then (nothing else).
//
// Today one step: the peer's first frame is HELLO with this node's protocol version and the id
// of a member (Membership::is_peer); the connection is then identified as that member. Anything
// else (another frame type, a malformed HELLO, a stranger's id) fails the handshake, and the
// owner closes the connection. Frames before identification are small (kMaxFrameLength), so an
// unidentified peer cannot make the node buffer a 512 MB frame.
//
// The states are explicit so that more steps fit between them (authentication: the node answers
// HELLO with a challenge and waits for the peer's proof before kIdentified). Until then naming
// a member is all it takes: the handshake budget and deadline (bus_server.h) protect the slots
// from peers that say nothing, not from peers that lie.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "cluster/bus_protocol.h"

namespace dynakv::cluster {

class InboundHandshake {
 public:
  enum class State {
    kAwaitingHello,  // connected; the first frame must be HELLO
    kIdentified,     // a member: its requests are served
    kFailed,         // the peer broke the handshake: the connection is to be closed
  };
  using IsPeer = std::function<bool(std::string_view node)>;

  // The largest frame accepted before identification: a HELLO is a few dozen bytes.
  static constexpr std::size_t kMaxFrameLength = 64 * 1024;

  // Feeds one frame received before identification. Returns the new state; on kFailed, *error
  // says why (for the log: it may quote a few bytes of the peer's input).
  State OnFrame(const bus::Frame& frame, const IsPeer& is_peer, std::string* error);

  State state() const { return state_; }
  bool identified() const { return state_ == State::kIdentified; }
  // The member's id once identified, empty before.
  const std::string& node() const { return node_; }

 private:
  State Fail(std::string reason, std::string* error);

  State state_ = State::kAwaitingHello;
  std::string node_;
};

}  // namespace dynakv::cluster
