#include "storage/shared_value.h"

#include <new>
#include <type_traits>

namespace dynakv::storage {

// Never destroyed: the block it lives in is freed as an array of words.
static_assert(std::is_trivially_destructible_v<SharedValue>);
static_assert(sizeof(SharedValue) % alignof(std::uint64_t) == 0);

std::shared_ptr<SharedValue> SharedValue::Make(std::size_t size) {
  // One allocation for the control block, this header and the bytes, and none of it zero-filled.
  const std::size_t words = (sizeof(SharedValue) + size + 7) / 8;
  std::shared_ptr<std::uint64_t[]> block = std::make_shared_for_overwrite<std::uint64_t[]>(words);
  SharedValue* value =
      ::new (static_cast<void*>(block.get())) SharedValue(static_cast<std::uint32_t>(size));
  return std::shared_ptr<SharedValue>(std::move(block), value);
}

}  // namespace dynakv::storage
