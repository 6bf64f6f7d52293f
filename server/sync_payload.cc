#include "sync_payload.h"

#include "number_parse.h"

namespace dynakv::server {
namespace {
constexpr std::size_t kMaxHeaderBytes = 1024;  // Redis's PROTO_IOBUF_LEN-bound line
}  // namespace

SyncPayload::Status SyncPayload::Fail(std::string reason) {
  state_ = State::kFailed;
  error_ = std::move(reason);
  return Status::kFailed;
}

SyncPayload::Status SyncPayload::Feed(std::string_view bytes) {
  if (state_ == State::kHeader) {
    const Status status = FeedHeader(&bytes);
    if (status != Status::kNeedMore || state_ == State::kHeader) return status;
  }
  switch (state_) {
    case State::kSized:
      return FeedSized(bytes);
    case State::kEofForm:
      return FeedEofForm(bytes);
    case State::kEofMark:
      return FeedMark(bytes);
    case State::kDone:
      rest_.append(bytes);
      return Status::kDone;
    case State::kFailed:
      return Status::kFailed;
    case State::kHeader:
      break;
  }
  return Status::kNeedMore;
}

SyncPayload::Status SyncPayload::FeedHeader(std::string_view* bytes) {
  while (!bytes->empty()) {
    const char c = bytes->front();
    bytes->remove_prefix(1);
    if (c != '\n') {
      header_.push_back(c);
      if (header_.size() > kMaxHeaderBytes) return Fail("the master sent an over-long header");
      continue;
    }
    if (header_.empty()) continue;  // a keep-alive newline while the master prepares the RDB
    if (header_.back() == '\r') header_.pop_back();
    if (header_.empty()) continue;
    if (header_[0] == '-')
      return Fail("the master aborted replication with an error: " + header_.substr(1));
    if (header_[0] != '$')
      return Fail("bad protocol from the master, the first byte is not '$': " + header_);
    const std::string_view body = std::string_view(header_).substr(1);
    if (body.starts_with("EOF:")) {
      mark_ = body.substr(4);
      if (mark_.size() != kEofMarkBytes)
        return Fail("bad EOF mark in the master's header: " + header_);
      state_ = State::kEofForm;
      return Status::kNeedMore;
    }
    long long len = 0;
    if (!ParseLongLong(body, &len) || len < 0)
      return Fail("bad payload length from the master: " + header_);
    total_ = len;
    state_ = State::kSized;
    if (len == 0) return FeedSized({});
    return Status::kNeedMore;
  }
  return Status::kNeedMore;
}

SyncPayload::Status SyncPayload::FeedSized(std::string_view bytes) {
  const std::uint64_t left = static_cast<std::uint64_t>(total_) - received_;
  const std::string_view mine =
      bytes.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(left, bytes.size())));
  received_ += mine.size();
  if (!mine.empty() && !reader_.Feed(mine)) {
    return Fail("the RDB from the master is corrupt at offset " +
                std::to_string(reader_.error().offset) + ": " + reader_.error().reason);
  }
  if (received_ < static_cast<std::uint64_t>(total_)) return Status::kNeedMore;
  if (!reader_.Finish()) {
    return Fail("the RDB from the master is incomplete or corrupt at offset " +
                std::to_string(reader_.error().offset) + ": " + reader_.error().reason);
  }
  (void)reader_.TakeBytesAfterEof();  // within the bulk's length: not part of the stream
  state_ = State::kDone;
  rest_.append(bytes.substr(mine.size()));
  return Status::kDone;
}

SyncPayload::Status SyncPayload::FeedEofForm(std::string_view bytes) {
  received_ += bytes.size();
  if (!bytes.empty() && !reader_.Feed(bytes)) {
    return Fail("the RDB from the master is corrupt at offset " +
                std::to_string(reader_.error().offset) + ": " + reader_.error().reason);
  }
  // The reader waits for more bytes before it retries an incomplete item, which a stream whose
  // last bytes have come may never send: once the mark has come (the command stream may follow
  // it in the same read), the RDB may be whole.
  recent_.append(bytes);
  const bool mark_seen = recent_.find(mark_) != std::string::npos;
  if (recent_.size() >= kEofMarkBytes) recent_.erase(0, recent_.size() - (kEofMarkBytes - 1));
  if (!reader_.done() && mark_seen) {
    // A master sends nothing after the mark until the replica acknowledges the RDB (Redis's
    // replica, too, takes the mark as the end): an RDB still incomplete here is corrupt, and
    // waiting would only buffer what never completes it.
    if (!reader_.ParseBuffered()) {
      return Fail("the RDB from the master is corrupt at offset " +
                  std::to_string(reader_.error().offset) + ": " + reader_.error().reason);
    }
    if (!reader_.done()) {
      return Fail("the diskless RDB from the master ended (its EOF mark came) at offset " +
                  std::to_string(reader_.bytes_read()) + " before its EOF and checksum");
    }
  }
  if (!reader_.done()) return Status::kNeedMore;
  state_ = State::kEofMark;
  const std::string after = reader_.TakeBytesAfterEof();
  return FeedMark(after);
}

SyncPayload::Status SyncPayload::FeedMark(std::string_view bytes) {
  tail_.append(bytes);
  if (tail_.size() < kEofMarkBytes) return Status::kNeedMore;
  if (std::string_view(tail_).substr(0, kEofMarkBytes) != mark_) {
    return Fail("the diskless RDB from the master does not end with its EOF mark");
  }
  state_ = State::kDone;
  rest_.append(std::string_view(tail_).substr(kEofMarkBytes));
  tail_.clear();
  return Status::kDone;
}

}  // namespace dynakv::server
