#include "bus_auth.h"

// The frame MAC runs SHA-256 through the low-level interface (deprecated in OpenSSL 3, not
// removed): per frame it is a struct copy and the hash itself, where EVP_MAC's provider layer
// cost more than the hashing of a small frame (allocation, cleansing, parameter passing).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>

#include "coding.h"

namespace dynakv::cluster::bus {

namespace {

// Labels: one per purpose and direction, so no value computed for one use is valid for another.
std::string_view Label(bool proof, Side side) {
  if (proof)
    return side == Side::kClient ? "dynakv-bus-1 proof client" : "dynakv-bus-1 proof server";
  return side == Side::kClient ? "dynakv-bus-1 key client->server"
                               : "dynakv-bus-1 key server->client";
}

// label || nonces || ids [|| channel binding], each length-prefixed so no two transcripts
// encode alike (the binding is left out when empty, so plain connections prove as before).
std::string Message(std::string_view label, const Transcript& t) {
  std::string out;
  coding::PutLengthPrefixed(&out, label);
  coding::PutLengthPrefixed(
      &out, std::string_view(reinterpret_cast<const char*>(t.client_nonce.data()), kNonceBytes));
  coding::PutLengthPrefixed(
      &out, std::string_view(reinterpret_cast<const char*>(t.server_nonce.data()), kNonceBytes));
  coding::PutLengthPrefixed(&out, t.client_id);
  coding::PutLengthPrefixed(&out, t.server_id);
  if (!t.channel_binding.empty()) coding::PutLengthPrefixed(&out, t.channel_binding);
  return out;
}

std::array<unsigned char, 32> Hmac(std::string_view key, std::string_view message) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  return out;
}

}  // namespace

bool RandomNonce(Nonce* nonce) { return RAND_bytes(nonce->data(), kNonceBytes) == 1; }

Proof MakeProof(std::string_view secret, Side side, const Transcript& transcript) {
  return Hmac(secret, Message(Label(true, side), transcript));
}

bool CheckProof(std::string_view secret, Side side, const Transcript& transcript,
                std::string_view received) {
  const Proof expected = MakeProof(secret, side, transcript);
  return received.size() == kProofBytes &&
         CRYPTO_memcmp(expected.data(), received.data(), kProofBytes) == 0;
}

Key FrameKey(std::string_view secret, Side side, const Transcript& transcript) {
  return Hmac(secret, Message(Label(false, side), transcript));
}

// HMAC-SHA256 (RFC 2104) with the key's two padded blocks hashed once: the inner and outer
// hash states after them are all a frame needs, so no frame re-keys.
struct FrameMac::State {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

FrameMac::FrameMac() : state_(std::make_unique<State>()) {}
FrameMac::~FrameMac() { OPENSSL_cleanse(state_.get(), sizeof(State)); }

bool FrameMac::Init(const Key& key) {
  static_assert(kKeyBytes <= SHA256_CBLOCK);
  unsigned char inner_pad[SHA256_CBLOCK];
  unsigned char outer_pad[SHA256_CBLOCK];
  std::memset(inner_pad, 0x36, sizeof(inner_pad));
  std::memset(outer_pad, 0x5c, sizeof(outer_pad));
  for (std::size_t i = 0; i < kKeyBytes; ++i) {
    inner_pad[i] ^= key[i];
    outer_pad[i] ^= key[i];
  }
  sequence_ = 0;
  ready_ = SHA256_Init(&state_->inner) == 1 &&
           SHA256_Update(&state_->inner, inner_pad, sizeof(inner_pad)) == 1 &&
           SHA256_Init(&state_->outer) == 1 &&
           SHA256_Update(&state_->outer, outer_pad, sizeof(outer_pad)) == 1;
  OPENSSL_cleanse(inner_pad, sizeof(inner_pad));
  OPENSSL_cleanse(outer_pad, sizeof(outer_pad));
  return ready_;
}

FrameTag FrameMac::Next(std::string_view header, std::string_view payload) {
  unsigned char sequence[8];
  for (int i = 0; i < 8; ++i) sequence[i] = static_cast<unsigned char>(sequence_ >> (8 * i));
  ++sequence_;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = state_->inner;
  SHA256_Update(&ctx, sequence, sizeof(sequence));
  SHA256_Update(&ctx, header.data(), header.size());
  if (!payload.empty()) SHA256_Update(&ctx, payload.data(), payload.size());
  SHA256_Final(digest, &ctx);
  ctx = state_->outer;
  SHA256_Update(&ctx, digest, sizeof(digest));
  SHA256_Final(digest, &ctx);
  FrameTag tag{};
  std::memcpy(tag.data(), digest, kFrameMacBytes);
  return tag;
}

bool TagsEqual(const FrameTag& expected, std::string_view received) {
  return received.size() == kFrameMacBytes &&
         CRYPTO_memcmp(expected.data(), received.data(), kFrameMacBytes) == 0;
}

}  // namespace dynakv::cluster::bus
