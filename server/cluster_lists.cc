#include "cluster_lists.h"

#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "types/value_type.h"

namespace dynakv::server {

namespace {

using Sequence = crdt::Sequence;

bool ParseInt(std::string_view text, long long* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Removes up to `count` visible elements from one end (fewer when the list runs out).
void Pop(Sequence* seen, Sequence* delta, long long count, bool front) {
  for (; count > 0; --count) {
    std::optional<std::string> value;
    Sequence removed = front ? seen->PopFront(&value) : seen->PopBack(&value);
    if (!value) return;
    delta->Join(removed);
  }
}

// LREM's count: from the head when positive, from the tail when negative, every match when 0.
void RemoveMatches(Sequence* seen, Sequence* delta, long long count, std::string_view element) {
  std::vector<std::pair<Sequence::Id, std::string>> elements = seen->Elements();
  const bool from_tail = count < 0;
  unsigned long long left = elements.size();
  if (count != 0) {
    left = count < 0 ? 0ULL - static_cast<unsigned long long>(count)
                     : static_cast<unsigned long long>(count);
  }
  const std::size_t n = elements.size();
  for (std::size_t i = 0; i < n && left > 0; ++i) {
    const auto& [id, value] = elements[from_tail ? n - 1 - i : i];
    if (value != element) continue;
    delta->Join(seen->Remove(id));
    --left;
  }
}

}  // namespace

bool IsConvergentListCommand(const CommandSpec& spec) {
  return (spec.flags & kCmdClusterConvergent) != 0 && (spec.acl & kAclList) != 0;
}

std::string ListTarget(const cluster::ClusterNode& node, const std::string& key) {
  const std::vector<std::string> replicas = node.ReplicaIds(key);
  // Reachable first: a member killed a moment ago is still "alive" until the failure detector
  // says otherwise, but its connection has already failed.
  for (const std::string& id : replicas) {
    if (id == node.self_id() || (node.IsAlive(id) && node.PeerReachable(id))) return id;
  }
  for (const std::string& id : replicas) {
    if (node.IsAlive(id)) return id;
  }
  return replicas.empty() ? node.self_id() : replicas.front();
}

bool ApplyListOp(const types::Op& op, std::string_view actor, Sequence* seen, Sequence* delta) {
  using types::OpCode;
  const auto& args = op.args;
  switch (op.code) {
    case OpCode::kListPushFront:
    case OpCode::kListPushBack:
      if (args.empty()) return false;
      for (std::string_view element : args) {
        delta->Join(op.code == OpCode::kListPushFront ? seen->PushFront(actor, element)
                                                      : seen->PushBack(actor, element));
      }
      return true;
    case OpCode::kListPopFront:
    case OpCode::kListPopBack: {
      long long count = 0;
      if (args.size() != 1 || !ParseInt(args[0], &count) || count < 0) return false;
      Pop(seen, delta, count, op.code == OpCode::kListPopFront);
      return true;
    }
    case OpCode::kListSet: {
      // The new value right after the old one (its anchor's first child: before anything else
      // anchored there), then the old one removed. Two concurrent LSETs of one element keep both
      // values, side by side (README).
      long long index = 0;
      if (args.size() != 2 || !ParseInt(args[0], &index) || index < 0) return false;
      const auto elements = seen->Elements();
      if (static_cast<unsigned long long>(index) >= elements.size()) return false;
      const Sequence::Id old = elements[static_cast<std::size_t>(index)].first;
      delta->Join(seen->InsertAfter(actor, old, args[1]));
      delta->Join(seen->Remove(old));
      return true;
    }
    case OpCode::kListInsert: {
      if (args.size() != 3 || (args[0] != "before" && args[0] != "after")) return false;
      for (const auto& [id, value] : seen->Elements()) {
        if (value != args[1]) continue;
        delta->Join(args[0] == "after" ? seen->InsertAfter(actor, id, args[2])
                                       : seen->InsertBefore(actor, id, args[2]));
        return true;
      }
      return true;  // no pivot: nothing inserted (the handler answered -1)
    }
    case OpCode::kListRemove: {
      long long count = 0;
      if (args.size() != 2 || !ParseInt(args[0], &count)) return false;
      RemoveMatches(seen, delta, count, args[1]);
      return true;
    }
    case OpCode::kListTrim: {
      long long head = 0;
      long long tail = 0;
      if (args.size() != 2 || !ParseInt(args[0], &head) || !ParseInt(args[1], &tail) || head < 0 ||
          tail < 0) {
        return false;
      }
      Pop(seen, delta, head, true);
      Pop(seen, delta, tail, false);
      return true;
    }
    default:
      return false;
  }
}

void PushList(const types::List& list, std::string_view actor, Sequence* seen, Sequence* delta) {
  list.ForRange(0, list.size(), [&](std::string_view element) {
    delta->Join(seen->PushBack(actor, element));
    return true;
  });
}

std::string ListValue(const Sequence& sequence) {
  const std::vector<std::string> values = sequence.Values();
  std::string out;
  out.push_back(static_cast<char>(types::ValueType::kList));
  types::PutVarint(&out, values.size());
  for (const std::string& value : values) {
    types::PutVarint(&out, value.size());
    out.append(value);
  }
  return out;
}

}  // namespace dynakv::server
