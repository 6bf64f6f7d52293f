// The versions of one key a replica keeps, and how replicas' copies reconcile.
//
// Versions carry dotted version vectors (Preguiça et al.): `clock` is what the writer had seen
// (its causal context) and (origin_node, dot) names the write itself. A version is obsolete when
// another one's clock covers its dot. Plain vector clocks, incremented at the coordinator, get
// this wrong when two clients write through one node with the same context: both writes would get
// the same clock, and one would silently replace the other. With dots they get distinct events and
// become siblings, while a write that saw a sibling still replaces it.
//
// A SiblingSet holds the versions no other version has seen (Dynamo's "divergent versions").
// Plain GETs show a single value chosen by last-write-wins (Resolve); causal clients (VGET/VSET)
// get every sibling plus a context token, and a write with that token replaces them all.
//
// Replicating: send the coordinator's whole merged set, not just the new version (Riak does the
// same). A context covers a dot only if the reader also saw everything that dot's writer had,
// which holds when every copy that has a version also has the siblings it was written beside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/vector_clock.h"

namespace dynakv::cluster {

struct Version {
  VectorClock clock;      // causal context of the write (excludes the write itself)
  std::uint64_t dot = 0;  // the write is event number `dot` of origin_node; >= 1
  // Hybrid logical time in microseconds (HybridClock): orders last-write-wins.
  std::int64_t timestamp_us = 0;
  std::string origin_node;  // the coordinator that accepted the write
  bool tombstone = false;   // a delete; kept so the delete replicates and wins over older data
  // `value` is a typed value's serialized form (types/: a hash, ...), not string bytes. The
  // cluster never looks inside; the coordinator's snapshot decodes it.
  bool typed = false;
  // `value` is a crdt::PnCounter's encoding (an INCR-family counter, README: cluster mode,
  // counters). A set holds at most one counter version: Add joins a second one into it
  // (JoinCounterVersions) instead of keeping a sibling. tombstone and expire_at_ms follow the
  // counter's state (Exists, its reset's expiry).
  bool counter = false;
  // `value` is a CollectionState's encoding (collection_state.h: a set written by SADD, SREM,
  // ...). Like a counter it is joined, not kept as a sibling, with another collection version of
  // its kind; tombstone (no element) and expire_at_ms (the register's) follow its state.
  bool collection = false;
  std::string value;
  std::int64_t expire_at_ms = 0;  // absolute unix ms, 0: never

  // What a plain read shows: not deleted and not expired.
  bool IsLive(std::int64_t now_ms) const {
    return !tombstone && (expire_at_ms == 0 || expire_at_ms > now_ms);
  }
  // Everything this version has seen, including itself.
  VectorClock History() const;
  // A counter or a collection: a join of many writes, which Add never keeps as siblings.
  bool joined() const { return counter || collection; }

  void EncodeTo(std::string* dst) const;
  // check_payload false: a counter's or collection's payload is taken as it is, not decoded and
  // checked (bytes this node checked when it stored them, SiblingSet::Decode).
  static bool DecodeFrom(std::string_view* input, Version* version, bool check_payload = true);
};

// kBefore: `b` has seen `a` (a may be dropped). kEqual: the same write. A counter version is
// the join of many writes, and its clock is all of their histories: another version has seen
// it only when its clock covers that whole clock, not just the counter's own dot.
VectorClock::Order CompareVersions(const Version& a, const Version& b);
// The one counter version that stands for both (both must be counters with valid payloads):
// the join of their states, the union of their histories as its clock, and the (timestamp,
// origin, dot) of the later one. Commutative, associative and idempotent, so every replica that
// joined the same versions holds the same bytes whatever the order.
Version JoinCounterVersions(const Version& a, const Version& b);
// A new counter version's fields that follow from its state: clock made to include its own dot
// (as every joined one's does), tombstone and expiry from the state. False when `value` is not
// a counter's encoding.
bool NormalizeCounterVersion(Version* version);
// The same for collection versions (CollectionState): both must be collections of one kind.
Version JoinCollectionVersions(const Version& a, const Version& b);
bool NormalizeCollectionVersion(Version* version);
// Whether Add joins `a` and `b` instead of keeping both: two counters, or two collections of one
// kind.
bool Joinable(const Version& a, const Version& b);

// Last-write-wins order: true when `b` wins over `a`. Higher timestamp wins, then higher origin
// id; the remaining fields only break exact ties, so every replica picks the same winner.
bool LwwLess(const Version& a, const Version& b);

class SiblingSet {
 public:
  // Riak's max_siblings. Past it the last-write-wins loser is dropped: a key written blind by
  // many clients degrades to LWW instead of growing without bound (and every stored set stays
  // cheap to decode).
  static constexpr std::size_t kMaxSiblings = 100;

  // Keeps `version` unless a sibling has seen it (or is the same write and wins LWW); drops the
  // siblings it has seen. Returns whether it was kept.
  bool Add(Version version);
  // Folds in another replica's copy of the key.
  void Merge(const SiblingSet& other);
  // Union of two replicas' copies; the result does not depend on argument order.
  static SiblingSet Reconcile(const SiblingSet& a, const SiblingSet& b);

  // The LWW winner, which a plain GET shows (check IsLive: it may be a tombstone or expired);
  // nullptr when empty.
  const Version* Resolve() const;

  // Everything the set has seen: a write with this context replaces every current sibling.
  VectorClock Context() const;
  // Context() as an opaque printable token for clients (VGET returns it, VSET takes it back).
  std::string ContextToken() const;
  // False on anything ContextToken() could not have produced.
  static bool DecodeContextToken(std::string_view token, VectorClock* context);

  // The version a coordinator creates for a write that carries `context` (empty for a blind
  // write): its clock is the context, pruned, and its dot a fresh event of `coordinator`, past
  // every event of it in the context and in this set (the coordinator's local copy), so the
  // write replaces exactly the siblings the context covers. The caller fills in the payload.
  Version NewVersion(const VectorClock& context, std::string_view coordinator,
                     std::int64_t timestamp_us, const ClockPruneOptions& prune = {}) const;

  const std::vector<Version>& versions() const { return versions_; }
  std::size_t size() const { return versions_.size(); }
  bool empty() const { return versions_.empty(); }

  // The bytes the storage engine stores as the key's value. Versions are kept in a canonical
  // order, so replicas holding the same set store identical bytes (anti-entropy compares hashes).
  void EncodeTo(std::string* dst) const;
  std::string Encode() const;
  // Strict: false on truncation, trailing bytes, an unknown format, more than kMaxSiblings, or
  // versions that are not mutually concurrent or not in canonical order. check_payloads false:
  // counters' and collections' payloads are not decoded to be checked, for bytes that were when
  // they were stored (a stored copy held as an object: stored_siblings.h); the rest is.
  static bool Decode(std::string_view bytes, SiblingSet* set, bool check_payloads = true);

 private:
  std::uint64_t MaxEventOf(std::string_view node) const;

  std::vector<Version> versions_;  // mutually concurrent, in canonical order
};

// Encode() of SiblingSet::Decode(stored) merged with `delta`, for the shape of a replica's
// collection write: the stored set is one collection version and `delta` one collection version
// of its kind, a set, hash or sorted set. The elements the delta does not touch are copied as
// bytes (CollectionState::JoinEncoded), never decoded. `stored` must be a stored copy, checked
// when it was stored. False for other shapes: the caller decodes and merges.
bool MergeEncodedCollection(std::string_view stored, const SiblingSet& delta, std::string* out);

}  // namespace dynakv::cluster
