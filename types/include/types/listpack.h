// The bytes of a compact encoding (a hash's or sorted set's listpack) and how many entries they
// hold, in one word; what an entry looks like is the owner's business. Once its owner outgrows
// the compact encoding, the same word holds the owner's scalable table instead (CompactOrTable),
// so that a small collection object is a vtable pointer and this word: 16 bytes, the smallest
// allocation there is.
//
// The buffer is sized exactly, as Redis sizes its listpacks (lpInsert reallocates on every
// change): a std::string would round its capacity up to the next power of two, and then the
// allocator rounds again, which for a hash of ten small fields is 256 bytes where 224 do. A
// realloc within one jemalloc size class stays in place, so growing one entry at a time is
// cheap. The buffer starts with its size and count (8 bytes): an encoding holds less than 4 GB
// and 2^32 entries (hash-max-listpack-* and zset-max-listpack-* are far below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace dynakv::types {

class Listpack {
 public:
  Listpack() = default;
  ~Listpack() { Free(); }
  Listpack(Listpack&& other) noexcept : word_(other.word_) { other.word_ = 0; }
  Listpack& operator=(Listpack&& other) noexcept;

  std::string_view view() const;
  const char* data() const { return view().data(); }
  std::size_t size() const { return has_bytes() ? header()->size : 0; }
  bool empty() const { return size() == 0; }
  std::size_t count() const { return has_bytes() ? header()->count : 0; }
  void set_count(std::size_t count);
  // What the allocator hands out for the buffer (its size classes are multiples of 16 up to
  // 128 bytes, then four classes per doubling).
  std::size_t allocated() const;

  // Replaces bytes [pos, pos + len) with `with` (an insert when len is 0, an erase when `with`
  // is empty); `with` must not point into this buffer.
  void Replace(std::size_t pos, std::size_t len, std::string_view with);
  void Append(std::string_view with) { Replace(size(), 0, with); }
  void Assign(std::string_view bytes, std::size_t count);
  void Clear() { Free(); }

  // Whether a buffer of `size` bytes may take `more`: at most 1 GB, Redis's
  // LISTPACK_MAX_SAFETY_SIZE, past which its owner converts to its table whatever the
  // *-max-listpack-* limits say (they may be set high enough to overflow the 32-bit size).
  static constexpr std::size_t kMaxSafeSize = std::size_t{1} << 30;
  static bool SafeToAdd(std::size_t size, std::size_t more) {
    return size <= kMaxSafeSize && more <= kMaxSafeSize - size;
  }

  // The word as the holder of something else (CompactOrTable's table): the bytes are dropped.
  // `p` must be at least 2-byte aligned; ReleaseHeld gives it back and leaves an empty list.
  void Hold(void* p);
  void* held() const { return (word_ & 1) != 0 ? reinterpret_cast<void*>(word_ - 1) : nullptr; }
  void* ReleaseHeld();

 private:
  struct Header {
    std::uint32_t size;
    std::uint32_t count;
  };
  bool has_bytes() const { return word_ != 0 && (word_ & 1) == 0; }
  Header* header() const { return reinterpret_cast<Header*>(word_); }
  char* bytes() const { return reinterpret_cast<char*>(word_) + sizeof(Header); }
  void Resize(std::size_t size);  // keeps the first min(size, size()) bytes
  void Free();

  // 0: empty; low bit set: a held pointer (+1); else a malloc'd Header followed by the bytes.
  std::uintptr_t word_ = 0;
};

// A collection's two encodings in one word: the listpack while compact, then the owned table.
template <typename Table>
class CompactOrTable {
 public:
  CompactOrTable() = default;
  ~CompactOrTable() { std::unique_ptr<Table> drop(static_cast<Table*>(word_.ReleaseHeld())); }
  CompactOrTable(const CompactOrTable&) = delete;
  CompactOrTable& operator=(const CompactOrTable&) = delete;

  Table* table() const { return static_cast<Table*>(word_.held()); }
  // Valid while table() is null.
  Listpack& listpack() { return word_; }
  const Listpack& listpack() const { return word_; }
  // From now on the table: the listpack's bytes are freed.
  void ConvertTo(std::unique_ptr<Table> table) { word_.Hold(table.release()); }

 private:
  Listpack word_;
};

}  // namespace dynakv::types
