#include "bus_handshake.h"

#include <cstring>
#include <utility>

namespace dynakv::cluster {

namespace {

// A nonce or proof as the bytes the wire carries.
template <std::size_t N>
std::string_view AsText(const std::array<unsigned char, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

void CopyNonce(std::string_view from, bus::Nonce* to) {
  std::memcpy(to->data(), from.data(), to->size());
}

}  // namespace

InboundHandshake::State InboundHandshake::OnFrame(const bus::Frame& frame, const Context& context,
                                                  std::string* reply, std::string* error) {
  reply->clear();
  switch (state_) {
    case State::kAwaitingHello:
      return OnHello(frame, context, reply, error);
    case State::kAwaitingProof:
      return OnProof(frame, context, error);
    case State::kIdentified:
    case State::kFailed:
      break;
  }
  return state_;  // not handshake frames: the owner serves or has dropped the connection
}

InboundHandshake::State InboundHandshake::OnHello(const bus::Frame& frame, const Context& context,
                                                  std::string* reply, std::string* error) {
  if (frame.type != bus::FrameType::kHello) {
    return Fail(std::string("first frame was ") + bus::FrameTypeName(frame.type) + ", not HELLO",
                error);
  }
  std::uint32_t version = 0;
  std::string_view node;
  std::string_view nonce;
  if (!bus::DecodeHello(frame.payload, &version, &node, &nonce) || node.empty()) {
    return Fail("malformed HELLO", error);
  }
  if (version != bus::kProtocolVersion) {
    return Fail("peer speaks bus protocol version " + std::to_string(version) + ", this node " +
                    std::to_string(bus::kProtocolVersion),
                error);
  }
  if (!context.is_peer(node)) {
    return Fail("HELLO from '" + std::string(node.substr(0, 64)) + "', which is not a member",
                error);
  }
  if (context.secret.empty()) {
    if (!nonce.empty()) {
      return Fail(
          "peer authenticates with a cluster secret, but this node has none "
          "(cluster-insecure)",
          error, true);
    }
    node_.assign(node);
    state_ = State::kIdentified;
    return state_;
  }
  if (nonce.size() != bus::kNonceBytes) {
    return Fail(nonce.empty() ? "peer has no cluster secret (this node requires one)"
                              : "malformed HELLO nonce",
                error, true);
  }
  transcript_.client_id.assign(node);
  transcript_.server_id.assign(context.self_id);
  transcript_.channel_binding.assign(context.channel_binding);
  CopyNonce(nonce, &transcript_.client_nonce);
  if (!bus::RandomNonce(&transcript_.server_nonce)) {
    return Fail("cannot draw a random nonce (libcrypto)", error);
  }
  const bus::Proof proof = bus::MakeProof(context.secret, bus::Side::kServer, transcript_);
  *reply = bus::EncodeFrame(
      bus::FrameType::kAuthChallenge, 0,
      bus::EncodeAuthChallenge(context.self_id, AsText(transcript_.server_nonce), AsText(proof)));
  state_ = State::kAwaitingProof;
  return state_;
}

InboundHandshake::State InboundHandshake::OnProof(const bus::Frame& frame, const Context& context,
                                                  std::string* error) {
  std::string_view proof;
  if (frame.type != bus::FrameType::kAuthProof || !bus::DecodeAuthProof(frame.payload, &proof)) {
    return Fail(std::string("expected AUTH_PROOF, got ") + (frame.type == bus::FrameType::kAuthProof
                                                                ? "a malformed one"
                                                                : bus::FrameTypeName(frame.type)),
                error, true);
  }
  if (!bus::CheckProof(context.secret, bus::Side::kClient, transcript_, proof)) {
    return Fail("wrong authentication proof from '" + transcript_.client_id.substr(0, 64) +
                    "' (a different cluster secret?)",
                error, true);
  }
  send_key_ = bus::FrameKey(context.secret, bus::Side::kServer, transcript_);
  receive_key_ = bus::FrameKey(context.secret, bus::Side::kClient, transcript_);
  node_ = transcript_.client_id;
  state_ = State::kIdentified;
  return state_;
}

InboundHandshake::State InboundHandshake::Fail(std::string reason, std::string* error, bool auth) {
  *error = std::move(reason);
  auth_failed_ = auth;
  state_ = State::kFailed;
  return state_;
}

std::string OutboundHandshake::Start(std::string* error) {
  done_ = secret_.empty();
  transcript_ = bus::Transcript{};
  transcript_.client_id = self_id_;
  if (done_) return bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello(self_id_));
  if (!bus::RandomNonce(&transcript_.client_nonce)) {
    *error = "cannot draw a random nonce (libcrypto)";
    return {};
  }
  return bus::EncodeFrame(bus::FrameType::kHello, 0,
                          bus::EncodeHello(self_id_, AsText(transcript_.client_nonce)));
}

bool OutboundHandshake::OnFrame(const bus::Frame& frame, std::string* reply, std::string* error) {
  std::string_view id;
  std::string_view nonce;
  std::string_view proof;
  if (frame.type == bus::FrameType::kError) {
    std::string_view message;
    *error = bus::DecodeError(frame.payload, &message)
                 ? "refused the handshake: " + std::string(message.substr(0, 200))
                 : "refused the handshake";
    return false;
  }
  if (frame.type != bus::FrameType::kAuthChallenge ||
      !bus::DecodeAuthChallenge(frame.payload, &id, &nonce, &proof) ||
      nonce.size() != bus::kNonceBytes) {
    *error = std::string("expected AUTH_CHALLENGE, got ") +
             (frame.type == bus::FrameType::kAuthChallenge ? "a malformed one"
                                                           : bus::FrameTypeName(frame.type)) +
             " (does the peer have the cluster secret?)";
    return false;
  }
  if (!expected_peer_.empty() && id != expected_peer_) {
    *error = "the listener says it is '" + std::string(id.substr(0, 64)) + "', not '" +
             expected_peer_ + "'";
    return false;
  }
  transcript_.server_id.assign(id);
  transcript_.channel_binding = channel_binding_;
  CopyNonce(nonce, &transcript_.server_nonce);
  if (!bus::CheckProof(secret_, bus::Side::kServer, transcript_, proof)) {
    *error = "wrong authentication proof from the listener (a different cluster secret?)";
    return false;
  }
  *reply = bus::EncodeFrame(
      bus::FrameType::kAuthProof, 0,
      bus::EncodeAuthProof(AsText(bus::MakeProof(secret_, bus::Side::kClient, transcript_))));
  send_key_ = bus::FrameKey(secret_, bus::Side::kClient, transcript_);
  receive_key_ = bus::FrameKey(secret_, bus::Side::kServer, transcript_);
  done_ = true;
  return true;
}

}  // namespace dynakv::cluster
