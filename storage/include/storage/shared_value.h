// The bytes of one large value, held by reference. A memtable entry whose value is at least
// kSharedValueMin long (stored, or raw when compressed) keeps its stored bytes in a SharedValue
// instead of inline, and a reply that sends the value takes a reference instead of a copy: the
// bytes live until the entry and every reply holding them let go, so an overwrite, delete,
// eviction, offload, checkpoint or FLUSHALL while a reply is still being written frees or changes
// nothing that reply sends.
//
// Contract: the bytes never change once the value is published (handed to a memtable entry or a
// reply); whoever changes a value makes a new SharedValue. The reference count is atomic (a
// std::shared_ptr), so a reference may be dropped on any thread; the read statistics below belong
// to the event loop's thread alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace dynakv::storage {

// Values of at least this many bytes (stored, or raw when compressed) get their own SharedValue. A reference has fixed
// costs a copy does not: a second allocation per SET, an atomic increment and decrement per reply,
// two more iovecs per reply (the value and the framing after it) and a writev that walks them. A
// copy costs a memcpy of the value, from memory that is usually cold (16 KB GET -P 16: the copy
// was 18% of the server's time, bench/RESULTS.md "large-value replies"). Measured per request
// (server CPU, GET and SET -P 16, values of 2, 4, 8 and 16 KB, references from 512 B on against
// none, two rounds on the loaded 2-core VM, 2026-12-07), the two were within the run-to-run noise
// (+-20%) at every size, so the threshold sits where the copy avoided (~0.5 us for 8 KB of cold
// memory) clearly outweighs the fixed costs (~0.1 us): 8 KB. Values below it are copied exactly
// as before, so small-value replies cost what they did. To be measured again on a quiet machine.
inline constexpr std::size_t kSharedValueMin = 8192;

class alignas(8) SharedValue {
 public:
  // `size` uninitialised bytes (no zero-fill: the caller writes all of them before publishing).
  static std::shared_ptr<SharedValue> Make(std::size_t size);

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data(), size_}; }
  // What it costs in memory: the bytes, this header and the shared_ptr control block.
  std::size_t footprint() const { return size_ + sizeof(SharedValue) + kControlBytes; }

  // For a compressed value: its raw (decompressed) length; 0 otherwise.
  std::uint32_t raw_len = 0;
  // Reads of this value, halved for every second that passes (the engine's hot-value rule), and
  // the seconds clock of the last read.
  std::uint16_t reads = 0;
  std::uint16_t read_clock = 0;

 private:
  // std::make_shared_for_overwrite<T[]>'s control block in libstdc++ (use and weak counts, the
  // vtable pointer, the array length).
  static constexpr std::size_t kControlBytes = 24;
  explicit SharedValue(std::uint32_t size) : size_(size) {}
  std::uint32_t size_;
};

}  // namespace dynakv::storage
