#include "types/codec.h"

#include "types/hash.h"
#include "types/list.h"
#include "types/ops.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::types {

namespace {

// kZsetAdd / kZsetRem (ops.h). Every argument is checked before anything changes.
bool ApplyZset(storage::ValueObject* object, const Op& op, const TypeLimits& limits,
               std::int64_t* result, std::unique_ptr<storage::ValueObject>* created) {
  const bool add = op.code == OpCode::kZsetAdd;
  if (op.args.empty() || (add && op.args.size() % 2 != 0)) return false;
  SortedSet* set = nullptr;
  if (object != nullptr) {
    set = dynamic_cast<SortedSet*>(object);
    if (set == nullptr) return false;
  }
  if (!add) {
    if (set == nullptr) return true;  // nothing to remove from
    for (std::string_view member : op.args) {
      if (set->Remove(member)) ++*result;
    }
    return true;
  }
  double score;
  for (std::size_t i = 0; i < op.args.size(); i += 2) {
    if (!DecodeScoreArg(op.args[i], &score)) return false;
  }
  std::unique_ptr<SortedSet> fresh;
  if (set == nullptr) {
    fresh = std::make_unique<SortedSet>();
    set = fresh.get();
  }
  for (std::size_t i = 0; i < op.args.size(); i += 2) {
    DecodeScoreArg(op.args[i], &score);
    if (set->Add(op.args[i + 1], score, limits)) ++*result;
  }
  if (fresh) *created = std::move(fresh);
  return true;
}

}  // namespace

std::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kHash:
      return "hash";
    case ValueType::kSet:
      return "set";
    case ValueType::kList:
      return "list";
    case ValueType::kSortedSet:
      return "zset";
  }
  return "none";
}

ValueType TypeOf(const storage::ValueObject* object) {
  if (object == nullptr) return ValueType::kString;
  if (dynamic_cast<const Hash*>(object) != nullptr) return ValueType::kHash;
  if (dynamic_cast<const Set*>(object) != nullptr) return ValueType::kSet;
  if (dynamic_cast<const List*>(object) != nullptr) return ValueType::kList;
  if (dynamic_cast<const SortedSet*>(object) != nullptr) return ValueType::kSortedSet;
  return ValueType::kString;
}

std::unique_ptr<storage::ValueObject> TypesCodec::Decode(std::string_view serialized) const {
  if (serialized.empty()) return nullptr;
  switch (static_cast<ValueType>(serialized.front())) {
    case ValueType::kHash:
      return Hash::Decode(serialized, limits_);
    case ValueType::kSet:
      return Set::Decode(serialized, limits_);
    case ValueType::kList:
      return List::Decode(serialized, limits_);
    case ValueType::kSortedSet:
      return SortedSet::Decode(serialized, limits_);
    default:
      return nullptr;
  }
}

namespace {

bool ParseCount(std::string_view text, long long* out) {
  if (text.empty() || text.size() > 20) return false;
  std::size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  if (i == text.size()) return false;
  unsigned long long v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + static_cast<unsigned long long>(text[i] - '0');
    if (v > (1ull << 62)) return false;
  }
  *out = negative ? -static_cast<long long>(v) : static_cast<long long>(v);
  return true;
}

// The list operations (ops.h, 10-29): every argument is checked before anything changes.
bool ApplyListOp(storage::ValueObject* object, const Op& op, const TypeLimits& limits,
                 std::int64_t* result, std::unique_ptr<storage::ValueObject>* created) {
  List* list = nullptr;
  if (object != nullptr) {
    list = dynamic_cast<List*>(object);
    if (list == nullptr) return false;
  }
  const auto length = [&] { return static_cast<std::int64_t>(list->size()); };
  switch (op.code) {
    case OpCode::kListPushFront:
    case OpCode::kListPushBack: {
      if (op.args.empty()) return false;
      std::unique_ptr<List> fresh;
      if (list == nullptr) {
        fresh = std::make_unique<List>();
        list = fresh.get();
      }
      for (std::string_view element : op.args) {
        if (op.code == OpCode::kListPushFront) {
          list->PushFront(element, limits);
        } else {
          list->PushBack(element, limits);
        }
      }
      *result = length();
      if (fresh) *created = std::move(fresh);
      return true;
    }
    case OpCode::kListPopFront:
    case OpCode::kListPopBack: {
      long long count = 0;
      if (op.args.size() != 1 || !ParseCount(op.args[0], &count) || count < 0) return false;
      if (list == nullptr) return true;
      while (count-- > 0 && !list->Empty()) {
        if (op.code == OpCode::kListPopFront) {
          list->PopFront();
        } else {
          list->PopBack();
        }
        ++*result;
      }
      return true;
    }
    case OpCode::kListSet: {
      long long index = 0;
      if (op.args.size() != 2 || !ParseCount(op.args[0], &index) || list == nullptr ||
          index < 0 || static_cast<std::size_t>(index) >= list->size()) {
        return false;
      }
      list->Set(static_cast<std::size_t>(index), op.args[1], limits);
      return true;
    }
    case OpCode::kListInsert: {
      if (op.args.size() != 3 || (op.args[0] != "before" && op.args[0] != "after")) return false;
      if (list == nullptr) return true;
      *result = list->Insert(op.args[1], op.args[2], op.args[0] == "before", limits) ? length() : -1;
      return true;
    }
    case OpCode::kListRemove: {
      long long count = 0;
      if (op.args.size() != 2 || !ParseCount(op.args[0], &count)) return false;
      if (list == nullptr) return true;
      *result = static_cast<std::int64_t>(list->Remove(count, op.args[1], limits));
      return true;
    }
    case OpCode::kListTrim: {
      long long head = 0;
      long long tail = 0;
      if (op.args.size() != 2 || !ParseCount(op.args[0], &head) || !ParseCount(op.args[1], &tail) ||
          head < 0 || tail < 0) {
        return false;
      }
      if (list == nullptr) return true;
      while (head-- > 0 && !list->Empty()) list->PopFront();
      while (tail-- > 0 && !list->Empty()) list->PopBack();
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

bool TypesCodec::ChangedNothing(std::string_view op, std::int64_t result) const {
  return OpChangedNothing(op, result);
}

bool TypesCodec::Apply(storage::ValueObject* object, std::string_view op_bytes,
                       std::int64_t* result, std::unique_ptr<storage::ValueObject>* created) const {
  Op op;
  if (!ParseOp(op_bytes, &op)) return false;
  *result = 0;
  switch (op.code) {
    case OpCode::kHashSet: {
      if (op.args.empty() || op.args.size() % 2 != 0) return false;
      Hash* hash = nullptr;
      std::unique_ptr<Hash> fresh;
      if (object == nullptr) {
        fresh = std::make_unique<Hash>();
        hash = fresh.get();
      } else {
        hash = dynamic_cast<Hash*>(object);
        if (hash == nullptr) return false;
      }
      for (std::size_t i = 0; i < op.args.size(); i += 2) {
        if (hash->Set(op.args[i], op.args[i + 1], limits_)) ++*result;
      }
      if (fresh) *created = std::move(fresh);
      return true;
    }
    case OpCode::kHashDel: {
      if (op.args.empty()) return false;
      if (object == nullptr) return true;  // nothing to delete from
      auto* hash = dynamic_cast<Hash*>(object);
      if (hash == nullptr) return false;
      for (std::string_view field : op.args) {
        if (hash->Remove(field)) ++*result;
      }
      return true;
    }
    case OpCode::kSetAdd: {
      if (op.args.empty()) return false;
      Set* set = nullptr;
      std::unique_ptr<Set> fresh;
      if (object == nullptr) {
        fresh = std::make_unique<Set>();
        set = fresh.get();
      } else {
        set = dynamic_cast<Set*>(object);
        if (set == nullptr) return false;
      }
      for (std::string_view member : op.args) {
        if (set->Add(member, limits_)) ++*result;
      }
      if (fresh) *created = std::move(fresh);
      return true;
    }
    case OpCode::kSetRem: {
      if (op.args.empty()) return false;
      if (object == nullptr) return true;  // nothing to remove from
      auto* set = dynamic_cast<Set*>(object);
      if (set == nullptr) return false;
      for (std::string_view member : op.args) {
        if (set->Remove(member)) ++*result;
      }
      return true;
    }
    case OpCode::kListPushFront:
    case OpCode::kListPushBack:
    case OpCode::kListPopFront:
    case OpCode::kListPopBack:
    case OpCode::kListSet:
    case OpCode::kListInsert:
    case OpCode::kListRemove:
    case OpCode::kListTrim:
      return ApplyListOp(object, op, limits_, result, created);
    case OpCode::kZsetAdd:
    case OpCode::kZsetRem:
      return ApplyZset(object, op, limits_, result, created);
  }
  return false;
}

}  // namespace dynakv::types
