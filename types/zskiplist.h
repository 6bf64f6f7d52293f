// The ordered half of a skiplist-encoded sorted set: Redis's zskiplist (score, then member
// bytes; spans on every level for O(log n) rank; backward links for reverse walks). Members are
// unique by the caller's contract (the member -> score map lives beside it, in sorted_set.cc).
// Nodes are owned along level 0 (each node owns its successor), so no raw new/delete.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::types {

class ZSkiplist {
 public:
  // (member, score) -> keep going.
  using Visitor = std::function<bool(std::string_view member, double score)>;
  using Pred = std::function<bool(std::string_view member, double score)>;

  ZSkiplist();
  ~ZSkiplist();
  ZSkiplist(const ZSkiplist&) = delete;
  ZSkiplist& operator=(const ZSkiplist&) = delete;

  std::size_t size() const { return size_; }
  std::size_t bytes() const { return bytes_; }

  // `member` must not be in the list yet.
  void Insert(std::string_view member, double score);
  // The entry (member, score) must be in the list.
  void Remove(std::string_view member, double score);
  // 0-based rank of the entry (member, score), which must be in the list.
  std::size_t Rank(std::string_view member, double score) const;
  // How many leading entries satisfy `before` (which must hold for a prefix of the order): the
  // rank of the first entry that does not. O(log n).
  std::size_t CountLeading(const Pred& before) const;
  // Visits entries from rank `rank` on, towards the tail (or the head when `reverse`), while
  // `fn` returns true.
  void Walk(std::size_t rank, bool reverse, const Visitor& fn) const;

 private:
  struct Node;
  Node* ByRank(std::size_t rank) const;  // 0-based, < size()
  int RandomLevel();

  std::unique_ptr<Node> header_;
  Node* tail_ = nullptr;
  int level_ = 1;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
  std::minstd_rand rng_;
};

}  // namespace dynakv::types
