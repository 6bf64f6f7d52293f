#include "types/listpack.h"

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>

namespace dynakv::types {

Listpack& Listpack::operator=(Listpack&& other) noexcept {
  if (this != &other) {
    Free();
    word_ = other.word_;
    other.word_ = 0;
  }
  return *this;
}

void Listpack::Free() {
  assert((word_ & 1) == 0 && "a held pointer must be released by its owner");
  if (has_bytes()) std::free(header());
  word_ = 0;
}

std::string_view Listpack::view() const {
  if (!has_bytes()) return {};
  return {bytes(), header()->size};
}

std::size_t Listpack::allocated() const {
  if (!has_bytes()) return 0;
  const std::size_t size = sizeof(Header) + header()->size;
  if (size <= 128) return (size + 15) & ~std::size_t{15};
  // Four classes per doubling: 160, 192, 224, 256, 320, ...
  std::size_t power = 128;
  while (power * 2 < size) power *= 2;
  const std::size_t step = power / 4;
  return (size + step - 1) / step * step;
}

void Listpack::set_count(std::size_t count) {
  if (!has_bytes()) {
    if (count == 0) return;
    Resize(0);  // allocates the header
  }
  header()->count = static_cast<std::uint32_t>(count);
  if (count == 0 && header()->size == 0) Free();
}

void Listpack::Resize(std::size_t size) {
  assert((word_ & 1) == 0);
  const std::uint32_t count = has_bytes() ? header()->count : 0;
  void* p = std::realloc(has_bytes() ? header() : nullptr, sizeof(Header) + size);
  if (p == nullptr) throw std::bad_alloc();
  word_ = reinterpret_cast<std::uintptr_t>(p);
  header()->size = static_cast<std::uint32_t>(size);
  header()->count = count;
}

void Listpack::Replace(std::size_t pos, std::size_t len, std::string_view with) {
  const std::size_t old_size = size();
  const std::size_t tail = old_size - pos - len;
  if (with.size() > len) {
    Resize(old_size + (with.size() - len));
    std::memmove(bytes() + pos + with.size(), bytes() + pos + len, tail);
  } else if (with.size() < len) {
    std::memmove(bytes() + pos + with.size(), bytes() + pos + len, tail);
    Resize(old_size - (len - with.size()));
  }
  if (!with.empty()) std::memcpy(bytes() + pos, with.data(), with.size());
  if (has_bytes() && header()->size == 0 && header()->count == 0) Free();
}

void Listpack::Assign(std::string_view bytes_in, std::size_t count) {
  Free();
  if (bytes_in.empty() && count == 0) return;
  Resize(bytes_in.size());
  if (!bytes_in.empty()) std::memcpy(bytes(), bytes_in.data(), bytes_in.size());
  header()->count = static_cast<std::uint32_t>(count);
}

void Listpack::Hold(void* p) {
  assert((reinterpret_cast<std::uintptr_t>(p) & 1) == 0);
  Free();
  word_ = reinterpret_cast<std::uintptr_t>(p) + 1;
}

void* Listpack::ReleaseHeld() {
  void* p = held();
  if (p != nullptr) word_ = 0;
  return p;
}

}  // namespace dynakv::types
