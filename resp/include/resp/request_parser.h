// Incremental parser for client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and
// inline commands (`GET k\r\n`), as Redis accepts them. Requests may be pipelined and split
// across any number of reads; the parser keeps its position so a large request arriving in many
// pieces is scanned once, not once per read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::resp {

// Mirrors Redis: proto-max-bulk-len (512 MB), the multibulk count bound (INT_MAX unless configured
// lower) and PROTO_INLINE_MAX_SIZE (64 KB, also the bound on a `*`/`$` header line).
struct ParserLimits {
  long long max_bulk_len = 512LL * 1024 * 1024;
  long long max_multibulk_len = 2147483647LL;
  std::size_t max_inline_len = 64 * 1024;
  // Before AUTH succeeds Redis only accepts tiny requests (<= 10 args, <= 16 KB bulks) so an
  // unauthenticated peer cannot make the server buffer much.
  bool unauthenticated = false;
};

enum class ParseStatus { kNeedMore, kRequest, kError };

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});

  // `input` starts at the first byte not yet consumed by a returned request. Between calls the
  // caller may append to it or move it, but must keep the bytes already passed in.
  //  - kRequest: `*argv` holds the arguments as views into `input` (valid while `input` is), and
  //    `*consumed` is the number of bytes the request took. An empty `*argv` means a blank inline
  //    line, which Redis silently skips.
  //  - kNeedMore: no complete request yet; `*consumed` is 0.
  //  - kError: malformed or over a limit; error() holds the reply text ("Protocol error: ...").
  //    Redis replies with it and closes the connection; the parser must not be used again.
  ParseStatus Parse(std::string_view input, std::size_t* consumed,
                    std::vector<std::string_view>* argv);

  const std::string& error() const { return error_; }
  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  const ParserLimits& limits() const { return limits_; }

 private:
  ParseStatus ParseInline(std::string_view input, std::size_t* consumed,
                          std::vector<std::string_view>* argv);
  ParseStatus ParseMultibulk(std::string_view input, std::size_t* consumed,
                             std::vector<std::string_view>* argv);
  ParseStatus Fail(std::string message);
  void Reset();

  ParserLimits limits_;
  std::string error_;
  // State of a multibulk request in progress; offsets are relative to the request's first byte so
  // they survive the caller moving its buffer.
  long long args_expected_ = -1;  // -1: header `*N` not parsed yet
  long long bulk_len_ = -1;       // -1: next `$N` header not parsed yet
  std::size_t scan_pos_ = 0;      // where parsing resumes
  std::vector<std::pair<std::size_t, std::size_t>> arg_spans_;  // (offset, length)
};

// Splits an inline command line like Redis's sdssplitargs: spaces separate arguments, "..." takes
// C-style escapes (\n, \xHH, ...), '...' takes \' only. Returns false on unbalanced quotes.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args);

}  // namespace dynakv::resp
