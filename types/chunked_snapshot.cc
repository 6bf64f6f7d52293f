#include "chunked_snapshot.h"

#include <utility>

namespace dynakv::types {

ChunkedSnapshot::ChunkedSnapshot(std::size_t chunks)
    : chunk_count_(chunks), chunks_(std::make_unique<Chunk[]>(chunks)) {}

void ChunkedSnapshot::Claim(std::size_t c) {
  Chunk& chunk = chunks_[c];
  int expected = kPending;
  if (chunk.state.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) {
    SerializeChunk(c, &chunk.bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      chunk.state.store(kDone, std::memory_order_release);
    }
    done_.notify_all();
    return;
  }
  if (expected == kDone) return;
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&chunk] { return chunk.state.load(std::memory_order_acquire) == kDone; });
}

void ChunkedSnapshot::SettleAll() {
  for (std::size_t c = 0; c < chunk_count_; ++c) Claim(c);
}

void ChunkedSnapshot::Serialize(std::string* out) {
  std::size_t total = 0;
  for (std::size_t c = 0; c < chunk_count_; ++c) {
    Claim(c);
    total += chunks_[c].bytes.size();
  }
  out->reserve(out->size() + total);
  for (std::size_t c = 0; c < chunk_count_; ++c) {
    out->append(chunks_[c].bytes);
    std::string().swap(chunks_[c].bytes);
  }
}

namespace {

class HeadedSnapshot final : public storage::ObjectSnapshot {
 public:
  HeadedSnapshot(std::string header, std::unique_ptr<ChunkedSnapshot> body)
      : header_(std::move(header)), body_(std::move(body)) {}
  void Serialize(std::string* out) override {
    out->append(header_);
    body_->Serialize(out);
  }

 private:
  const std::string header_;
  const std::unique_ptr<ChunkedSnapshot> body_;
};

}  // namespace

std::unique_ptr<storage::ObjectSnapshot> WithHeader(std::string header,
                                                    std::unique_ptr<ChunkedSnapshot> body) {
  return std::make_unique<HeadedSnapshot>(std::move(header), std::move(body));
}

}  // namespace dynakv::types
