#include "cluster/collection_state.h"

#include <tuple>

#include "coding.h"

namespace dynakv::cluster {

namespace {

constexpr char kFormat = 1;  // first byte of an encoded state
constexpr std::size_t kMaxOriginLength = 255;

bool RegisterLess(const ExpiryRegister& a, const ExpiryRegister& b) {
  return std::tie(a.timestamp_us, a.origin, a.expire_at_ms) <
         std::tie(b.timestamp_us, b.origin, b.expire_at_ms);
}

}  // namespace

void CollectionState::Join(const CollectionState& other) {
  if (RegisterLess(expiry_, other.expiry_)) expiry_ = other.expiry_;
  switch (kind_) {
    case Kind::kSet:
      set_.Join(other.set_);
      break;
    case Kind::kHash:
      map_.Join(other.map_);
      break;
    case Kind::kList:
      list_.Join(other.list_);
      break;
    case Kind::kZset:
      zset_.Join(other.zset_);
      break;
    case Kind::kHll:
      hll_.Join(other.hll_);
      break;
  }
}

bool CollectionState::Empty() const {
  switch (kind_) {
    case Kind::kSet:
      return set_.size() == 0;
    case Kind::kHash:
      return map_.size() == 0;
    case Kind::kList:
      return list_.size() == 0;
    case Kind::kZset:
      return zset_.size() == 0;
    case Kind::kHll:
      return !hll_.exists();
  }
  return true;
}

std::string CollectionState::Encode() const {
  std::string out;
  out.push_back(kFormat);
  out.push_back(static_cast<char>(kind_));
  coding::PutVarsint64(&out, expiry_.timestamp_us);
  coding::PutLengthPrefixed(&out, expiry_.origin);
  coding::PutVarsint64(&out, expiry_.expire_at_ms);
  switch (kind_) {
    case Kind::kSet:
      out.append(set_.Encode());
      break;
    case Kind::kHash:
      out.append(map_.Encode());
      break;
    case Kind::kList:
      out.append(list_.Encode());
      break;
    case Kind::kZset:
      out.append(zset_.Encode());
      break;
    case Kind::kHll:
      out.append(hll_.Encode());
      break;
  }
  return out;
}

bool CollectionState::PeekKind(std::string_view bytes, Kind* kind) {
  if (bytes.size() < 2 || bytes[0] != kFormat) return false;
  switch (static_cast<Kind>(bytes[1])) {
    case Kind::kSet:
    case Kind::kHash:
    case Kind::kList:
    case Kind::kZset:
    case Kind::kHll:
      break;
    default:
      return false;
  }
  *kind = static_cast<Kind>(bytes[1]);
  return true;
}

bool CollectionState::JoinEncoded(std::string_view encoded, const CollectionState& delta,
                                  std::string* out, bool* empty, ExpiryRegister* expiry) {
  Kind kind;
  if (!PeekKind(encoded, &kind) || kind != delta.kind_ ||
      (kind != Kind::kSet && kind != Kind::kHash && kind != Kind::kZset)) {
    return false;
  }
  std::string_view in = encoded.substr(2);
  ExpiryRegister stored;
  std::string_view origin;
  if (!coding::GetVarsint64(&in, &stored.timestamp_us) ||
      !coding::GetLengthPrefixed(&in, &origin) ||
      !coding::GetVarsint64(&in, &stored.expire_at_ms)) {
    return false;
  }
  stored.origin.assign(origin);
  *expiry = RegisterLess(stored, delta.expiry_) ? delta.expiry_ : stored;
  std::string payload;
  std::size_t size = 0;
  bool ok = false;
  switch (kind) {
    case Kind::kSet:
      ok = crdt::ORSet::JoinEncoded(in, delta.set_, &payload, &size);
      break;
    case Kind::kHash:
      ok = crdt::AddWinsMap::JoinEncoded(in, delta.map_, &payload, &size);
      break;
    case Kind::kZset:
      ok = crdt::ORSortedSet::JoinEncoded(in, delta.zset_, &payload, &size);
      break;
    default:
      break;
  }
  if (!ok) return false;
  out->clear();
  out->reserve(payload.size() + 32 + expiry->origin.size());
  out->push_back(kFormat);
  out->push_back(static_cast<char>(kind));
  coding::PutVarsint64(out, expiry->timestamp_us);
  coding::PutLengthPrefixed(out, expiry->origin);
  coding::PutVarsint64(out, expiry->expire_at_ms);
  out->append(payload);
  *empty = size == 0;
  return true;
}

bool CollectionState::Decode(std::string_view bytes, CollectionState* state) {
  CollectionState decoded;
  if (!PeekKind(bytes, &decoded.kind_)) return false;
  bytes.remove_prefix(2);
  std::string_view origin;
  if (!coding::GetVarsint64(&bytes, &decoded.expiry_.timestamp_us) ||
      !coding::GetLengthPrefixed(&bytes, &origin) || origin.size() > kMaxOriginLength ||
      !coding::GetVarsint64(&bytes, &decoded.expiry_.expire_at_ms)) {
    return false;
  }
  // The unwritten register is all zero: anything else without a stamp is not canonical.
  if (decoded.expiry_.timestamp_us == 0 && (!origin.empty() || decoded.expiry_.expire_at_ms != 0)) {
    return false;
  }
  decoded.expiry_.origin.assign(origin);
  bool ok = false;
  switch (decoded.kind_) {
    case Kind::kSet:
      ok = crdt::ORSet::Decode(bytes, &decoded.set_);
      break;
    case Kind::kHash:
      ok = crdt::AddWinsMap::Decode(bytes, &decoded.map_);
      break;
    case Kind::kList:
      ok = crdt::Sequence::Decode(bytes, &decoded.list_);
      break;
    case Kind::kZset:
      ok = crdt::ORSortedSet::Decode(bytes, &decoded.zset_);
      break;
    case Kind::kHll:
      ok = crdt::HllState::Decode(bytes, &decoded.hll_);
      break;
  }
  if (!ok) return false;
  *state = std::move(decoded);
  return true;
}

}  // namespace dynakv::cluster
