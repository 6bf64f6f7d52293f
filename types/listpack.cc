#include "types/listpack.h"

#include <cstring>
#include <new>

namespace dynakv::types {

Listpack& Listpack::operator=(Listpack&& other) noexcept {
  data_ = std::move(other.data_);
  size_ = other.size_;
  count_ = other.count_;
  other.size_ = other.count_ = 0;
  return *this;
}

std::size_t Listpack::allocated() const {
  if (size_ == 0) return 0;
  if (size_ <= 128) return (size_ + 15) & ~std::size_t{15};
  // Four classes per doubling: 160, 192, 224, 256, 320, ...
  std::size_t power = 128;
  while (power * 2 < size_) power *= 2;
  const std::size_t step = power / 4;
  return (size_ + step - 1) / step * step;
}

void Listpack::Resize(std::size_t size) {
  if (size == 0) {
    data_.reset();
  } else {
    char* p = static_cast<char*>(std::realloc(data_.get(), size));
    if (p == nullptr) throw std::bad_alloc();
    (void)data_.release();  // realloc moved or freed the old block
    data_.reset(p);
  }
  size_ = static_cast<std::uint32_t>(size);
}

void Listpack::Replace(std::size_t pos, std::size_t len, std::string_view with) {
  const std::size_t old_size = size_;
  const std::size_t tail = old_size - pos - len;
  if (with.size() > len) {
    Resize(old_size + (with.size() - len));
    std::memmove(data_.get() + pos + with.size(), data_.get() + pos + len, tail);
  } else if (with.size() < len) {
    std::memmove(data_.get() + pos + with.size(), data_.get() + pos + len, tail);
    Resize(old_size - (len - with.size()));
  }
  if (!with.empty()) std::memcpy(data_.get() + pos, with.data(), with.size());
}

void Listpack::Assign(std::string_view bytes, std::size_t count) {
  Resize(0);
  Resize(bytes.size());
  if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
  set_count(count);
}

}  // namespace dynakv::types
