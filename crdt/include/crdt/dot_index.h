// Which element holds each dot of a value. A join only needs to look at the elements whose dots
// the other side's context covers, and a delta covers a handful: with this index, joining a
// one-element delta into a million-element value costs O(delta), not a walk over every element.
//
// The index points at the element names (the keys of the value's std::map, which never move), so
// a copy cannot reuse it: a copied index is empty and invalid, and the value rebuilds it the next
// time a small join needs it. Moves keep it (the map's nodes move with it).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>

#include "crdt/causal_context.h"

namespace dynakv::crdt {

class DotIndex {
 public:
  DotIndex() = default;
  DotIndex(const DotIndex&) {}
  DotIndex& operator=(const DotIndex&) {
    Invalidate();
    return *this;
  }
  DotIndex(DotIndex&&) = default;
  DotIndex& operator=(DotIndex&&) = default;

  bool valid() const { return valid_; }
  void Invalidate() {
    map_.clear();
    valid_ = false;
  }
  void MarkValid() { valid_ = true; }

  // These keep a valid index in step and do nothing to an invalid one.
  void Put(Dot dot, const std::string* element) {
    if (valid_) map_[dot] = element;
  }
  void Erase(Dot dot) {
    if (valid_) map_.erase(dot);
  }
  void Clear() { map_.clear(); }

  const std::string* Find(Dot dot) const {
    auto it = map_.find(dot);
    return it == map_.end() ? nullptr : it->second;
  }

 private:
  struct Hash {
    std::size_t operator()(Dot d) const noexcept {
      return std::hash<std::uint64_t>()(d.counter * 0x9e3779b97f4a7c15ULL ^ d.actor);
    }
  };
  std::unordered_map<Dot, const std::string*, Hash> map_;
  bool valid_ = false;
};

}  // namespace dynakv::crdt
