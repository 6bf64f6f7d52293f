#include "cluster/gossip_message.h"

#include <limits>
#include <utility>

#include "coding.h"

namespace dynakv::cluster {

namespace {

bool GetString(std::string_view* input, std::string* out) {
  std::string_view bytes;
  if (!coding::GetLengthPrefixed(input, &bytes) || bytes.size() > kMaxNameBytes) return false;
  out->assign(bytes);
  return true;
}

bool GetInt(std::string_view* input, std::uint64_t max, std::uint64_t* value) {
  return coding::GetVarint64(input, value) && *value <= max;
}

bool DecodeEntry(std::string_view* input, GossipEntry* entry) {
  NodeInfo& info = entry->info;
  std::uint64_t port, weight, generation, status;
  if (!GetString(input, &info.id) || !GetString(input, &info.host) ||
      !GetInt(input, 65535, &port) || !GetString(input, &info.dc) ||
      !GetString(input, &info.rack) || !GetInt(input, std::numeric_limits<int>::max(), &weight) ||
      !GetInt(input, std::numeric_limits<std::int64_t>::max(), &generation) ||
      !coding::GetVarint64(input, &entry->heartbeat) ||
      !coding::GetVarint64(input, &entry->version) || !GetInt(input, 255, &status)) {
    return false;
  }
  info.port = static_cast<int>(port);
  info.weight = static_cast<int>(weight);
  entry->generation = static_cast<std::int64_t>(generation);
  entry->status = static_cast<NodeStatus>(status);
  return true;
}

}  // namespace

std::string EncodeGossip(std::string_view sender, const MembershipView::Entries& entries) {
  std::string out;
  coding::PutLengthPrefixed(&out, sender);
  coding::PutVarint64(&out, entries.size());
  for (const auto& [id, entry] : entries) {
    const NodeInfo& info = entry.info;
    coding::PutLengthPrefixed(&out, info.id);
    coding::PutLengthPrefixed(&out, info.host);
    coding::PutVarint64(&out, static_cast<std::uint64_t>(info.port));
    coding::PutLengthPrefixed(&out, info.dc);
    coding::PutLengthPrefixed(&out, info.rack);
    coding::PutVarint64(&out, static_cast<std::uint64_t>(info.weight));
    coding::PutVarint64(&out, static_cast<std::uint64_t>(entry.generation));
    coding::PutVarint64(&out, entry.heartbeat);
    coding::PutVarint64(&out, entry.version);
    coding::PutVarint64(&out, static_cast<std::uint64_t>(entry.status));
  }
  return out;
}

bool DecodeGossip(std::string_view payload, GossipMessage* message, std::string* error) {
  GossipMessage decoded;
  std::uint64_t count;
  if (!GetString(&payload, &decoded.sender) || decoded.sender.empty() ||
      !coding::GetVarint64(&payload, &count)) {
    *error = "malformed gossip header";
    return false;
  }
  if (count > kMaxGossipEntries) {
    *error = "gossip of " + std::to_string(count) + " members exceeds the limit of " +
             std::to_string(kMaxGossipEntries);
    return false;
  }
  bool has_sender = false;
  for (std::uint64_t i = 0; i < count; ++i) {
    GossipEntry entry;
    if (!DecodeEntry(&payload, &entry)) {
      *error = "malformed gossip entry " + std::to_string(i);
      return false;
    }
    std::string reason;
    if (!ValidateEntry(entry, &reason)) {
      *error = "invalid gossip entry: " + reason;
      return false;
    }
    if (!decoded.entries.empty() && entry.info.id <= decoded.entries.back().info.id) {
      *error = "gossip entries out of order or repeated at '" + entry.info.id + "'";
      return false;
    }
    has_sender = has_sender || entry.info.id == decoded.sender;
    decoded.entries.push_back(std::move(entry));
  }
  if (!payload.empty()) {
    *error = "trailing bytes after the gossip entries";
    return false;
  }
  if (!has_sender) {
    *error = "gossip from '" + decoded.sender + "' lacks its own entry";
    return false;
  }
  *message = std::move(decoded);
  return true;
}

}  // namespace dynakv::cluster
