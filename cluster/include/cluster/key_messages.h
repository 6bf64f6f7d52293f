// The payloads of the bus frames behind blocking pops in cluster mode (bus_protocol.h's
// KEY_EVENT and FORWARD) and WAIT's question about a forwarded command (WRITE_ACKS). The cluster
// only carries them: the server decides what they mean (server/cluster_blocking.h). Decoders read
// bytes from the network: they check bounds and fail on anything an encoder could not have
// produced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::cluster {

// A message about keys from one member to another.
struct KeyEvent {
  enum class Kind : std::uint8_t {
    kWatch = 1,    // the sender has clients blocked on `keys`: tell it when one becomes ready,
                   // until lease_ms from now (the sender renews before that)
    kUnwatch = 2,  // it has no longer
    kReady = 3,    // `keys` were just written as a non-empty list or sorted set here
  };
  Kind kind = Kind::kWatch;
  std::uint32_t lease_ms = 0;  // kWatch only
  std::vector<std::string> keys;
};
std::string EncodeKeyEvent(const KeyEvent& event);
bool DecodeKeyEvent(std::string_view payload, KeyEvent* event);

// A command the receiver runs as the coordinator would (its key's primary replica), with the
// coordinator's resolved levels and its client's protocol; the reply is the RESP answer.
struct ForwardRequest {
  std::uint32_t protocol = 2;  // 2 or 3
  std::string read_level;      // consistency_level.h's ToString form
  std::string write_level;
  std::vector<std::string> argv;
  // Nonzero: the sender's client may WAIT for what the command writes. The receiver keeps
  // counting the replicas that acknowledge its writes under this token (the sender's, unique
  // among its forwards) and answers a ForwardReply instead of the bare RESP reply.
  std::uint64_t track = 0;
};
std::string EncodeForwardRequest(const ForwardRequest& request);
bool DecodeForwardRequest(std::string_view payload, ForwardRequest* request);

// The answer to a tracked ForwardRequest: the RESP reply, whether the command wrote anything
// (a pop that found nothing did not), and how many replicas held its writes when it was answered
// (the least over its writes).
struct ForwardReply {
  bool wrote = false;
  std::uint32_t acked = 0;
  std::string reply;
};
std::string EncodeForwardReply(const ForwardReply& reply);
bool DecodeForwardReply(std::string_view payload, ForwardReply* reply);

// WAIT's question (bus frame WRITE_ACKS) to the member that ran a tracked forwarded command:
// how many replicas hold its writes now. The member answers once more than `above` do (the
// count the sender knows), or once `wait_ms` passed (0: at once), with a WriteAcksReply.
struct WriteAcksRequest {
  std::uint64_t token = 0;
  std::uint32_t above = 0;
  std::uint32_t wait_ms = 0;
};
std::string EncodeWriteAcksRequest(const WriteAcksRequest& request);
bool DecodeWriteAcksRequest(std::string_view payload, WriteAcksRequest* request);
// `known` is false when the member keeps no count for the token (it forgot the oldest ones, or
// restarted): `acked` is then 0 and no later answer will be better.
struct WriteAcksReply {
  bool known = false;
  std::uint32_t acked = 0;
};
std::string EncodeWriteAcksReply(const WriteAcksReply& reply);
bool DecodeWriteAcksReply(std::string_view payload, WriteAcksReply* reply);

}  // namespace dynakv::cluster
