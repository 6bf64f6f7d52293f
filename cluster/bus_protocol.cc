#include "cluster/bus_protocol.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>

#include "coding.h"

namespace dynakv::cluster::bus {

namespace {

// Receive buffers emptied after holding a large frame shrink back to this, so a peer that once
// replicated a big value does not pin that memory per connection.
constexpr std::size_t kKeepBufferBytes = 256 * 1024;

void PutFixed32(std::string* dst, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) dst->push_back(static_cast<char>(value >> (8 * i)));
}

void PutFixed64(std::string* dst, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) dst->push_back(static_cast<char>(value >> (8 * i)));
}

std::uint32_t GetFixed32(const char* p) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= std::uint32_t{static_cast<std::uint8_t>(p[i])} << (8 * i);
  return value;
}

std::uint64_t GetFixed64(const char* p) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= std::uint64_t{static_cast<std::uint8_t>(p[i])} << (8 * i);
  return value;
}

// One length-prefixed field that must be all of `payload`.
bool DecodeSingleString(std::string_view payload, std::string_view* field) {
  return coding::GetLengthPrefixed(&payload, field) && payload.empty();
}

}  // namespace

bool IsKnownFrameType(std::uint8_t type) {
  // Numbers kept for features not built yet (25..28) are not frames of this version.
  return type >= static_cast<std::uint8_t>(FrameType::kHello) &&
         type <= static_cast<std::uint8_t>(kLastFrameType) &&
         std::string_view(FrameTypeName(static_cast<FrameType>(type))) != "?";
}

const char* FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "HELLO";
    case FrameType::kPing:
      return "PING";
    case FrameType::kPong:
      return "PONG";
    case FrameType::kReplicaGet:
      return "REPLICA_GET";
    case FrameType::kReplicaPut:
      return "REPLICA_PUT";
    case FrameType::kReply:
      return "REPLY";
    case FrameType::kError:
      return "ERROR";
    case FrameType::kAeHashes:
      return "AE_HASHES";
    case FrameType::kAeKeys:
      return "AE_KEYS";
    case FrameType::kAeFetch:
      return "AE_FETCH";
    case FrameType::kAePush:
      return "AE_PUSH";
    case FrameType::kReplicaPutHinted:
      return "REPLICA_PUT_HINTED";
    case FrameType::kGossip:
      return "GOSSIP";
    case FrameType::kAuthChallenge:
      return "AUTH_CHALLENGE";
    case FrameType::kAuthProof:
      return "AUTH_PROOF";
    case FrameType::kNotice:
      return "NOTICE";
    case FrameType::kReplicaPutBatch:
      return "REPLICA_PUT_BATCH";
    case FrameType::kKeyEvent:
      return "KEY_EVENT";
    case FrameType::kForward:
      return "FORWARD";
    case FrameType::kFlushAll:
      return "FLUSH_ALL";
    case FrameType::kKeyPage:
      return "KEY_PAGE";
    case FrameType::kPaxosPrepare:
      return "PAXOS_PREPARE";
    case FrameType::kPaxosPropose:
      return "PAXOS_PROPOSE";
    case FrameType::kPaxosCommit:
      return "PAXOS_COMMIT";
    case FrameType::kPaxosPrepareGroup:
      return "PAXOS_PREPARE_GROUP";
    case FrameType::kWriteAcks:
      return "WRITE_ACKS";
  }
  return "?";
}

std::string EncodeFrameHeader(FrameType type, std::uint64_t id, std::size_t payload_size) {
  std::string header;
  header.reserve(kLengthBytes + kFrameOverhead);
  // Callers check payload sizes against kMaxFrameLength first; saturate rather than wrap so an
  // oversized frame is rejected by the receiver instead of being misparsed.
  const std::size_t length = std::min<std::size_t>(kFrameOverhead + payload_size,
                                                   std::numeric_limits<std::uint32_t>::max());
  PutFixed32(&header, static_cast<std::uint32_t>(length));
  header.push_back(static_cast<char>(type));
  PutFixed64(&header, id);
  return header;
}

std::string EncodeFrame(FrameType type, std::uint64_t id, std::string_view payload) {
  std::string frame = EncodeFrameHeader(type, id, payload.size());
  frame.append(payload);
  return frame;
}

std::string EncodeHello(std::string_view node_id, std::string_view nonce) {
  std::string out;
  coding::PutVarint64(&out, kProtocolVersion);
  coding::PutLengthPrefixed(&out, node_id);
  coding::PutLengthPrefixed(&out, nonce);
  return out;
}

bool DecodeHello(std::string_view payload, std::uint32_t* version, std::string_view* node_id,
                 std::string_view* nonce) {
  std::uint64_t raw_version;
  if (!coding::GetVarint64(&payload, &raw_version) ||
      raw_version > std::numeric_limits<std::uint32_t>::max()) {
    return false;
  }
  *version = static_cast<std::uint32_t>(raw_version);
  std::string_view ignored;
  if (nonce == nullptr) nonce = &ignored;
  *nonce = {};
  if (!coding::GetLengthPrefixed(&payload, node_id)) return false;
  if (raw_version == 1) return payload.empty();  // no nonce field
  return coding::GetLengthPrefixed(&payload, nonce) && payload.empty();
}

std::string EncodeAuthChallenge(std::string_view node_id, std::string_view nonce,
                                std::string_view proof) {
  std::string out;
  coding::PutLengthPrefixed(&out, node_id);
  coding::PutLengthPrefixed(&out, nonce);
  coding::PutLengthPrefixed(&out, proof);
  return out;
}

bool DecodeAuthChallenge(std::string_view payload, std::string_view* node_id,
                         std::string_view* nonce, std::string_view* proof) {
  return coding::GetLengthPrefixed(&payload, node_id) &&
         coding::GetLengthPrefixed(&payload, nonce) && coding::GetLengthPrefixed(&payload, proof) &&
         payload.empty();
}

std::string EncodeAuthProof(std::string_view proof) {
  std::string out;
  coding::PutLengthPrefixed(&out, proof);
  return out;
}

bool DecodeAuthProof(std::string_view payload, std::string_view* proof) {
  return DecodeSingleString(payload, proof);
}

std::string EncodeReplicaGet(std::string_view key) {
  std::string out;
  coding::PutLengthPrefixed(&out, key);
  return out;
}

bool DecodeReplicaGet(std::string_view payload, std::string_view* key) {
  return DecodeSingleString(payload, key);
}

std::string EncodeReplicaPut(std::string_view key, std::string_view encoded_set) {
  std::string out;
  out.reserve(key.size() + encoded_set.size() + 20);
  coding::PutLengthPrefixed(&out, key);
  coding::PutLengthPrefixed(&out, encoded_set);
  return out;
}

bool DecodeReplicaPut(std::string_view payload, std::string_view* key,
                      std::string_view* encoded_set) {
  return coding::GetLengthPrefixed(&payload, key) &&
         coding::GetLengthPrefixed(&payload, encoded_set) && payload.empty();
}

std::string EncodeReplicaPutHinted(std::string_view key, std::string_view encoded_set,
                                   std::string_view intended_owner) {
  std::string out;
  out.reserve(key.size() + encoded_set.size() + intended_owner.size() + 30);
  coding::PutLengthPrefixed(&out, key);
  coding::PutLengthPrefixed(&out, encoded_set);
  coding::PutLengthPrefixed(&out, intended_owner);
  return out;
}

bool DecodeReplicaPutHinted(std::string_view payload, std::string_view* key,
                            std::string_view* encoded_set, std::string_view* intended_owner) {
  return coding::GetLengthPrefixed(&payload, key) &&
         coding::GetLengthPrefixed(&payload, encoded_set) &&
         coding::GetLengthPrefixed(&payload, intended_owner) && !intended_owner->empty() &&
         payload.empty();
}

std::string EncodeReply() { return std::string(1, static_cast<char>(ReplyStatus::kNone)); }

std::string EncodeReply(std::string_view encoded_set) {
  std::string out(1, static_cast<char>(ReplyStatus::kValue));
  coding::PutLengthPrefixed(&out, encoded_set);
  return out;
}

bool DecodeReply(std::string_view payload, ReplyStatus* status, std::string_view* encoded_set) {
  if (payload.empty()) return false;
  const auto raw = static_cast<std::uint8_t>(payload.front());
  payload.remove_prefix(1);
  if (raw == static_cast<std::uint8_t>(ReplyStatus::kNone)) {
    *status = ReplyStatus::kNone;
    *encoded_set = {};
    return payload.empty();
  }
  if (raw != static_cast<std::uint8_t>(ReplyStatus::kValue)) return false;
  *status = ReplyStatus::kValue;
  return DecodeSingleString(payload, encoded_set);
}

std::string EncodeFlushAll(std::int64_t flush_timestamp_us) {
  std::string out;
  coding::PutVarint64(&out, static_cast<std::uint64_t>(flush_timestamp_us));
  return out;
}

bool DecodeFlushAll(std::string_view payload, std::int64_t* flush_timestamp_us) {
  std::uint64_t raw;
  if (!coding::GetVarint64(&payload, &raw) || !payload.empty() ||
      raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return false;
  }
  *flush_timestamp_us = static_cast<std::int64_t>(raw);
  return true;
}

std::string EncodeKeyPageRequest(const KeyPageRequest& request) {
  std::string out;
  coding::PutVarint64(&out, request.cursor);
  coding::PutVarint64(&out, request.count);
  out.push_back(request.random ? 1 : 0);
  return out;
}

bool DecodeKeyPageRequest(std::string_view payload, KeyPageRequest* request) {
  if (!coding::GetVarint64(&payload, &request->cursor) ||
      !coding::GetVarint64(&payload, &request->count) || payload.size() != 1 ||
      static_cast<std::uint8_t>(payload[0]) > 1) {
    return false;
  }
  request->random = payload[0] == 1;
  return true;
}

std::string EncodeKeyPage(const KeyPage& page) {
  std::string out;
  coding::PutVarint64(&out, page.next_cursor);
  coding::PutVarint64(&out, page.keys.size());
  for (const std::string& key : page.keys) coding::PutLengthPrefixed(&out, key);
  return out;
}

bool DecodeKeyPage(std::string_view payload, KeyPage* page) {
  std::uint64_t count;
  if (!coding::GetVarint64(&payload, &page->next_cursor) ||
      !coding::GetVarint64(&payload, &count) || count > payload.size()) {
    return false;
  }
  page->keys.clear();
  page->keys.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view key;
    if (!coding::GetLengthPrefixed(&payload, &key)) return false;
    page->keys.emplace_back(key);
  }
  return payload.empty();
}

std::string EncodeError(std::string_view message) {
  std::string out;
  coding::PutLengthPrefixed(&out, message);
  return out;
}

bool DecodeError(std::string_view payload, std::string_view* message) {
  return DecodeSingleString(payload, message);
}

char* FrameReader::WritableArea(std::size_t min_free, std::size_t* available) {
  if (start_ == end_) {
    start_ = end_ = 0;
    if (buffer_.size() > kKeepBufferBytes && min_free <= kKeepBufferBytes) {
      std::string(kKeepBufferBytes, '\0').swap(buffer_);
    }
  }
  if (buffer_.size() - end_ < min_free) {
    // Reclaim the space of frames already handled before growing.
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (buffer_.size() - end_ < min_free) {
      buffer_.resize(std::max(buffer_.size() * 2, end_ + min_free));
    }
  }
  *available = buffer_.size() - end_;
  return buffer_.data() + end_;
}

void FrameReader::Commit(std::size_t bytes) { end_ += std::min(bytes, buffer_.size() - end_); }

FrameReader::Status FrameReader::Next(Frame* frame) {
  if (!error_.empty()) return Status::kError;
  const std::size_t available = end_ - start_;
  if (available < kLengthBytes) return Status::kNeedMore;
  const char* p = buffer_.data() + start_;
  const std::size_t length = GetFixed32(p);
  if (length < kFrameOverhead) {
    error_ = "frame of " + std::to_string(length) + " bytes is shorter than its header";
    return Status::kError;
  }
  if (length > max_frame_length_) {
    error_ = "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
             std::to_string(max_frame_length_);
    return Status::kError;
  }
  // The type is checked as soon as it arrives, so garbage is refused without waiting for (or
  // buffering) the length it claims.
  if (available > kLengthBytes) {
    const auto type = static_cast<std::uint8_t>(p[kLengthBytes]);
    if (!IsKnownFrameType(type)) {
      error_ = "unknown frame type " + std::to_string(type);
      return Status::kError;
    }
  }
  if (available - kLengthBytes < length) return Status::kNeedMore;
  frame->type = static_cast<FrameType>(p[kLengthBytes]);
  frame->id = GetFixed64(p + kLengthBytes + 1);
  frame->payload = std::string_view(p + kLengthBytes + kFrameOverhead, length - kFrameOverhead);
  start_ += kLengthBytes + length;
  return Status::kFrame;
}

}  // namespace dynakv::cluster::bus
