// The bytes of a compact encoding (a hash's or sorted set's listpack) and how many entries they
// hold; what an entry looks like is the owner's business.
//
// The buffer is sized exactly, as Redis sizes its listpacks (lpInsert reallocates on every
// change): a std::string would round its capacity up to the next power of two, and then the
// allocator rounds again, which for a hash of ten small fields is 256 bytes where 224 do. A
// realloc within one jemalloc size class stays in place, so growing one entry at a time is
// cheap. 16 bytes in its owner (a pointer and two 32-bit counts): an encoding holds less than
// 4 GB and 2^32 entries (hash-max-listpack-* and zset-max-listpack-* are far below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace dynakv::types {

class Listpack {
 public:
  Listpack() = default;
  Listpack(Listpack&& other) noexcept
      : data_(std::move(other.data_)), size_(other.size_), count_(other.count_) {
    other.size_ = other.count_ = 0;
  }
  Listpack& operator=(Listpack&& other) noexcept;

  std::string_view view() const { return {data_.get(), size_}; }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t count() const { return count_; }
  void set_count(std::size_t count) { count_ = static_cast<std::uint32_t>(count); }
  // What the allocator hands out for the bytes (its size classes are multiples of 16 up to
  // 128 bytes, then four classes per doubling).
  std::size_t allocated() const;

  // Replaces bytes [pos, pos + len) with `with` (an insert when len is 0, an erase when `with`
  // is empty); `with` must not point into this buffer.
  void Replace(std::size_t pos, std::size_t len, std::string_view with);
  void Append(std::string_view with) { Replace(size_, 0, with); }
  void Assign(std::string_view bytes, std::size_t count);
  void Clear() { *this = Listpack(); }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  void Resize(std::size_t size);  // keeps the first min(size, size_) bytes

  std::unique_ptr<char, Free> data_;
  std::uint32_t size_ = 0;
  std::uint32_t count_ = 0;
};

}  // namespace dynakv::types
