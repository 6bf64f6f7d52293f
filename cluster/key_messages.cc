#include "cluster/key_messages.h"

#include <cstdint>

#include "coding.h"

namespace dynakv::cluster {

namespace {

// A request names at most this many keys or arguments; more is a forged count.
constexpr std::uint64_t kMaxItems = 1u << 20;

void PutStrings(std::string* out, const std::vector<std::string>& items) {
  coding::PutVarint64(out, items.size());
  for (const std::string& item : items) coding::PutLengthPrefixed(out, item);
}

bool GetStrings(std::string_view* input, std::vector<std::string>* items) {
  std::uint64_t count = 0;
  // Each item takes at least its one-byte length: a count past the bytes left is a lie.
  if (!coding::GetVarint64(input, &count) || count > kMaxItems || count > input->size()) {
    return false;
  }
  items->clear();
  items->reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view item;
    if (!coding::GetLengthPrefixed(input, &item)) return false;
    items->emplace_back(item);
  }
  return true;
}

}  // namespace

std::string EncodeKeyEvent(const KeyEvent& event) {
  std::string out(1, static_cast<char>(event.kind));
  coding::PutVarint64(&out, event.lease_ms);
  PutStrings(&out, event.keys);
  return out;
}

bool DecodeKeyEvent(std::string_view payload, KeyEvent* event) {
  if (payload.empty()) return false;
  const auto kind = static_cast<std::uint8_t>(payload.front());
  if (kind < 1 || kind > 3) return false;
  payload.remove_prefix(1);
  std::uint64_t lease = 0;
  if (!coding::GetVarint64(&payload, &lease) || lease > UINT32_MAX) return false;
  event->kind = static_cast<KeyEvent::Kind>(kind);
  event->lease_ms = static_cast<std::uint32_t>(lease);
  return GetStrings(&payload, &event->keys) && payload.empty();
}

std::string EncodeForwardRequest(const ForwardRequest& request) {
  std::string out;
  coding::PutVarint64(&out, request.protocol);
  coding::PutLengthPrefixed(&out, request.read_level);
  coding::PutLengthPrefixed(&out, request.write_level);
  PutStrings(&out, request.argv);
  coding::PutVarint64(&out, request.track);
  return out;
}

bool DecodeForwardRequest(std::string_view payload, ForwardRequest* request) {
  std::uint64_t protocol = 0;
  std::string_view read;
  std::string_view write;
  if (!coding::GetVarint64(&payload, &protocol) || (protocol != 2 && protocol != 3) ||
      !coding::GetLengthPrefixed(&payload, &read) || !coding::GetLengthPrefixed(&payload, &write) ||
      !GetStrings(&payload, &request->argv) || request->argv.empty() ||
      !coding::GetVarint64(&payload, &request->track) || !payload.empty()) {
    return false;
  }
  request->protocol = static_cast<std::uint32_t>(protocol);
  request->read_level.assign(read);
  request->write_level.assign(write);
  return true;
}

std::string EncodeForwardReply(const ForwardReply& reply) {
  std::string out(1, reply.wrote ? '\1' : '\0');
  coding::PutVarint64(&out, reply.acked);
  coding::PutLengthPrefixed(&out, reply.reply);
  return out;
}

bool DecodeForwardReply(std::string_view payload, ForwardReply* reply) {
  if (payload.empty() || static_cast<std::uint8_t>(payload.front()) > 1) return false;
  reply->wrote = payload.front() == 1;
  payload.remove_prefix(1);
  std::uint64_t acked = 0;
  std::string_view bytes;
  if (!coding::GetVarint64(&payload, &acked) || acked > UINT32_MAX ||
      !coding::GetLengthPrefixed(&payload, &bytes) || !payload.empty()) {
    return false;
  }
  reply->acked = static_cast<std::uint32_t>(acked);
  reply->reply.assign(bytes);
  return true;
}

std::string EncodeWriteAcksRequest(const WriteAcksRequest& request) {
  std::string out;
  coding::PutVarint64(&out, request.token);
  coding::PutVarint64(&out, request.above);
  coding::PutVarint64(&out, request.wait_ms);
  return out;
}

bool DecodeWriteAcksRequest(std::string_view payload, WriteAcksRequest* request) {
  std::uint64_t above = 0;
  std::uint64_t wait_ms = 0;
  if (!coding::GetVarint64(&payload, &request->token) || !coding::GetVarint64(&payload, &above) ||
      !coding::GetVarint64(&payload, &wait_ms) || above > UINT32_MAX || wait_ms > UINT32_MAX ||
      !payload.empty()) {
    return false;
  }
  request->above = static_cast<std::uint32_t>(above);
  request->wait_ms = static_cast<std::uint32_t>(wait_ms);
  return true;
}

std::string EncodeWriteAcksReply(const WriteAcksReply& reply) {
  std::string out(1, reply.known ? '\1' : '\0');
  coding::PutVarint64(&out, reply.acked);
  return out;
}

bool DecodeWriteAcksReply(std::string_view payload, WriteAcksReply* reply) {
  if (payload.empty() || static_cast<std::uint8_t>(payload.front()) > 1) return false;
  reply->known = payload.front() == 1;
  payload.remove_prefix(1);
  std::uint64_t acked = 0;
  if (!coding::GetVarint64(&payload, &acked) || acked > UINT32_MAX || !payload.empty()) {
    return false;
  }
  reply->acked = static_cast<std::uint32_t>(acked);
  return true;
}

}  // namespace dynakv::cluster
