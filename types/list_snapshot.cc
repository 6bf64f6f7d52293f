// A list's snapshot (list.h): the nodes as they were at the start, in runs, serialized by the
// checkpoint's thread while the owner pushes and pops, each run settled by the owner before it
// changes one of its nodes.
#include <algorithm>
#include <vector>

#include "chunked_snapshot.h"
#include "types/list.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {
// At most 1,024 runs: a push or pop that settles one serializes about a thousandth of a list
// of more than 1,024 nodes, one node (8 KB by default) of a smaller one.
constexpr std::size_t kMaxRuns = 1024;
}  // namespace

// The nodes are read through pointers taken at the start: the deque never moves its elements on
// a push or pop at either end, and the owner settles every run before a change that moves them.
class List::Snapshot final : public ChunkedSnapshot {
 public:
  explicit Snapshot(std::vector<const Node*> nodes)
      : ChunkedSnapshot(RunsOf(nodes.size())),
        per_run_((nodes.size() + kMaxRuns - 1) / kMaxRuns),
        nodes_(std::move(nodes)) {}

  // The owner: before the node now at deque index `at` changes. Nodes the list gained since the
  // start are in no run (an index past the snapshot's nodes, or before them, is one of those; a
  // node put where a dropped one was is harmlessly taken for it: that run was settled).
  void Touch(std::size_t at) {
    const long long i = static_cast<long long>(at) - offset_;
    if (i < 0 || i >= static_cast<long long>(nodes_.size())) return;
    SettleChunk(static_cast<std::size_t>(i) / per_run_);
  }
  void Shift(long long by) { offset_ += by; }

 private:
  static std::size_t RunsOf(std::size_t nodes) {
    const std::size_t per_run = (nodes + kMaxRuns - 1) / kMaxRuns;
    return per_run == 0 ? 0 : (nodes + per_run - 1) / per_run;
  }

  void SerializeChunk(std::size_t c, std::string* out) const override {
    std::string scratch;
    const std::size_t end = std::min(nodes_.size(), (c + 1) * per_run_);
    for (std::size_t i = c * per_run_; i < end; ++i) AppendSerialized(*nodes_[i], out, &scratch);
  }

  const std::size_t per_run_;
  const std::vector<const Node*> nodes_;
  long long offset_ = 0;  // the owner's: the deque index of nodes_[0] now
};

std::unique_ptr<storage::ObjectSnapshot> List::StartSnapshot() {
  if (nodes_.size() <= 1) return nullptr;
  std::vector<const Node*> nodes;
  nodes.reserve(nodes_.size());
  for (const Node& node : nodes_) nodes.push_back(&node);
  auto snapshot = std::make_unique<Snapshot>(std::move(nodes));
  snapshot_ = snapshot.get();
  std::string header;
  header.push_back(static_cast<char>(ValueType::kList));
  PutVarint(&header, size_);
  return WithHeader(std::move(header), std::move(snapshot));
}

void List::EndSnapshot() { snapshot_ = nullptr; }

void List::TouchSnapshot(std::size_t at) { snapshot_->Touch(at); }

void List::TouchAll() {
  if (snapshot_ == nullptr) return;
  snapshot_->SettleAll();
  snapshot_ = nullptr;  // nothing is left to settle (the engine still ends the snapshot)
}

void List::ShiftSnapshot(long long by) {
  if (snapshot_ != nullptr) snapshot_->Shift(by);
}

}  // namespace dynakv::types
