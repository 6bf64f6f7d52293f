#include "types/codec.h"

#include "types/hash.h"
#include "types/ops.h"
#include "types/set.h"

namespace dynakv::types {

std::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kHash:
      return "hash";
    case ValueType::kSet:
      return "set";
  }
  return "none";
}

ValueType TypeOf(const storage::ValueObject* object) {
  if (object == nullptr) return ValueType::kString;
  if (dynamic_cast<const Hash*>(object) != nullptr) return ValueType::kHash;
  if (dynamic_cast<const Set*>(object) != nullptr) return ValueType::kSet;
  return ValueType::kString;
}

std::unique_ptr<storage::ValueObject> TypesCodec::Decode(std::string_view serialized) const {
  if (serialized.empty()) return nullptr;
  switch (static_cast<ValueType>(serialized.front())) {
    case ValueType::kHash:
      return Hash::Decode(serialized, limits_);
    case ValueType::kSet:
      return Set::Decode(serialized, limits_);
    default:
      return nullptr;
  }
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
  }
  return false;
}

}  // namespace dynakv::types
