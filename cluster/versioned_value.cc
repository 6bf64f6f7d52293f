#include "cluster/versioned_value.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "cluster/collection_state.h"
#include "coding.h"
#include "crdt/pn_counter.h"

namespace dynakv::cluster {

namespace {

constexpr char kSetFormat = 1;      // first byte of an encoded SiblingSet
constexpr char kContextFormat = 1;  // first byte of a decoded context token
constexpr char kTombstoneFlag = 1;
constexpr char kTypedFlag = 2;
constexpr char kCounterFlag = 4;
constexpr char kCollectionFlag = 8;
// clock count, dot, timestamp, origin length, flags, value length, expiry: one byte each at least.
constexpr std::size_t kMinVersionBytes = 7;

// (origin, dot) is unique within a set, so this is a strict order on its members.
bool CanonicalLess(const Version& a, const Version& b) {
  return std::tie(a.origin_node, a.dot) < std::tie(b.origin_node, b.dot);
}

// Whether `seer` was written by someone who had seen `seen`.
bool Saw(const Version& seer, const Version& seen) {
  if (!seen.joined()) return seer.clock.Get(seen.origin_node) >= seen.dot;
  // A counter (or collection) is many writes: all of them (its whole clock, its own dot included)
  // must be seen.
  for (const auto& [node, entry] : seen.clock.entries()) {
    if (seer.clock.Get(node) < entry.counter) return false;
  }
  return seer.clock.Get(seen.origin_node) >= seen.dot;
}

// The counter's fields that follow from its state and its own dot (NormalizeCounterVersion and
// JoinCounterVersions make them so), checked on decode: a set with one decoded otherwise would
// change when joined with itself.
bool CounterFieldsMatch(const Version& version, const crdt::PnCounter& state) {
  return version.History().Encode() == version.clock.Encode() &&
         version.tombstone == !state.Exists() && version.expire_at_ms == state.reset().expire_at_ms;
}

bool CollectionFieldsMatch(const Version& version, const CollectionState& state) {
  return version.History().Encode() == version.clock.Encode() &&
         version.tombstone == state.Empty() && version.expire_at_ms == state.expiry().expire_at_ms;
}

// The (timestamp, origin, dot) of the later of a and b, and the union of their histories: the
// fields every joined version takes.
Version JoinedFrame(const Version& a, const Version& b) {
  const bool b_later = std::tie(a.timestamp_us, a.origin_node, a.dot) <
                       std::tie(b.timestamp_us, b.origin_node, b.dot);
  const Version& later = b_later ? b : a;
  Version joined;
  joined.timestamp_us = later.timestamp_us;
  joined.origin_node = later.origin_node;
  joined.dot = later.dot;
  joined.clock = a.History();
  joined.clock.Merge(b.History());
  return joined;
}

bool SameVersion(const Version& a, const Version& b) {
  std::string x;
  std::string y;
  a.EncodeTo(&x);
  b.EncodeTo(&y);
  return x == y;
}

}  // namespace

VectorClock Version::History() const {
  VectorClock history = clock;
  history.Advance(origin_node, dot, timestamp_us / 1000);  // clock entries age in ms
  return history;
}

void Version::EncodeTo(std::string* dst) const {
  clock.EncodeTo(dst);
  coding::PutVarint64(dst, dot);
  coding::PutVarsint64(dst, timestamp_us);
  coding::PutLengthPrefixed(dst, origin_node);
  dst->push_back(static_cast<char>((tombstone ? kTombstoneFlag : 0) | (typed ? kTypedFlag : 0) |
                                   (counter ? kCounterFlag : 0) |
                                   (collection ? kCollectionFlag : 0)));
  coding::PutLengthPrefixed(dst, value);
  coding::PutVarsint64(dst, expire_at_ms);
}

bool Version::DecodeFrom(std::string_view* input, Version* version, bool check_payload) {
  Version decoded;
  std::string_view origin;
  std::string_view value;
  if (!VectorClock::DecodeFrom(input, &decoded.clock) ||
      !coding::GetVarint64(input, &decoded.dot) ||
      !coding::GetVarsint64(input, &decoded.timestamp_us) ||
      !coding::GetLengthPrefixed(input, &origin) || input->empty()) {
    return false;
  }
  const char flags = input->front();
  input->remove_prefix(1);
  // Unknown flag bits mean a newer format or garbage; either way not something to act on.
  const int kinds = ((flags & kTypedFlag) != 0) + ((flags & kCounterFlag) != 0) +
                    ((flags & kCollectionFlag) != 0);
  if ((flags & ~(kTombstoneFlag | kTypedFlag | kCounterFlag | kCollectionFlag)) != 0 ||
      decoded.dot == 0 || kinds > 1) {
    return false;
  }
  if (!coding::GetLengthPrefixed(input, &value) ||
      !coding::GetVarsint64(input, &decoded.expire_at_ms)) {
    return false;
  }
  decoded.origin_node.assign(origin);
  decoded.tombstone = (flags & kTombstoneFlag) != 0;
  decoded.typed = (flags & kTypedFlag) != 0;
  decoded.counter = (flags & kCounterFlag) != 0;
  decoded.collection = (flags & kCollectionFlag) != 0;
  decoded.value.assign(value);
  if (decoded.counter && check_payload) {
    crdt::PnCounter state;
    if (!crdt::PnCounter::Decode(decoded.value, &state) || !CounterFieldsMatch(decoded, state)) {
      return false;
    }
  }
  if (decoded.collection && check_payload) {
    CollectionState state;
    if (!CollectionState::Decode(decoded.value, &state) || !CollectionFieldsMatch(decoded, state)) {
      return false;
    }
  }
  *version = std::move(decoded);
  return true;
}

VectorClock::Order CompareVersions(const Version& a, const Version& b) {
  using Order = VectorClock::Order;
  if (a.dot == b.dot && a.origin_node == b.origin_node) return Order::kEqual;
  // Only the writer's context counts, not its dot: b.dot > a.dot from the same origin says
  // nothing, since the origin may have issued b for a client that never saw a.
  const bool b_saw_a = Saw(b, a);
  const bool a_saw_b = Saw(a, b);
  if (b_saw_a && !a_saw_b) return Order::kBefore;
  if (a_saw_b && !b_saw_a) return Order::kAfter;
  // Neither saw the other (or, from corrupt clocks, both claim to): keep both.
  return Order::kConcurrent;
}

bool LwwLess(const Version& a, const Version& b) {
  // A tombstone wins an exact tie, so a delete racing a write at the same instant sticks.
  return std::tie(a.timestamp_us, a.origin_node, a.dot, a.tombstone, a.value, a.expire_at_ms) <
         std::tie(b.timestamp_us, b.origin_node, b.dot, b.tombstone, b.value, b.expire_at_ms);
}

Version JoinCounterVersions(const Version& a, const Version& b) {
  Version joined = JoinedFrame(a, b);
  joined.counter = true;
  crdt::PnCounter state;
  crdt::PnCounter other;
  // Both decoded when their set did (Version::DecodeFrom) or were built from a state.
  crdt::PnCounter::Decode(a.value, &state);
  crdt::PnCounter::Decode(b.value, &other);
  state.Join(other);
  joined.value = state.Encode();
  joined.tombstone = !state.Exists();
  joined.expire_at_ms = state.reset().expire_at_ms;
  return joined;
}

bool NormalizeCounterVersion(Version* version) {
  crdt::PnCounter state;
  if (!crdt::PnCounter::Decode(version->value, &state)) return false;
  version->counter = true;
  version->typed = false;
  version->clock = version->History();
  version->tombstone = !state.Exists();
  version->expire_at_ms = state.reset().expire_at_ms;
  return true;
}

Version JoinCollectionVersions(const Version& a, const Version& b) {
  Version joined = JoinedFrame(a, b);
  joined.collection = true;
  CollectionState state;
  CollectionState other;
  // Both decoded when their set did (Version::DecodeFrom) or were built from a state.
  CollectionState::Decode(a.value, &state);
  CollectionState::Decode(b.value, &other);
  state.Join(other);
  joined.value = state.Encode();
  joined.tombstone = state.Empty();
  joined.expire_at_ms = state.expiry().expire_at_ms;
  return joined;
}

bool NormalizeCollectionVersion(Version* version) {
  CollectionState state;
  if (!CollectionState::Decode(version->value, &state)) return false;
  version->collection = true;
  version->counter = false;
  version->typed = false;
  version->clock = version->History();
  version->tombstone = state.Empty();
  version->expire_at_ms = state.expiry().expire_at_ms;
  return true;
}

bool Joinable(const Version& a, const Version& b) {
  if (a.counter && b.counter) return true;
  if (!a.collection || !b.collection) return false;
  CollectionState::Kind x;
  CollectionState::Kind y;
  return CollectionState::PeekKind(a.value, &x) && CollectionState::PeekKind(b.value, &y) && x == y;
}

bool MergeEncodedCollection(std::string_view stored, const SiblingSet& delta, std::string* out) {
  if (delta.size() != 1 || !delta.versions().front().collection) return false;
  const Version& theirs = delta.versions().front();
  std::string_view in = stored;
  std::uint64_t count = 0;
  if (in.empty() || in.front() != kSetFormat) return false;
  in.remove_prefix(1);
  Version mine;
  if (!coding::GetVarint64(&in, &count) || count != 1 ||
      !Version::DecodeFrom(&in, &mine, /*check_payload=*/false) || !in.empty() ||
      !Joinable(mine, theirs)) {
    return false;
  }
  // What SiblingSet::Add does with one joinable version: JoinCollectionVersions, unchanged when
  // the join is the version it had; the joined version is then the whole set.
  CollectionState change;
  if (!CollectionState::Decode(theirs.value, &change)) return false;
  Version joined = JoinedFrame(mine, theirs);
  joined.collection = true;
  bool empty = false;
  ExpiryRegister expiry;
  if (!CollectionState::JoinEncoded(mine.value, change, &joined.value, &empty, &expiry)) {
    return false;
  }
  joined.tombstone = empty;
  joined.expire_at_ms = expiry.expire_at_ms;
  // A write changes the elements (almost always): the values differ, and the frames need no
  // comparing.
  if (joined.value == mine.value && SameVersion(joined, mine)) {
    out->assign(stored);
    return true;
  }
  out->clear();
  out->reserve(stored.size() - mine.value.size() + joined.value.size() + 64);
  SiblingSet merged;
  merged.Add(std::move(joined));
  merged.EncodeTo(out);
  return true;
}

bool SiblingSet::Add(Version version) {
  using Order = VectorClock::Order;
  if (version.joined()) {
    // Counters (collections of a kind) are never siblings of each other: the join stands for both.
    auto it = std::find_if(versions_.begin(), versions_.end(),
                           [&](const Version& sibling) { return Joinable(sibling, version); });
    if (it != versions_.end()) {
      Version joined = version.counter ? JoinCounterVersions(*it, version)
                                       : JoinCollectionVersions(*it, version);
      if (SameVersion(joined, *it)) return false;  // nothing new
      versions_.erase(it);
      version = std::move(joined);
    }
  }
  // Check before changing anything: with corrupt clocks "dominates" need not be transitive, and
  // a version must not both evict siblings and then be rejected.
  for (const Version& sibling : versions_) {
    const Order order = CompareVersions(version, sibling);
    if (order == Order::kBefore) return false;
    if (order == Order::kEqual && !LwwLess(sibling, version)) return false;
  }
  std::erase_if(versions_, [&](const Version& sibling) {
    const Order order = CompareVersions(version, sibling);
    return order == Order::kAfter || order == Order::kEqual;
  });
  if (versions_.size() >= kMaxSiblings) {
    // Never a counter or collection: dropping it would drop acknowledged increments or adds.
    auto loser = versions_.end();
    for (auto it = versions_.begin(); it != versions_.end(); ++it) {
      if (!it->joined() && (loser == versions_.end() || LwwLess(*it, *loser))) loser = it;
    }
    if (loser == versions_.end()) return false;  // only joined versions: cannot happen in practice
    if (!version.joined() && LwwLess(version, *loser)) return false;
    versions_.erase(loser);
  }
  auto position = std::upper_bound(versions_.begin(), versions_.end(), version, CanonicalLess);
  versions_.insert(position, std::move(version));
  return true;
}

void SiblingSet::Merge(const SiblingSet& other) {
  for (const Version& version : other.versions_) Add(version);
}

SiblingSet SiblingSet::Reconcile(const SiblingSet& a, const SiblingSet& b) {
  SiblingSet merged = a;
  merged.Merge(b);
  return merged;
}

const Version* SiblingSet::Resolve() const {
  if (versions_.empty()) return nullptr;
  return &*std::max_element(versions_.begin(), versions_.end(), LwwLess);
}

VectorClock SiblingSet::Context() const {
  VectorClock context;
  for (const Version& version : versions_) context.Merge(version.History());
  return context;
}

std::string SiblingSet::ContextToken() const {
  std::string bytes(1, kContextFormat);
  Context().EncodeTo(&bytes);
  return coding::Base64UrlEncode(bytes);
}

bool SiblingSet::DecodeContextToken(std::string_view token, VectorClock* context) {
  std::string bytes;
  if (!coding::Base64UrlDecode(token, &bytes) || bytes.empty() || bytes[0] != kContextFormat) {
    return false;
  }
  return VectorClock::Decode(std::string_view(bytes).substr(1), context);
}

std::uint64_t SiblingSet::MaxEventOf(std::string_view node) const {
  std::uint64_t max = 0;
  for (const Version& version : versions_) {
    max = std::max(max, version.clock.Get(node));
    if (version.origin_node == node) max = std::max(max, version.dot);
  }
  return max;
}

Version SiblingSet::NewVersion(const VectorClock& context, std::string_view coordinator,
                               std::int64_t timestamp_us, const ClockPruneOptions& prune) const {
  Version version;
  version.clock = context;
  // Pruning before the write bounds clocks, including ones a client made up.
  version.clock.Prune(timestamp_us / 1000, prune);
  const std::uint64_t seen = std::max(context.Get(coordinator), MaxEventOf(coordinator));
  // Saturating: only a corrupt peer or client can bring a counter near the top.
  version.dot = seen == std::numeric_limits<std::uint64_t>::max() ? seen : seen + 1;
  version.timestamp_us = timestamp_us;
  version.origin_node.assign(coordinator);
  return version;
}

void SiblingSet::EncodeTo(std::string* dst) const {
  dst->push_back(kSetFormat);
  coding::PutVarint64(dst, versions_.size());
  for (const Version& version : versions_) version.EncodeTo(dst);
}

std::string SiblingSet::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

bool SiblingSet::Decode(std::string_view bytes, SiblingSet* set, bool check_payloads) {
  if (bytes.empty() || bytes[0] != kSetFormat) return false;
  bytes.remove_prefix(1);
  std::uint64_t count;
  if (!coding::GetVarint64(&bytes, &count) || count > kMaxSiblings ||
      count > bytes.size() / kMinVersionBytes) {
    return false;
  }
  SiblingSet decoded;
  decoded.versions_.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    Version version;
    if (!Version::DecodeFrom(&bytes, &version, check_payloads)) return false;
    if (i > 0 && !CanonicalLess(decoded.versions_.back(), version)) return false;
    for (const Version& earlier : decoded.versions_) {
      if (CompareVersions(version, earlier) != VectorClock::Order::kConcurrent) return false;
      if (Joinable(version, earlier)) return false;  // Add would have joined them
    }
    decoded.versions_.push_back(std::move(version));
  }
  if (!bytes.empty()) return false;
  *set = std::move(decoded);
  return true;
}

}  // namespace dynakv::cluster
