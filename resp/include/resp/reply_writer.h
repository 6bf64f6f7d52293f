// Appends replies to a connection's output buffer in RESP2 or RESP3 (chosen per connection with
// HELLO). Commands describe replies by shape (map, set, null, double) and the writer picks the
// encoding, so no command has to know which protocol its client speaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::resp {

// Payloads an output references instead of holding (ReplyWriter::BulkShared): each chunk's bytes
// belong right after the first `at` bytes of the output buffer, and `keep` keeps them alive and
// unchanged until the chunk is dropped. The owner of the buffer sends the two interleaved (one
// writev) and drops the chunks once they are written.
struct SharedChunk {
  std::size_t at;
  std::string_view bytes;
  std::shared_ptr<const void> keep;
};
struct SharedChunks {
  std::vector<SharedChunk> list;
  std::size_t bytes = 0;  // of all chunks in `list`

  bool empty() const { return list.empty(); }
  void clear() {
    list.clear();
    bytes = 0;
  }
  // Drops the chunks that belong at or after `at` (the output is cut back to `at` bytes).
  void Truncate(std::size_t at) {
    while (!list.empty() && list.back().at >= at) {
      bytes -= list.back().bytes.size();
      list.pop_back();
    }
  }
};

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string* out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  std::string* buffer() { return out_; }

  // Output limit (the client's output buffer hard limit, less what it already has in flight).
  // Once the buffer holds more than `bytes`, every further reply is dropped instead of appended:
  // the client is over its limit and about to be closed, and building replies it will never get
  // would only take memory (Redis drops replies to a client it scheduled to close, too). The
  // check is one comparison per reply element, so a reply of many values stops growing within
  // one value of the limit. 0: no limit.
  void set_limit(std::size_t bytes) { limit_ = bytes; }
  bool over_limit() const { return limit_ != 0 && size() > limit_; }
  // The output's bytes: the buffer's and the shared chunks'.
  std::size_t size() const { return out_->size() + (shared_ != nullptr ? shared_->bytes : 0); }
  // Cuts the output back to `size` bytes of the buffer (a reply replaced or suppressed), with the
  // shared chunks that belong past it.
  void Truncate(std::size_t size) {
    out_->resize(size);
    if (shared_ != nullptr) shared_->Truncate(size);
  }
  // Where BulkShared may put references instead of copies; nullptr (the default): it copies. Set
  // only by an owner that sends the chunks (a client connection), never for replies that are
  // parsed or stored (scripts, transactions in other buffers).
  void set_shared(SharedChunks* chunks) { shared_ = chunks; }
  bool shares() const { return shared_ != nullptr; }
  // Bytes that may still be appended before the limit is passed (SIZE_MAX without a limit): a
  // command that gathers a reply before writing it can stop gathering early.
  std::size_t room() const;

  void Simple(std::string_view text);   // +text
  void Ok();                            // +OK
  // `message` starts with the error code, e.g. "ERR syntax error" or "WRONGTYPE ...". CR and LF
  // inside it are replaced by spaces, as Redis does, so an error can never break the framing.
  void Error(std::string_view message);
  void Integer(long long value);        // :n
  void Bulk(std::string_view data);     // $len\r\ndata\r\n
  // Writes the `$len\r\n` header and the trailing CRLF, and returns where the `len` payload bytes
  // go, so a value can be decompressed straight into the output buffer. The pointer is valid until
  // the buffer is next appended to. nullptr when the reply is dropped (over_limit()).
  char* BulkSlot(std::size_t len);
  // The same reply as Bulk(data), with `data` referenced (kept alive by `keep`) instead of copied
  // when shares(); copied otherwise.
  void BulkShared(std::string_view data, std::shared_ptr<const void> keep);
  void Null();                          // RESP2 $-1, RESP3 _
  void NullArray();                     // RESP2 *-1, RESP3 _
  void ArrayHeader(std::size_t count);  // *n
  void MapHeader(std::size_t pairs);    // RESP3 %n, RESP2 *2n
  void SetHeader(std::size_t count);    // RESP3 ~n, RESP2 *n
  // An out-of-band message (pub/sub): RESP3 >n, RESP2 *n (RESP2 has no push type).
  void PushHeader(std::size_t count);
  void Double(double value);            // RESP3 ,d  RESP2 bulk string
  void Bool(bool value);                // RESP3 #t/#f  RESP2 :1/:0
  // RESP3 big number ((digits), RESP2 bulk string; `digits` must hold no CR or LF.
  void BigNumber(std::string_view digits);
  // RESP3 verbatim string (=len\r\ntxt:...), RESP2 bulk string; INFO replies use it.
  void Verbatim(std::string_view data, std::string_view format = "txt");

 private:
  void AppendLength(char prefix, long long value);

  std::string* out_;
  SharedChunks* shared_ = nullptr;
  int protocol_;
  std::size_t limit_ = 0;
};

// Encodes a command as a RESP array of bulk strings, the form every client sends.
std::string EncodeCommand(const std::vector<std::string_view>& args);

}  // namespace dynakv::resp
