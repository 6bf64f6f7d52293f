// SyncPayload (server/sync_payload.h): the two framings of the RDB a Redis master sends after
// +FULLRESYNC, split at every possible place, with keep-alive newlines before the header and
// the command stream right after the payload; and what is refused.
#include "sync_payload.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "rdb/file_writer.h"
#include "rdb/value.h"

namespace dynakv::server {
namespace {

class CountingSink final : public rdb::RdbSink {
 public:
  bool OnKey(rdb::RdbKey& key, std::string*) override {
    keys.push_back(key.key + "=" + key.value.string);
    return true;
  }
  std::vector<std::string> keys;
};

std::string SmallRdb() {
  std::string out;
  rdb::RdbWriter writer([&](std::string_view bytes) {
    out.append(bytes);
    return true;
  });
  REQUIRE(writer.Begin("7.0.15", 1700000000, 1000));
  REQUIRE(writer.SelectDb(0, 3, 0));
  for (int i = 0; i < 3; ++i) {
    std::string value;
    rdb::EncodeString("value-" + std::to_string(i), {}, &value);
    REQUIRE(writer.Key("key-" + std::to_string(i), value, 0));
  }
  REQUIRE(writer.Finish());
  return out;
}

const std::string kMark(40, 'm');
const std::string kStream = "*1\r\n$4\r\nPING\r\n";

struct Outcome {
  SyncPayload::Status status;
  std::string rest;
  std::string error;
  std::vector<std::string> keys;
};

// Feeds `bytes` in pieces of `piece` bytes; stops at the first status other than kNeedMore.
Outcome FeedInPieces(const std::string& bytes, std::size_t piece) {
  CountingSink sink;
  rdb::RdbReader reader(types::TypeLimits{}, sink);
  SyncPayload payload(reader);
  Outcome outcome{SyncPayload::Status::kNeedMore, {}, {}, {}};
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    outcome.status = payload.Feed(std::string_view(bytes).substr(at, piece));
    if (outcome.status == SyncPayload::Status::kFailed) break;
  }
  outcome.rest = payload.TakeRest();
  outcome.error = payload.error();
  outcome.keys = sink.keys;
  return outcome;
}

TEST_CASE("a sized payload, in pieces of every size, ends where its length says") {
  const std::string rdb = SmallRdb();
  const std::string bytes = "\n\n$" + std::to_string(rdb.size()) + "\r\n" + rdb + kStream;
  for (std::size_t piece = 1; piece <= bytes.size(); ++piece) {
    CAPTURE(piece);
    const Outcome o = FeedInPieces(bytes, piece);
    REQUIRE(o.status == SyncPayload::Status::kDone);
    CHECK(o.rest == kStream);
    CHECK(o.keys == std::vector<std::string>{"key-0=value-0", "key-1=value-1", "key-2=value-2"});
  }
}

TEST_CASE("a diskless payload ends after its EOF mark, in pieces of every size") {
  const std::string rdb = SmallRdb();
  const std::string bytes = "\n$EOF:" + kMark + "\r\n" + rdb + kMark + kStream;
  for (std::size_t piece = 1; piece <= bytes.size(); ++piece) {
    CAPTURE(piece);
    const Outcome o = FeedInPieces(bytes, piece);
    REQUIRE(o.status == SyncPayload::Status::kDone);
    CHECK(o.rest == kStream);
    CHECK(o.keys.size() == 3);
  }
  // Nothing after the mark: the payload is done all the same (the reader does not wait for
  // more bytes once the mark has come).
  const Outcome o = FeedInPieces("$EOF:" + kMark + "\r\n" + rdb + kMark, 1000000);
  CHECK(o.status == SyncPayload::Status::kDone);
  CHECK(o.rest.empty());
}

TEST_CASE("refused: an error instead of the payload, a wrong mark, a bad header, a bad checksum") {
  const std::string rdb = SmallRdb();
  Outcome o = FeedInPieces("-ERR something went wrong\r\n", 5);
  CHECK(o.status == SyncPayload::Status::kFailed);
  CHECK(o.error == "the master aborted replication with an error: ERR something went wrong");
  o = FeedInPieces("$EOF:" + kMark + "\r\n" + rdb + std::string(40, 'x'), 1000000);
  CHECK(o.status == SyncPayload::Status::kFailed);
  CHECK(o.error.find("EOF mark") != std::string::npos);
  o = FeedInPieces("$EOF:short\r\n", 3);
  CHECK(o.status == SyncPayload::Status::kFailed);
  o = FeedInPieces("+OK\r\n", 3);
  CHECK(o.status == SyncPayload::Status::kFailed);
  o = FeedInPieces("$abc\r\n", 3);
  CHECK(o.status == SyncPayload::Status::kFailed);
  std::string corrupt = rdb;
  corrupt.back() = static_cast<char>(corrupt.back() ^ 1);  // the checksum's last byte
  o = FeedInPieces("$" + std::to_string(corrupt.size()) + "\r\n" + corrupt, 10);
  CHECK(o.status == SyncPayload::Status::kFailed);
  CHECK(o.error.find("corrupt") != std::string::npos);
  // A diskless payload whose RDB is cut short: refused once the mark comes, in any pieces.
  for (std::size_t piece : {1, 7, 100, 1000000}) {
    o = FeedInPieces("$EOF:" + kMark + "\r\n" + rdb.substr(0, rdb.size() - 5) + kMark, piece);
    CAPTURE(piece);
    CHECK(o.status == SyncPayload::Status::kFailed);
    // The mark's bytes read as the RDB's next item: either corrupt, or still incomplete.
    CHECK((o.error.find("before its EOF and checksum") != std::string::npos ||
           o.error.find("corrupt") != std::string::npos));
  }
  // A sized payload shorter than the RDB it holds: the RDB is incomplete.
  const std::string cut = rdb.substr(0, rdb.size() - 5);
  o = FeedInPieces("$" + std::to_string(cut.size()) + "\r\n" + cut + kStream, 10);
  CHECK(o.status == SyncPayload::Status::kFailed);
}

}  // namespace
}  // namespace dynakv::server
