// The RDB a Redis master sends after +FULLRESYNC (replication.c's readSyncBulkPayload), framed
// either as a bulk of known length, "$<len>\r\n<len bytes>" (disk-based sync), or in the
// diskless form "$EOF:<40-byte mark>\r\n<bytes><the same 40-byte mark>". Until the header the
// master may send lone "\n" bytes to keep the link alive while it prepares the RDB: they are
// skipped, as Redis's replica skips them.
//
// The RDB bytes go to an rdb::RdbReader as they arrive, piece by piece: nothing buffers the whole
// file. Whatever follows the payload (the start of the command stream) is kept for the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rdb/file_reader.h"

namespace dynakv::server {

class SyncPayload {
 public:
  enum class Status {
    kNeedMore,  // the payload is not complete yet
    kDone,      // the RDB was read whole, checksum included: TakeRest() has what followed it
    kFailed,    // error() says why
  };
  static constexpr std::size_t kEofMarkBytes = 40;  // CONFIG_RUN_ID_SIZE

  explicit SyncPayload(rdb::RdbReader& reader) : reader_(reader) {}

  Status Feed(std::string_view bytes);
  // Whether the "$..." header was read (the transfer proper has started).
  bool started() const { return state_ != State::kHeader; }
  // The payload's length for the "$<len>" form; -1 for the diskless form or before the header.
  long long total_bytes() const { return total_; }
  // Payload bytes received so far (header excluded).
  std::uint64_t received_bytes() const { return received_; }
  const std::string& error() const { return error_; }
  // The bytes after the payload; clears them.
  std::string TakeRest() { return std::move(rest_); }

 private:
  enum class State { kHeader, kSized, kEofForm, kEofMark, kDone, kFailed };
  Status Fail(std::string reason);
  Status FeedHeader(std::string_view* bytes);
  Status FeedSized(std::string_view bytes);
  Status FeedEofForm(std::string_view bytes);
  Status FeedMark(std::string_view bytes);

  rdb::RdbReader& reader_;
  State state_ = State::kHeader;
  std::string header_;  // the header line read so far
  long long total_ = -1;
  std::uint64_t received_ = 0;
  std::string mark_;    // the diskless form's end mark
  std::string tail_;    // bytes after the RDB's checksum, until the mark is complete
  std::string recent_;  // the last kEofMarkBytes bytes received
  std::string rest_;
  std::string error_;
};

}  // namespace dynakv::server
