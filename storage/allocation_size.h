// What the allocator really hands out for a request of n bytes: jemalloc's size class (the
// server links jemalloc 5: 16-byte quantum, 4 KB pages, four classes per doubling). A 100-byte
// entry costs 112 bytes, an 8,200-byte value 10,240; jemalloc's stats.allocated, which INFO
// reports as used_memory, counts exactly these. The memory limit counts them too, so that
// `maxmemory` bounds what used_memory shows rather than the smaller sum of the requests (about
// 8% smaller for 100 B - 4 KB values).
//
// Contract: AllocationSize(n) == nallocx(n, 0) for every n up to 2^40 with the jemalloc the
// server is built with (tests/unit/storage_jemalloc checks it against nallocx). It is computed
// rather than asked for because it is on every insert and erase (and every allkeys-tinylfu
// move), where a call into the allocator would cost more than the arithmetic, and because a
// binary without jemalloc (the unit tests) then counts what the server would.
#pragma once

#include <bit>
#include <cstddef>

namespace dynakv::storage {

constexpr std::size_t AllocationSize(std::size_t n) {
  if (n <= 8) return 8;                                  // the one tiny class
  if (n <= 128) return (n + 15) & ~std::size_t{15};      // the quantum's multiples
  const int lg = std::bit_width(n - 1) - 1;              // 2^lg < n <= 2^(lg + 1)
  const std::size_t delta = std::size_t{1} << (lg - 2);  // four classes in that doubling
  return (n + delta - 1) & ~(delta - 1);
}

static_assert(AllocationSize(100) == 112);
static_assert(AllocationSize(129) == 160);
static_assert(AllocationSize(4096) == 4096);
static_assert(AllocationSize(4097) == 5120);
static_assert(AllocationSize(8200) == 10240);

}  // namespace dynakv::storage
