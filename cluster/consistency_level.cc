#include "cluster/consistency_level.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace dynakv::cluster {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int Quorum(int n) { return n / 2 + 1; }

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

bool ParseConsistencyLevel(std::string_view text, ConsistencyLevel* level) {
  using Kind = ConsistencyLevel::Kind;
  static constexpr std::pair<std::string_view, Kind> kNames[] = {
      {"ONE", Kind::kOne},
      {"QUORUM", Kind::kQuorum},
      {"ALL", Kind::kAll},
      {"LOCAL_QUORUM", Kind::kLocalQuorum},
      {"EACH_QUORUM", Kind::kEachQuorum},
      {"SERIAL", Kind::kSerial},
      {"LOCAL_SERIAL", Kind::kLocalSerial},
  };
  for (const auto& [name, kind] : kNames) {
    if (EqualsIgnoreCase(text, name)) {
      *level = ConsistencyLevel{kind, 0};
      return true;
    }
  }
  // Digits only: no sign, no spaces; the bound is checked as we go so nothing overflows.
  if (text.empty()) return false;
  int count = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    count = count * 10 + (c - '0');
    if (count > ConsistencyLevel::kMaxCount) return false;
  }
  if (count == 0) return false;
  *level = ConsistencyLevel{Kind::kCount, count};
  return true;
}

std::string ToString(const ConsistencyLevel& level) {
  switch (level.kind) {
    case ConsistencyLevel::Kind::kOne: return "ONE";
    case ConsistencyLevel::Kind::kQuorum: return "QUORUM";
    case ConsistencyLevel::Kind::kAll: return "ALL";
    case ConsistencyLevel::Kind::kCount: return std::to_string(level.count);
    case ConsistencyLevel::Kind::kLocalQuorum: return "LOCAL_QUORUM";
    case ConsistencyLevel::Kind::kEachQuorum: return "EACH_QUORUM";
    case ConsistencyLevel::Kind::kSerial: return "SERIAL";
    case ConsistencyLevel::Kind::kLocalSerial: return "LOCAL_SERIAL";
  }
  return "?";
}

int RequiredAcks(const ConsistencyLevel& level, int n) {
  switch (level.kind) {
    case ConsistencyLevel::Kind::kOne: return 1;
    case ConsistencyLevel::Kind::kAll: return n;
    case ConsistencyLevel::Kind::kCount: return level.count;
    case ConsistencyLevel::Kind::kQuorum:
    case ConsistencyLevel::Kind::kLocalQuorum:
    case ConsistencyLevel::Kind::kEachQuorum:
    case ConsistencyLevel::Kind::kSerial:
    case ConsistencyLevel::Kind::kLocalSerial: return Quorum(n);
  }
  return n;
}

bool ResolveConsistency(const ConsistencyLevel& level, const ReplicasPerDc& replicas,
                        std::string_view local_dc, std::vector<AckRequirement>* requirements,
                        std::string* error) {
  int total = 0;
  for (const auto& [dc, count] : replicas) total += std::max(count, 0);
  if (total == 0) return Fail(error, "no replicas configured");
  requirements->clear();
  switch (level.kind) {
    case ConsistencyLevel::Kind::kLocalQuorum:
    case ConsistencyLevel::Kind::kLocalSerial: {
      auto it = replicas.find(local_dc);
      if (it == replicas.end() || it->second <= 0) {
        return Fail(error, ToString(level) + " needs replicas in the local dc '" +
                               std::string(local_dc) + "'");
      }
      requirements->push_back(AckRequirement{it->first, Quorum(it->second)});
      return true;
    }
    case ConsistencyLevel::Kind::kEachQuorum:
      for (const auto& [dc, count] : replicas) {
        if (count > 0) requirements->push_back(AckRequirement{dc, Quorum(count)});
      }
      return true;
    default:
      requirements->push_back(AckRequirement{"", RequiredAcks(level, total)});
      return true;
  }
}

}  // namespace dynakv::cluster
