// Fuzzes the cluster bus frame decoder (cluster/bus_protocol.h) as a bus connection drives it,
// and the payload decoders of the frames it yields (HELLO, REPLICA_GET/PUT/PUT_HINTED, REPLY,
// ERROR, and the sibling sets they carry). Input: [flags byte][chunk byte] then the byte stream.
//   flags bit 0: a 64-byte frame limit instead of the default, so the limit check is reachable.
//   chunk: the stream is also fed in reads of (chunk % 23) + 1 bytes.
// Invariants: frames and the final error do not depend on how the stream is split; a frame
// re-encodes to exactly the bytes it came from; a payload (and sibling set) that decodes
// re-encodes to exactly the payload, since every encoding here is canonical.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/versioned_value.h"
#include "fuzz_util.h"

namespace {

namespace bus = dynakv::cluster::bus;
using dynakv::cluster::SiblingSet;

struct Result {
  std::vector<std::string> frames;  // each re-encoded
  bool error = false;
  std::string error_text;
  bool operator==(const Result&) const = default;
};

void CheckSet(std::string_view encoded) {
  SiblingSet set;
  if (!SiblingSet::Decode(encoded, &set)) return;
  FUZZ_CHECK(set.size() <= SiblingSet::kMaxSiblings);
  FUZZ_CHECK(set.Encode() == encoded);
  // A set reconciled with itself is itself.
  FUZZ_CHECK(SiblingSet::Reconcile(set, set).Encode() == encoded);
}

void CheckPayload(const bus::Frame& frame) {
  const std::string_view p = frame.payload;
  std::string_view a, b, c;
  switch (frame.type) {
    case bus::FrameType::kHello: {
      std::uint32_t version = 0;
      if (bus::DecodeHello(p, &version, &a, &b) && version == bus::kProtocolVersion) {
        FUZZ_CHECK(bus::EncodeHello(a, b) == p);
      }
      break;
    }
    case bus::FrameType::kAuthChallenge:
      if (bus::DecodeAuthChallenge(p, &a, &b, &c)) {
        FUZZ_CHECK(bus::EncodeAuthChallenge(a, b, c) == p);
      }
      break;
    case bus::FrameType::kAuthProof:
      if (bus::DecodeAuthProof(p, &a)) FUZZ_CHECK(bus::EncodeAuthProof(a) == p);
      break;
    case bus::FrameType::kReplicaGet:
      if (bus::DecodeReplicaGet(p, &a)) FUZZ_CHECK(bus::EncodeReplicaGet(a) == p);
      break;
    case bus::FrameType::kReplicaPut:
      if (bus::DecodeReplicaPut(p, &a, &b)) {
        FUZZ_CHECK(bus::EncodeReplicaPut(a, b) == p);
        CheckSet(b);
      }
      break;
    case bus::FrameType::kReplicaPutHinted:
      if (bus::DecodeReplicaPutHinted(p, &a, &b, &c)) {
        FUZZ_CHECK(bus::EncodeReplicaPutHinted(a, b, c) == p);
        CheckSet(b);
      }
      break;
    case bus::FrameType::kReply: {
      bus::ReplyStatus status;
      if (bus::DecodeReply(p, &status, &a)) {
        FUZZ_CHECK(status == bus::ReplyStatus::kNone ? bus::EncodeReply() == p
                                                     : bus::EncodeReply(a) == p);
        if (status == bus::ReplyStatus::kValue) CheckSet(a);
      }
      break;
    }
    case bus::FrameType::kError:
      if (bus::DecodeError(p, &a)) FUZZ_CHECK(bus::EncodeError(a) == p);
      break;
    default:
      break;  // ping/pong carry nothing; the other payloads have fuzzers of their own
  }
}

// Feeds `stream` through a FrameReader in reads of `chunk` bytes (all at once when 0).
Result Run(std::string_view stream, std::size_t chunk, std::size_t max_frame, bool check) {
  bus::FrameReader reader(max_frame);
  Result result;
  std::size_t sent = 0;
  while (true) {
    bus::Frame frame;
    const bus::FrameReader::Status status = reader.Next(&frame);
    if (status == bus::FrameReader::Status::kError) {
      FUZZ_CHECK(!reader.error().empty());
      result.error = true;
      result.error_text = reader.error();
      FUZZ_CHECK(reader.Next(&frame) == bus::FrameReader::Status::kError);  // final
      return result;
    }
    if (status == bus::FrameReader::Status::kFrame) {
      FUZZ_CHECK(bus::IsKnownFrameType(static_cast<std::uint8_t>(frame.type)));
      FUZZ_CHECK(frame.payload.size() + bus::kFrameOverhead <= max_frame);
      std::string encoded = bus::EncodeFrame(frame.type, frame.id, frame.payload);
      if (check) CheckPayload(frame);
      result.frames.push_back(std::move(encoded));
      continue;
    }
    if (sent == stream.size()) return result;
    const std::size_t n = chunk == 0 ? stream.size() - sent : std::min(chunk, stream.size() - sent);
    std::size_t available = 0;
    char* area = reader.WritableArea(n, &available);
    FUZZ_CHECK(available >= n);
    std::memcpy(area, stream.data() + sent, n);
    reader.Commit(n);
    sent += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dynakv::fuzz::InputReader in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::size_t chunk = in.Byte() % 23 + 1;
  const std::string_view stream = in.Rest();
  const std::size_t max_frame = (flags & 1) ? 64 : bus::kMaxFrameLength;

  const Result whole = Run(stream, 0, max_frame, true);
  // The frames are the stream's prefix, byte for byte.
  std::string joined;
  for (const std::string& f : whole.frames) joined += f;
  FUZZ_CHECK(stream.substr(0, joined.size()) == joined);
  if (!whole.error) FUZZ_CHECK(stream.size() - joined.size() < bus::kLengthBytes + max_frame);
  FUZZ_CHECK(Run(stream, chunk, max_frame, false) == whole);
  return 0;
}
