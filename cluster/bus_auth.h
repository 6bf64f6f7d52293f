// The cryptography of the authenticated bus (HMAC-SHA256 from OpenSSL's libcrypto): the proofs
// of the handshake and the MAC that every later frame carries.
//
// Both ends of a connection share the cluster secret. The handshake (bus_handshake.h) exchanges
// a fresh random nonce from each side; its transcript binds both nonces and both node ids, so
//  - a proof is HMAC(secret, direction label || transcript): the label stops a proof being
//    reflected back to its sender, the nonces stop it being replayed on another connection;
//  - each direction's frame key is HMAC(secret, key label || transcript), fresh per connection.
// Every frame after the handshake ends with kFrameMacBytes of HMAC(frame key, sequence number ||
// header || payload), the sequence number counting that direction's frames from 0, so a frame
// replayed, reordered, dropped or modified fails the check. Nothing is encrypted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dynakv::cluster::bus {

constexpr std::size_t kNonceBytes = 32;
constexpr std::size_t kProofBytes = 32;  // a full HMAC-SHA256
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kFrameMacBytes = 16;  // HMAC-SHA256 truncated

using Nonce = std::array<unsigned char, kNonceBytes>;
using Proof = std::array<unsigned char, kProofBytes>;
using Key = std::array<unsigned char, kKeyBytes>;
using FrameTag = std::array<char, kFrameMacBytes>;

// Who speaks: the node that dialled (client) or the one that accepted (server).
enum class Side { kClient, kServer };

// A fresh nonce from OpenSSL's CSPRNG; false if it could not produce one.
bool RandomNonce(Nonce* nonce);

// What both sides know once the nonces are exchanged. Ids are the client's (the HELLO's) and the
// server's (the CHALLENGE's).
struct Transcript {
  Nonce client_nonce{};
  Nonce server_nonce{};
  std::string client_id;
  std::string server_id;
  // Over TLS: keying material exported from the TLS session (BusConnection::ChannelBinding),
  // so proofs and keys are valid on this TLS connection only; empty on a plain connection.
  std::string channel_binding;
};

// The proof that `side` knows `secret`.
Proof MakeProof(std::string_view secret, Side side, const Transcript& transcript);
// Constant-time check of a received proof that `side` sent.
bool CheckProof(std::string_view secret, Side side, const Transcript& transcript,
                std::string_view received);
// The key of the frames `side` sends on this connection.
Key FrameKey(std::string_view secret, Side side, const Transcript& transcript);

// The MAC of one direction's frames, HMAC-SHA256(key, sequence number (u64 LE) || header ||
// payload) truncated to kFrameMacBytes: keyed once, reused for every frame (the hash states
// after the key's padded blocks are kept, so a frame costs its own bytes' hashing and no
// re-keying). Counts the frames itself.
class FrameMac {
 public:
  FrameMac();
  ~FrameMac();
  FrameMac(const FrameMac&) = delete;
  FrameMac& operator=(const FrameMac&) = delete;

  // False when libcrypto failed: the connection must not go on.
  bool Init(const Key& key);
  bool ready() const { return ready_; }
  // The tag of the next frame in sequence: `header` (with the length that counts the tag),
  // then `payload` (may be empty). Advances the sequence number.
  FrameTag Next(std::string_view header, std::string_view payload);
  std::uint64_t sequence() const { return sequence_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::uint64_t sequence_ = 0;
  bool ready_ = false;
};

// Constant-time comparison of a received tag.
bool TagsEqual(const FrameTag& expected, std::string_view received);

}  // namespace dynakv::cluster::bus
