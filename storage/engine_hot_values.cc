// The hot-value rule: which compressed values are kept decompressed in memory.
//
// A large compressed value costs an LZ4 decompression on every read (16 KB of JSON-like text:
// ~40% of a GET's server time at -P 16). For a value read often, keeping the raw form instead
// trades memory for that work. The rule, for a shared (large, storage/shared_value.h) compressed
// entry, on each read:
//  - the read is counted in its SharedValue, the count halved for every second since the last
//    read: a value read r times a second settles near 2r, a burst of n reads counts n;
//  - at Options::hot_value_reads the value is hot. It is kept decompressed when its raw form is at
//    most kMaxHotRatio times its compressed size (past that the memory cost outgrows the work
//    saved) and, under a max_memory, the table with the raw form still fits without evicting
//    anything: the raw bytes count in memtable_bytes (used_memory) as any value's do, so the
//    eviction policy sees the truth and may later evict or offload the value like any other;
//  - not while a checkpoint reads the entry (frozen): its bytes must stay put. Its next read after
//    the checkpoint counts again.
// The decompressed form replaces the compressed one (the entry does not keep both); it lasts
// until the key is rewritten, evicted or offloaded. A checkpoint writes it to its segment as is.
#include <cstdint>
#include <memory>

#include "engine_impl.h"
#include "value_codec.h"

namespace dynakv::storage {

namespace {
constexpr std::uint32_t kMaxHotRatio = 8;
}  // namespace

void EngineImpl::KeepHotDecompressed(Memtable::Entry* e) {
  const std::uint32_t threshold = options_.hot_value_reads;
  if (threshold == 0 || e->has(Memtable::kFrozen)) return;
  SharedValue& stored = *e->shared_value();
  const auto now = static_cast<std::uint16_t>(memtable_.access_clock());
  const auto elapsed = static_cast<std::uint16_t>(now - stored.read_clock);
  stored.reads = elapsed >= 16 ? 0 : static_cast<std::uint16_t>(stored.reads >> elapsed);
  stored.read_clock = now;
  if (stored.reads < UINT16_MAX) ++stored.reads;
  if (stored.reads < threshold) return;
  const std::uint32_t raw_len = stored.raw_len;
  if (raw_len > static_cast<std::uint64_t>(stored.size()) * kMaxHotRatio) return;
  std::shared_ptr<SharedValue> raw = SharedValue::Make(raw_len);
  const std::size_t growth =
      Memtable::SharedBytes(raw->size()) - Memtable::SharedBytes(stored.size());
  if (options_.max_memory != 0 && CountedBytes() + growth > options_.max_memory) return;
  // Stored bytes came from our compressor or passed a checksum; should they not decompress
  // (memory corruption), the value is left as it is and its reads report it.
  if (!DecompressValue(stored.view(), raw->data(), raw_len)) return;
  raw->reads = stored.reads;
  raw->read_clock = now;
  memtable_.ReplaceShared(e, std::move(raw), /*compressed=*/false);
  ++stats_.hot_values_decompressed;
}

}  // namespace dynakv::storage
