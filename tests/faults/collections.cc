#include "collections.h"

namespace dynakv::faults {

namespace {

std::string NoPayload(long long) { return {}; }
std::string ValuePayload(long long seq) { return "v" + std::to_string(seq); }
// An integer score reads back as Redis writes it: "7", no fraction.
std::string ScorePayload(long long seq) { return std::to_string(seq); }

const std::vector<CollectionKind> kKinds = {
    {"set", "fs:",
     [](const std::string& k, const std::string& e, const std::string&) {
       return std::vector<std::string>{"SADD", k, e};
     },
     [](const std::string& k, const std::string& e) {
       return std::vector<std::string>{"SREM", k, e};
     },
     [](const std::string& k) {
       return std::vector<std::string>{"SMEMBERS", k};
     },
     false, NoPayload, nullptr},
    {"hash", "fh:",
     [](const std::string& k, const std::string& e, const std::string& p) {
       return std::vector<std::string>{"HSET", k, e, p};
     },
     [](const std::string& k, const std::string& e) {
       return std::vector<std::string>{"HDEL", k, e};
     },
     [](const std::string& k) {
       return std::vector<std::string>{"HGETALL", k};
     },
     true, ValuePayload, nullptr},
    {"zset", "fz:",
     [](const std::string& k, const std::string& e, const std::string& p) {
       return std::vector<std::string>{"ZADD", k, p, e};
     },
     [](const std::string& k, const std::string& e) {
       return std::vector<std::string>{"ZREM", k, e};
     },
     [](const std::string& k) {
       return std::vector<std::string>{"ZRANGE", k, "0", "-1", "WITHSCORES"};
     },
     true, ScorePayload,
     [](const std::string& k, const std::string& e) {
       return std::vector<std::string>{"ZINCRBY", k, "1", e};
     }},
};

}  // namespace

const std::vector<CollectionKind>& CollectionKinds() { return kKinds; }

const CollectionKind& KindOfCollection(int collection) {
  return kKinds[static_cast<std::size_t>(collection) % kKinds.size()];
}

std::string CollectionName(int collection) {
  return KindOfCollection(collection).prefix + std::to_string(collection);
}

std::string ElementName(long long seq) { return "e" + std::to_string(seq); }

long long ElementSeq(const std::string& element) {
  if (element.size() < 2 || element[0] != 'e' || element.size() > 17) return -1;
  long long seq = 0;
  for (std::size_t i = 1; i < element.size(); ++i) {
    if (element[i] < '0' || element[i] > '9') return -1;
    seq = seq * 10 + (element[i] - '0');
  }
  return seq > 0 ? seq : -1;
}

}  // namespace dynakv::faults
