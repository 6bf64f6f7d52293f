// Incremental parser for client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and
// inline commands (`GET k\r\n`), as Redis accepts them. Requests may be pipelined and split
// across any number of reads; the parser keeps its position so a large request arriving in many
// pieces is scanned once, not once per read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
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
  //  - kRequest: `*argv` holds the arguments and `*consumed` is the number of bytes the request
  //    took. Multibulk arguments are views into `input` (valid while `input` is). Inline arguments
  //    may have been unquoted and unescaped, so they view storage owned by the parser instead,
  //    valid until the next Parse call. An empty `*argv` means a blank inline line or `*0`/`*-1`,
  //    which Redis silently skips.
  //  - kNeedMore: no complete request yet; `*consumed` is 0.
  //  - kError: malformed or over a limit; error() holds the reply text ("Protocol error: ...").
  //    Redis replies `-ERR <error()>` and closes the connection; further calls return kError.
  // A line (inline request, `*N` or `$N` header) may be at most limits().max_inline_len bytes
  // before its terminator. Redis checks that bound only against what one read happened to bring;
  // checking the line itself keeps the outcome independent of how the input is split.
  ParseStatus Parse(std::string_view input, std::size_t* consumed,
                    std::vector<std::string_view>* argv);

  const std::string& error() const { return error_; }
  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  const ParserLimits& limits() const { return limits_; }

 private:
  enum class LineStatus { kFound, kIncomplete, kTooLong };

  ParseStatus ParseInline(std::string_view input, std::size_t* consumed,
                          std::vector<std::string_view>* argv);
  ParseStatus ParseMultibulk(std::string_view input, std::size_t* consumed,
                             std::vector<std::string_view>* argv);
  // Finds `terminator` in the line starting at `start`, resuming at search_pos_ so that a line
  // arriving byte by byte is scanned once.
  LineStatus FindLineEnd(std::string_view input, std::size_t start, char terminator,
                         std::size_t* end);
  ParseStatus Fail(std::string message);
  void Reset();

  ParserLimits limits_;
  std::string error_;
  // State of a multibulk request in progress; offsets are relative to the request's first byte so
  // they survive the caller moving its buffer.
  long long args_expected_ = -1;  // -1: header `*N` not parsed yet
  long long bulk_len_ = -1;       // -1: next `$N` header not parsed yet
  std::size_t scan_pos_ = 0;      // where parsing resumes
  std::size_t search_pos_ = 0;    // the current line holds no terminator before this offset
  std::vector<std::pair<std::size_t, std::size_t>> arg_spans_;  // (offset, length)
  // Unescaped inline arguments; reused across requests so their capacity is too.
  std::vector<std::string> inline_args_;
};

// Splits an inline command line like Redis's sdssplitargs: spaces separate arguments, "..." takes
// C-style escapes (\n, \xHH, ...), '...' takes \' only. Returns false on unbalanced quotes or a
// closing quote glued to the next character. `*args` is overwritten; its existing strings are
// reused so a steady stream of inline requests does not allocate. As in Redis, which works on C
// strings, a NUL byte ends the line.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args);

}  // namespace dynakv::resp
