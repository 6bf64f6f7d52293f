// The storage::ObjectCodec of every typed value: the engine calls it to rebuild values from disk
// and to apply logged element operations (ops.h), live and in recovery. Its limits decide
// encodings; the server changes them on CONFIG SET (only on the event loop, like every engine
// call).
#pragma once

#include <memory>
#include <string_view>

#include "storage/object.h"
#include "types/value_type.h"

namespace dynakv::types {

class TypesCodec final : public storage::ObjectCodec {
 public:
  std::unique_ptr<storage::ValueObject> Decode(std::string_view serialized) const override;
  bool Apply(storage::ValueObject* object, std::string_view op, std::int64_t* result,
             std::unique_ptr<storage::ValueObject>* created) const override;
  bool ChangedNothing(std::string_view op, std::int64_t result) const override;

  const TypeLimits& limits() const { return limits_; }
  TypeLimits& mutable_limits() { return limits_; }

 private:
  TypeLimits limits_;
};

// The type of a stored value: kString for plain bytes (object == nullptr).
ValueType TypeOf(const storage::ValueObject* object);

}  // namespace dynakv::types
