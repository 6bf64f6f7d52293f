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
  if (kind_ == Kind::kSet) {
    set_.Join(other.set_);
  } else if (kind_ == Kind::kList) {
    list_.Join(other.list_);
  } else {
    map_.Join(other.map_);
  }
}

bool CollectionState::Empty() const {
  if (kind_ == Kind::kList) return list_.size() == 0;
  return kind_ == Kind::kSet ? set_.size() == 0 : map_.size() == 0;
}

std::string CollectionState::Encode() const {
  std::string out;
  out.push_back(kFormat);
  out.push_back(static_cast<char>(kind_));
  coding::PutVarsint64(&out, expiry_.timestamp_us);
  coding::PutLengthPrefixed(&out, expiry_.origin);
  coding::PutVarsint64(&out, expiry_.expire_at_ms);
  if (kind_ == Kind::kList) {
    out.append(list_.Encode());
    return out;
  }
  out.append(kind_ == Kind::kSet ? set_.Encode() : map_.Encode());
  return out;
}

bool CollectionState::PeekKind(std::string_view bytes, Kind* kind) {
  if (bytes.size() < 2 || bytes[0] != kFormat ||
      (bytes[1] != static_cast<char>(Kind::kSet) && bytes[1] != static_cast<char>(Kind::kHash) &&
       bytes[1] != static_cast<char>(Kind::kList))) {
    return false;
  }
  *kind = static_cast<Kind>(bytes[1]);
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
  const bool ok = decoded.kind_ == Kind::kList  ? crdt::Sequence::Decode(bytes, &decoded.list_)
                  : decoded.kind_ == Kind::kSet ? crdt::ORSet::Decode(bytes, &decoded.set_)
                                                : crdt::AddWinsMap::Decode(bytes, &decoded.map_);
  if (!ok) return false;
  *state = std::move(decoded);
  return true;
}

}  // namespace dynakv::cluster
