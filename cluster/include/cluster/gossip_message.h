// The payload of a GOSSIP frame and of its reply: the sender's id and its whole membership view
// (push-pull: each side sends everything it knows, which is small for clusters of tens or
// hundreds of nodes and needs no extra round trip, unlike digests).
//
// Layout (cluster/coding.h varints and length-prefixed strings):
//   sender id, entry count, then per entry: id, host, port, dc, rack, weight, generation,
//   heartbeat, version, status.
// Entries are in strictly increasing id order (one encoding per view, no duplicates) and the
// sender is one of them. The decoder reads bytes from the network: it accepts nothing the
// encoder could not have produced and nothing ValidateEntry refuses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/membership.h"

namespace dynakv::cluster {

struct GossipMessage {
  std::string sender;
  std::vector<GossipEntry> entries;  // in id order
};

// More entries than this are refused: bounds the memory a peer can make a node spend.
constexpr std::size_t kMaxGossipEntries = 4096;

std::string EncodeGossip(std::string_view sender, const MembershipView::Entries& entries);
// False with the reason in *error on anything malformed.
bool DecodeGossip(std::string_view payload, GossipMessage* message, std::string* error);

}  // namespace dynakv::cluster
