// A checkpoint's serialization of one large collection, cut into chunks that two threads share:
// the checkpoint's background thread serializes them in order (Serialize) while the owner thread
// keeps writing, and before a write changes the part of the collection a chunk covers, the owner
// settles that chunk (SettleChunk): serializes it as it still is, or waits while the other thread
// does. So a write waits
// for one small chunk at most, never for the whole collection, and the result is the collection as
// it was when the snapshot started (storage/object.h).
//
// Whichever thread claims a chunk first (an atomic exchange) serializes it; the other waits for
// it only when it needs it. How a collection is cut and what a chunk holds is the subclass's:
// SerializeChunk(c) may run on either thread and must read only what the owner does not change
// before it settles chunk c.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/object.h"

namespace dynakv::types {

class ChunkedSnapshot {
 public:
  explicit ChunkedSnapshot(std::size_t chunks);
  virtual ~ChunkedSnapshot() = default;
  ChunkedSnapshot(const ChunkedSnapshot&) = delete;
  ChunkedSnapshot& operator=(const ChunkedSnapshot&) = delete;

  std::size_t chunk_count() const { return chunk_count_; }
  // Appends every chunk in order (serialized here unless the owner did): the other thread, once.
  void Serialize(std::string* out);
  // The owner: returns once chunk `c` (< chunk_count()) is serialized, here if the other thread
  // has not begun it.
  void SettleChunk(std::size_t c) {
    if (chunks_[c].state.load(std::memory_order_acquire) != kDone) Claim(c);
  }
  // Every chunk (the owner, before a change that touches them all).
  void SettleAll();

 protected:
  // Appends chunk `c`'s part of the serialized form.
  virtual void SerializeChunk(std::size_t c, std::string* out) const = 0;

 private:
  enum : int { kPending, kClaimed, kDone };
  struct Chunk {
    std::atomic<int> state{kPending};
    std::string bytes;
  };

  // Serializes chunk `c` unless another thread did or does; returns once it is done.
  void Claim(std::size_t c);

  const std::size_t chunk_count_;
  std::unique_ptr<Chunk[]> chunks_;
  std::mutex mu_;
  std::condition_variable done_;
};

// The storage::ObjectSnapshot of a collection: `header` (its serialized form's type, flags and
// count, as they were at the start), then the chunks in order.
std::unique_ptr<storage::ObjectSnapshot> WithHeader(std::string header,
                                                    std::unique_ptr<ChunkedSnapshot> body);

}  // namespace dynakv::types
