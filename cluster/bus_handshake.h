// The two halves of the bus handshake: what each side must send before the other serves it
// (nothing else may come first), and the keys of the frames that follow.
//
// Without a cluster secret (cluster-insecure) one step: the dialling node's first frame is
// HELLO with this protocol version and the id of a member (Membership::is_peer); the connection
// is then identified as that member. Naming a member is then all it takes.
//
// With a secret, mutual challenge-response (bus_auth.h):
//   client -> HELLO {version, client id, client nonce}
//   server -> AUTH_CHALLENGE {server id, server nonce, server proof}   the client checks it
//   client -> AUTH_PROOF {client proof}                                 the server checks it
// and both sides then enable the frame MACs (BusConnection::EnableMac) from the next frame on.
// Over TLS (tls-cluster) the same exchange runs inside the TLS session, its transcript bound to
// that session (Transcript::channel_binding), and the frame MACs are left to TLS.
// The server proves itself first, but over a nonce of its own choosing, so what a stranger
// learns from it is useless on any other connection or in the other direction.
//
// Anything else (another frame type, a malformed frame, a stranger's id, a wrong proof, a peer
// with a secret talking to one without) fails the handshake and the owner closes the
// connection. Frames before identification are small (kMaxFrameLength), so an unidentified peer
// cannot make the node buffer a 512 MB frame; the handshake budget and deadline (bus_server.h)
// keep strangers that say nothing from holding the slots.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "bus_auth.h"
#include "cluster/bus_protocol.h"

namespace dynakv::cluster {

class InboundHandshake {
 public:
  enum class State {
    kAwaitingHello,  // connected; the first frame must be HELLO
    kAwaitingProof,  // challenged (a secret is set); the next frame must be AUTH_PROOF
    kIdentified,     // a member: its requests are served
    kFailed,         // the peer broke the handshake: the connection is to be closed
  };
  using IsPeer = std::function<bool(std::string_view node)>;
  struct Context {
    std::string_view self_id;
    std::string_view secret;  // empty: no authentication
    IsPeer is_peer;
    // Over TLS: the connection's BusConnection::ChannelBinding(), which the proofs then cover
    // (a relay between two TLS connections fails); empty on a plain connection.
    std::string_view channel_binding = {};
  };

  // The largest frame accepted before identification: a HELLO is a few dozen bytes.
  static constexpr std::size_t kMaxFrameLength = 64 * 1024;

  // Feeds one frame received before identification. Returns the new state; *reply is a whole
  // frame to send back bare (the challenge) or empty; on kFailed, *error says why (for the log:
  // it may quote a few bytes of the peer's input).
  State OnFrame(const bus::Frame& frame, const Context& context, std::string* reply,
                std::string* error);

  State state() const { return state_; }
  bool identified() const { return state_ == State::kIdentified; }
  // Whether the failure was authentication (no or a wrong proof), not a malformed handshake.
  bool auth_failed() const { return auth_failed_; }
  // The member's id once identified, empty before.
  const std::string& node() const { return node_; }
  // Once identified with a secret: the keys of the frames this side sends and receives.
  const bus::Key& send_key() const { return send_key_; }
  const bus::Key& receive_key() const { return receive_key_; }

 private:
  State OnHello(const bus::Frame& frame, const Context& context, std::string* reply,
                std::string* error);
  State OnProof(const bus::Frame& frame, const Context& context, std::string* error);
  State Fail(std::string reason, std::string* error, bool auth = false);

  State state_ = State::kAwaitingHello;
  bool auth_failed_ = false;
  std::string node_;
  bus::Transcript transcript_;
  bus::Key send_key_{};
  bus::Key receive_key_{};
};

class OutboundHandshake {
 public:
  // `expected_peer` is the id the listener must prove (empty: any, for a seed known only by
  // address); `secret` empty: no authentication, done once HELLO is sent.
  OutboundHandshake(std::string self_id, std::string expected_peer, std::string_view secret)
      : self_id_(std::move(self_id)), expected_peer_(std::move(expected_peer)), secret_(secret) {}

  // Starts over for a new connection: returns the HELLO frame to send first, or empty when no
  // nonce could be drawn (*error says so).
  std::string Start(std::string* error);
  // Whether the peer is authenticated (or no secret is set): its frames are then replies.
  bool done() const { return done_; }
  // Over TLS, before the challenge is fed: the connection's BusConnection::ChannelBinding().
  void set_channel_binding(std::string binding) { channel_binding_ = std::move(binding); }
  // Feeds the frame received while !done(). Returns false (with *error, auth or not) when the
  // peer failed; else done() holds, *reply is the AUTH_PROOF frame to send bare before anything
  // else, and the keys are set.
  bool OnFrame(const bus::Frame& frame, std::string* reply, std::string* error);
  const bus::Key& send_key() const { return send_key_; }
  const bus::Key& receive_key() const { return receive_key_; }

 private:
  std::string self_id_;
  std::string expected_peer_;
  std::string secret_;
  std::string channel_binding_;
  bus::Transcript transcript_;
  bus::Key send_key_{};
  bus::Key receive_key_{};
  bool done_ = false;
};

}  // namespace dynakv::cluster
