#include "zskiplist.h"

namespace dynakv::types {

namespace {
constexpr int kMaxLevel = 32;  // Redis's ZSKIPLIST_MAXLEVEL
constexpr unsigned kP = 4;     // a level is promoted with probability 1/4 (ZSKIPLIST_P)
}  // namespace

struct ZSkiplist::Node {
  struct Level {
    Node* forward = nullptr;
    std::size_t span = 0;
  };
  std::string member;
  double score = 0;
  Node* backward = nullptr;
  std::unique_ptr<Node> owned_next;  // == level[0].forward: the owner of the next node
  std::vector<Level> level;
};

namespace {

// Redis's order: score, then member bytes.
bool Less(double score, std::string_view member, const std::string& other_member,
          double other_score) {
  return other_score < score || (other_score == score && std::string_view(other_member) < member);
}

}  // namespace

ZSkiplist::ZSkiplist() : header_(std::make_unique<Node>()), rng_(0x5eed) {
  header_->level.resize(kMaxLevel);
}

ZSkiplist::~ZSkiplist() {
  // Iteratively: a recursive chain of unique_ptr destructors would overflow the stack.
  while (header_->owned_next) {
    std::unique_ptr<Node> next = std::move(header_->owned_next->owned_next);
    header_->owned_next = std::move(next);
  }
}

int ZSkiplist::RandomLevel() {
  int level = 1;
  while (level < kMaxLevel && rng_() % kP == 0) ++level;
  return level;
}

void ZSkiplist::Insert(std::string_view member, double score) {
  Node* update[kMaxLevel];
  std::size_t rank[kMaxLevel];
  Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (x->level[i].forward != nullptr &&
           Less(score, member, x->level[i].forward->member, x->level[i].forward->score)) {
      rank[i] += x->level[i].span;
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  const int level = RandomLevel();
  if (level > level_) {
    for (int i = level_; i < level; ++i) {
      rank[i] = 0;
      update[i] = header_.get();
      update[i]->level[i].span = size_;
    }
    level_ = level;
  }
  auto node = std::make_unique<Node>();
  node->member.assign(member);
  node->score = score;
  node->level.resize(static_cast<std::size_t>(level));
  Node* n = node.get();
  for (int i = 0; i < level; ++i) {
    n->level[i].forward = update[i]->level[i].forward;
    update[i]->level[i].forward = n;
    n->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
    update[i]->level[i].span = (rank[0] - rank[i]) + 1;
  }
  for (int i = level; i < level_; ++i) ++update[i]->level[i].span;
  n->backward = update[0] == header_.get() ? nullptr : update[0];
  if (n->level[0].forward != nullptr) {
    n->level[0].forward->backward = n;
  } else {
    tail_ = n;
  }
  node->owned_next = std::move(update[0]->owned_next);
  update[0]->owned_next = std::move(node);
  ++size_;
  bytes_ += sizeof(Node) + member.size() + level * sizeof(Node::Level);
}

void ZSkiplist::Remove(std::string_view member, double score) {
  Node* update[kMaxLevel];
  Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->level[i].forward != nullptr &&
           Less(score, member, x->level[i].forward->member, x->level[i].forward->score)) {
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  Node* victim = x->level[0].forward;
  if (victim == nullptr || victim->score != score || victim->member != member) return;
  for (int i = 0; i < level_; ++i) {
    if (update[i]->level[i].forward == victim) {
      update[i]->level[i].span += victim->level[i].span - 1;
      update[i]->level[i].forward = victim->level[i].forward;
    } else {
      --update[i]->level[i].span;
    }
  }
  if (victim->level[0].forward != nullptr) {
    victim->level[0].forward->backward = victim->backward;
  } else {
    tail_ = victim->backward;
  }
  while (level_ > 1 && header_->level[level_ - 1].forward == nullptr) --level_;
  --size_;
  bytes_ -= sizeof(Node) + victim->member.size() + victim->level.size() * sizeof(Node::Level);
  std::unique_ptr<Node> owned = std::move(update[0]->owned_next);
  update[0]->owned_next = std::move(owned->owned_next);
}

std::size_t ZSkiplist::Rank(std::string_view member, double score) const {
  std::size_t rank = 0;
  const Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->level[i].forward != nullptr &&
           (x->level[i].forward->score < score ||
            (x->level[i].forward->score == score &&
             std::string_view(x->level[i].forward->member) <= member))) {
      rank += x->level[i].span;
      x = x->level[i].forward;
    }
    if (x != header_.get() && x->member == member) return rank - 1;
  }
  return rank - 1;
}

std::size_t ZSkiplist::CountLeading(const Pred& before) const {
  std::size_t rank = 0;
  const Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->level[i].forward != nullptr &&
           before(x->level[i].forward->member, x->level[i].forward->score)) {
      rank += x->level[i].span;
      x = x->level[i].forward;
    }
  }
  return rank;
}

ZSkiplist::Node* ZSkiplist::ByRank(std::size_t rank) const {
  const std::size_t target = rank + 1;  // spans count from the header
  std::size_t traversed = 0;
  Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->level[i].forward != nullptr && traversed + x->level[i].span <= target) {
      traversed += x->level[i].span;
      x = x->level[i].forward;
    }
    if (traversed == target) return x;
  }
  return nullptr;
}

void ZSkiplist::Walk(std::size_t rank, bool reverse, const Visitor& fn) const {
  if (rank >= size_) return;
  for (const Node* x = ByRank(rank); x != nullptr;
       x = reverse ? x->backward : x->level[0].forward) {
    if (!fn(x->member, x->score)) return;
  }
}

}  // namespace dynakv::types
