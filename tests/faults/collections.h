// The convergent collections the workload writes and the collections checker reads back (issue
// 13's checker 2: every acknowledged add is present unless a remove observed it). One row per
// kind; collection c is of kind kCollectionKinds[c % size]: sets (SADD, SREM, SMEMBERS), hashes
// (HSET, HDEL, HGETALL) and sorted sets (ZADD with score = the element's sequence number, ZREM,
// ZRANGE ... WITHSCORES, and ZINCRBY by 1 of an element: the score is a per-member counter).
//
// Every add writes a new element, named by the add's sequence number (unique in the run), with a
// payload that names it too (a hash field's value, a sorted-set member's score), so an element
// read back names the one add that produced it.
#pragma once

#include <string>
#include <vector>

namespace dynakv::faults {

struct CollectionKind {
  const char* name;    // "set", for reports
  const char* prefix;  // of the key names: prefix + index
  // The add of element `element` with payload `payload` to `key`, and its removal.
  std::vector<std::string> (*add)(const std::string& key, const std::string& element,
                                  const std::string& payload);
  std::vector<std::string> (*remove)(const std::string& key, const std::string& element);
  // The read of every element; with `pairs`, the reply alternates element and payload.
  std::vector<std::string> (*read)(const std::string& key);
  bool pairs;
  // The payload the add of element `seq` writes ("" when the kind has none).
  std::string (*payload)(long long seq);
  // The increment by 1 of element `element`'s payload (ZINCRBY), nullptr when the kind has
  // none. The payload then reads as seq + the increments that landed, as an integer.
  std::vector<std::string> (*bump)(const std::string& key, const std::string& element);
};

const std::vector<CollectionKind>& CollectionKinds();
const CollectionKind& KindOfCollection(int collection);
std::string CollectionName(int collection);
std::string ElementName(long long seq);  // "e<seq>"
// The sequence number in an element name; -1 when it is not one.
long long ElementSeq(const std::string& element);

}  // namespace dynakv::faults
