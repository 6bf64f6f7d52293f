#include "bus_auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "coding.h"

namespace dynakv::cluster::bus {

namespace {

// Labels: one per purpose and direction, so no value computed for one use is valid for another.
std::string_view Label(bool proof, Side side) {
  if (proof) return side == Side::kClient ? "dynakv-bus-1 proof client" : "dynakv-bus-1 proof server";
  return side == Side::kClient ? "dynakv-bus-1 key client->server" : "dynakv-bus-1 key server->client";
}

// label || nonces || ids, each length-prefixed so no two transcripts encode alike.
std::string Message(std::string_view label, const Transcript& t) {
  std::string out;
  coding::PutLengthPrefixed(&out, label);
  coding::PutLengthPrefixed(
      &out, std::string_view(reinterpret_cast<const char*>(t.client_nonce.data()), kNonceBytes));
  coding::PutLengthPrefixed(
      &out, std::string_view(reinterpret_cast<const char*>(t.server_nonce.data()), kNonceBytes));
  coding::PutLengthPrefixed(&out, t.client_id);
  coding::PutLengthPrefixed(&out, t.server_id);
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

struct FrameMac::State {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~State() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

FrameMac::FrameMac() : state_(std::make_unique<State>()) {}
FrameMac::~FrameMac() = default;

bool FrameMac::Init(const Key& key) {
  state_ = std::make_unique<State>();
  ready_ = false;
  sequence_ = 0;
  state_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (state_->mac == nullptr) return false;
  state_->ctx = EVP_MAC_CTX_new(state_->mac);
  if (state_->ctx == nullptr) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  if (EVP_MAC_init(state_->ctx, key.data(), key.size(), params) != 1) return false;
  ready_ = true;
  return true;
}

FrameTag FrameMac::Next(std::string_view header, std::string_view payload) {
  unsigned char sequence[8];
  for (int i = 0; i < 8; ++i) sequence[i] = static_cast<unsigned char>(sequence_ >> (8 * i));
  ++sequence_;
  unsigned char full[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  FrameTag tag{};
  // A null key re-initialises with the key given to Init (OpenSSL keeps the keyed state).
  bool ok = EVP_MAC_init(state_->ctx, nullptr, 0, nullptr) == 1 &&
            EVP_MAC_update(state_->ctx, sequence, sizeof(sequence)) == 1 &&
            EVP_MAC_update(state_->ctx, reinterpret_cast<const unsigned char*>(header.data()),
                           header.size()) == 1 &&
            (payload.empty() ||
             EVP_MAC_update(state_->ctx, reinterpret_cast<const unsigned char*>(payload.data()),
                            payload.size()) == 1) &&
            EVP_MAC_final(state_->ctx, full, &length, sizeof(full)) == 1 &&
            length >= kFrameMacBytes;
  // A libcrypto failure yields a random tag: the receiver refuses the frame, never a forgery.
  if (!ok) RAND_bytes(full, kFrameMacBytes);
  for (std::size_t i = 0; i < kFrameMacBytes; ++i) tag[i] = static_cast<char>(full[i]);
  return tag;
}

bool TagsEqual(const FrameTag& expected, std::string_view received) {
  return received.size() == kFrameMacBytes &&
         CRYPTO_memcmp(expected.data(), received.data(), kFrameMacBytes) == 0;
}

}  // namespace dynakv::cluster::bus
