// The cluster bus wire format: how nodes talk to each other on the bus port.
//
// A connection carries length-prefixed binary frames:
//   [u32 length, little endian][u8 type][u64 request id, little endian][payload]
// where `length` counts everything after itself (so it is at least kFrameOverhead). A request's
// reply carries the request's id, so requests are pipelined and replies matched by id. The first
// frame a connecting node sends is HELLO, naming itself; with a cluster secret the accepting side
// answers AUTH_CHALLENGE and the connecting one AUTH_PROOF (cluster/bus_auth.h), and every later
// frame in either direction ends with a MAC that its length counts. The accepting side answers
// requests on that same connection. Payload fields are varints and length-prefixed strings (cluster/coding.h).
//
// Every decoder here reads bytes from the network, so it checks bounds and rejects anything it
// could not have produced: a malformed frame closes the connection, never crashes the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::cluster::bus {

enum class FrameType : std::uint8_t {
  kHello = 1,       // varint protocol version, node id
  kPing = 2,        // empty
  kPong = 3,        // empty
  kReplicaGet = 4,  // key                  -> kReply (the stored set, or none)
  kReplicaPut = 5,  // key, encoded SiblingSet -> kReply (none) once merged and stored
  kReply = 6,       // u8 status, then the encoded set when status is kValue
  kError = 7,       // message
  // Anti-entropy (payloads in cluster/anti_entropy_messages.h), each answered by a kReply:
  kAeHashes = 8,  // Merkle tree shape, level, node indices -> those nodes' hashes
  kAeKeys = 9,    // tree shape, leaf indices -> (key, value digest) of each key in those leaves
  kAeFetch = 10,  // keys -> the stored set of each
  kAePush = 11,   // (key, encoded set) pairs -> an ack once all are merged and stored
  // Sloppy quorum: key, encoded SiblingSet, intended owner id -> kReply (none) once the
  // receiver durably holds it as a hint for that owner (hinted handoff).
  kReplicaPutHinted = 12,
  // Membership: the sender's id and whole view (cluster/gossip_message.h) -> kReply whose
  // payload is the receiver's view in the same encoding (push-pull).
  kGossip = 13,
  // Authentication (a cluster secret is set): the accepting side's id, nonce and proof, in
  // answer to HELLO; then the connecting side's proof. Neither carries a MAC.
  kAuthChallenge = 14,
  kAuthProof = 15,
  // An opaque message of the layer above the cluster (the server's PUBLISH), handed to the
  // receiver's notice handler -> kReply (none). Best effort: a lost one is not resent.
  kNotice = 16,
  // (key, encoded SiblingSet) pairs of one transaction or script (ae::EncodePush's encoding),
  // keys of one replica set -> kReply (none) once all are merged and stored as ONE atomic group
  // of the receiver's engine (ClusterNode::WriteBatch).
  kReplicaPutBatch = 17,
  // Blocking pops in cluster mode (cluster/include/cluster/key_messages.h): a KeyEvent of the
  // layer above for one member (watch, unwatch, key ready) -> kReply (none). Best effort.
  kKeyEvent = 18,
  // A command of the layer above run by the receiver (a pop on its key's primary replica):
  // a ForwardRequest -> kReply whose payload is the command's RESP reply, sent once it has run.
  kForward = 19,
  // FLUSHALL of the whole cluster: varint flush timestamp (us, the coordinator's hybrid clock)
  // -> kReply (none) once the receiver has durably recorded it and emptied its replica. Versions
  // stamped at or before it are dropped whenever they arrive later (ClusterNode::FlushAll).
  kFlushAll = 20,
  // A page of the receiver's live keys (KEYS/SCAN/DBSIZE/RANDOMKEY of the whole cluster):
  // KeyPageRequest -> kReply whose payload is a KeyPage.
  kKeyPage = 21,
  // Per-key Paxos for SERIAL / LOCAL_SERIAL (payloads in cluster/paxos.h), each answered once
  // the receiver's paxos state (and for a commit its replica) is durable:
  kPaxosPrepare = 22,  // key, ballot -> kReply whose payload is a Promise (with the key's copy)
  kPaxosPropose = 23,  // key, proposal -> kReply whose payload is an AcceptReply
  kPaxosCommit = 24,   // key, proposal -> kReply (none) once merged into the replica
  // A tag's instance (paxos.h GroupInstance): instance, ballot, keys -> kReply whose payload is a
  // Promise whose `current` holds the copy of each key (EncodeGroup). Proposals and commits of
  // the instance go as kPaxosPropose / kPaxosCommit, their proposal a group.
  kPaxosPrepareGroup = 25,
  // 26 is kept for this feature.
  // WAIT in cluster mode (server/cluster_wait.h): a WriteAcksRequest (key_messages.h) about a
  // command the sender forwarded here with a track token -> kReply whose payload is a
  // WriteAcksReply, sent once enough replicas hold the command's writes or the wait is up.
  kWriteAcks = 29,
};

// The last frame type this version knows (IsKnownFrameType: the named numbers up to it).
constexpr FrameType kLastFrameType = FrameType::kWriteAcks;

// 2: HELLO carries a nonce (empty without a cluster secret), and the AUTH_* frames exist.
constexpr std::uint32_t kProtocolVersion = 2;
constexpr std::size_t kLengthBytes = 4;
constexpr std::size_t kFrameOverhead = 1 + 8;  // type + request id
// Proto-max-bulk-len (512 MB) plus room for the key and the sibling set's metadata. A frame
// claiming more is garbage or an attack; the connection is closed before buffering it.
constexpr std::size_t kMaxFrameLength = (std::size_t{512} << 20) + (std::size_t{1} << 20);

bool IsKnownFrameType(std::uint8_t type);
const char* FrameTypeName(FrameType type);

struct Frame {
  FrameType type = FrameType::kPing;
  std::uint64_t id = 0;
  // Points into the reader's buffer, right after the frame's header (the authenticated bus
  // checks the MAC over both there): valid until its next refill.
  std::string_view payload;
};

// The 13 bytes before a payload of `payload_size` bytes.
std::string EncodeFrameHeader(FrameType type, std::uint64_t id, std::size_t payload_size);
std::string EncodeFrame(FrameType type, std::uint64_t id, std::string_view payload);

// --- payloads. Each Decode* consumes the whole payload and fails on anything else. ----------
// `nonce` is empty when the sender has no cluster secret.
std::string EncodeHello(std::string_view node_id, std::string_view nonce = {});
// Fails on a version other than 1 or 2's layout; a version-1 HELLO decodes with an empty nonce
// (so the receiver can say which version the peer speaks).
bool DecodeHello(std::string_view payload, std::uint32_t* version, std::string_view* node_id,
                 std::string_view* nonce = nullptr);

std::string EncodeAuthChallenge(std::string_view node_id, std::string_view nonce,
                                std::string_view proof);
bool DecodeAuthChallenge(std::string_view payload, std::string_view* node_id,
                         std::string_view* nonce, std::string_view* proof);
std::string EncodeAuthProof(std::string_view proof);
bool DecodeAuthProof(std::string_view payload, std::string_view* proof);

std::string EncodeReplicaGet(std::string_view key);
bool DecodeReplicaGet(std::string_view payload, std::string_view* key);

std::string EncodeReplicaPut(std::string_view key, std::string_view encoded_set);
bool DecodeReplicaPut(std::string_view payload, std::string_view* key,
                      std::string_view* encoded_set);

std::string EncodeReplicaPutHinted(std::string_view key, std::string_view encoded_set,
                                   std::string_view intended_owner);
bool DecodeReplicaPutHinted(std::string_view payload, std::string_view* key,
                            std::string_view* encoded_set, std::string_view* intended_owner);

enum class ReplyStatus : std::uint8_t { kNone = 0, kValue = 1 };
std::string EncodeReply();                              // an ack, or "no such key"
std::string EncodeReply(std::string_view encoded_set);  // a stored set
bool DecodeReply(std::string_view payload, ReplyStatus* status, std::string_view* encoded_set);

std::string EncodeFlushAll(std::int64_t flush_timestamp_us);
bool DecodeFlushAll(std::string_view payload, std::int64_t* flush_timestamp_us);

// KEY_PAGE: `count` keys from `cursor` (the receiver engine's scan cursor; 0 starts), or with
// `random` up to `count` randomly chosen keys (cursor ignored).
struct KeyPageRequest {
  std::uint64_t cursor = 0;
  std::uint64_t count = 10;
  bool random = false;
};
struct KeyPage {
  std::uint64_t next_cursor = 0;  // 0: the receiver's keys are done
  std::vector<std::string> keys;  // live keys only (no tombstones, nothing expired)
};
std::string EncodeKeyPageRequest(const KeyPageRequest& request);
bool DecodeKeyPageRequest(std::string_view payload, KeyPageRequest* request);
std::string EncodeKeyPage(const KeyPage& page);
bool DecodeKeyPage(std::string_view payload, KeyPage* page);

std::string EncodeError(std::string_view message);
bool DecodeError(std::string_view payload, std::string_view* message);

// Splits a byte stream into frames. The caller reads into WritableArea(), reports the bytes
// with Commit(), then calls Next() until it stops returning kFrame. The buffer grows with the
// data that actually arrives, never with what a header claims, so a lying peer costs nothing.
class FrameReader {
 public:
  enum class Status { kFrame, kNeedMore, kError };

  explicit FrameReader(std::size_t max_frame_length = kMaxFrameLength)
      : max_frame_length_(max_frame_length) {}

  // Room for at least `min_free` more bytes (compacting or growing the buffer).
  char* WritableArea(std::size_t min_free, std::size_t* available);
  void Commit(std::size_t bytes);
  // kFrame fills *frame (valid until the next WritableArea call). kError is final: the stream
  // is out of sync and error() says why.
  Status Next(Frame* frame);
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return end_ - start_; }
  // Applies from the next frame on (an unidentified peer's frames are kept small).
  void set_max_frame_length(std::size_t max) { max_frame_length_ = max; }

 private:
  std::size_t max_frame_length_;
  std::string buffer_;
  std::size_t start_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // end of received data
  std::string error_;
};

}  // namespace dynakv::cluster::bus
