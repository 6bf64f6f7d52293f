// Request framing as Redis 7.0 does it in processMultibulkBuffer / processInlineBuffer, with the
// same limits and error texts. Differences, all in the direction of strictness: a header line
// must end in "\r\n" (Redis skips whatever byte follows the '\r'), a bulk payload must be
// followed by "\r\n" (Redis skips two bytes unseen), and line limits apply to the line rather
// than to whatever happens to be buffered.

#include "resp/request_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

namespace dynakv::resp {

namespace {

// Redis's string2ll: decimal only, optional '-', no '+', no spaces, no leading zeros (so "-0" is
// rejected too), and the value must fit a long long. The strictness matters: it is what makes
// "*01\r\n" or "$ 3\r\n" a protocol error rather than a silently different request.
bool ParseLongLong(const char* s, std::size_t len, long long* value) {
  // 21 characters cannot hold a valid long long ("-9223372036854775808" is 20).
  if (len == 0 || len >= 21) return false;
  if (len == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++i == len) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  unsigned long long v = static_cast<unsigned long long>(s[i++] - '0');
  for (; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const unsigned digit = static_cast<unsigned>(s[i] - '0');
    if (v > ULLONG_MAX / 10) return false;
    v *= 10;
    if (v > ULLONG_MAX - digit) return false;
    v += digit;
  }
  if (negative) {
    if (v > static_cast<unsigned long long>(LLONG_MAX) + 1) return false;
    *value = static_cast<long long>(0ULL - v);  // modular, defined since C++20
  } else {
    if (v > static_cast<unsigned long long>(LLONG_MAX)) return false;
    *value = static_cast<long long>(v);
  }
  return true;
}

// Redis sizes argv from the announced count but never beyond this, so a `*2147483647` header
// costs nothing until the arguments actually arrive.
constexpr long long kMaxArgvPrealloc = 1024;
// Redis's limits for a connection that has not authenticated yet.
constexpr long long kUnauthMaxArgs = 10;
constexpr long long kUnauthMaxBulkLen = 16384;

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

ParseStatus RequestParser::Parse(std::string_view input, std::size_t* consumed,
                                 std::vector<std::string_view>* argv) {
  *consumed = 0;
  if (!error_.empty()) return ParseStatus::kError;
  // The caller must keep every byte it has shown us. If it did not, start the request over
  // rather than trust offsets that now point past the end.
  if (input.size() < search_pos_) Reset();
  if (input.empty()) return ParseStatus::kNeedMore;
  // A multibulk request in progress is continued from its saved state, not recognized again.
  if (args_expected_ >= 0 || input[0] == '*') return ParseMultibulk(input, consumed, argv);
  return ParseInline(input, consumed, argv);
}

RequestParser::LineStatus RequestParser::FindLineEnd(std::string_view input, std::size_t start,
                                                     char terminator, std::size_t* end) {
  const std::size_t available = input.size() - start;
  const std::size_t max_line = limits_.max_inline_len;
  // The terminator may follow at most max_line bytes of line.
  const std::size_t window_end = start + (available > max_line ? max_line + 1 : available);
  search_pos_ = std::max(search_pos_, start);
  if (search_pos_ < window_end) {
    const void* hit = std::memchr(input.data() + search_pos_, terminator, window_end - search_pos_);
    if (hit != nullptr) {
      *end = static_cast<std::size_t>(static_cast<const char*>(hit) - input.data());
      search_pos_ = *end;  // a caller still waiting for the "\n" after "\r" resumes here
      return LineStatus::kFound;
    }
    search_pos_ = window_end;
  }
  return available > max_line ? LineStatus::kTooLong : LineStatus::kIncomplete;
}

ParseStatus RequestParser::ParseInline(std::string_view input, std::size_t* consumed,
                                       std::vector<std::string_view>* argv) {
  std::size_t newline = 0;
  switch (FindLineEnd(input, 0, '\n', &newline)) {
    case LineStatus::kIncomplete:
      return ParseStatus::kNeedMore;
    case LineStatus::kTooLong:
      return Fail("Protocol error: too big inline request");
    case LineStatus::kFound:
      break;
  }
  std::size_t line_len = newline;
  if (line_len > 0 && input[line_len - 1] == '\r') --line_len;
  if (!SplitInlineArgs(input.substr(0, line_len), &inline_args_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  argv->clear();
  for (const std::string& arg : inline_args_) argv->emplace_back(arg);
  *consumed = newline + 1;
  Reset();
  return ParseStatus::kRequest;
}

ParseStatus RequestParser::ParseMultibulk(std::string_view input, std::size_t* consumed,
                                          std::vector<std::string_view>* argv) {
  const char* data = input.data();
  const std::size_t size = input.size();

  if (args_expected_ < 0) {
    std::size_t cr = 0;
    switch (FindLineEnd(input, 0, '\r', &cr)) {
      case LineStatus::kIncomplete:
        return ParseStatus::kNeedMore;
      case LineStatus::kTooLong:
        return Fail("Protocol error: too big mbulk count string");
      case LineStatus::kFound:
        break;
    }
    if (cr + 1 >= size) return ParseStatus::kNeedMore;
    long long count = 0;
    if (data[cr + 1] != '\n' || !ParseLongLong(data + 1, cr - 1, &count) ||
        count > limits_.max_multibulk_len) {
      return Fail("Protocol error: invalid multibulk length");
    }
    if (limits_.unauthenticated && count > kUnauthMaxArgs) {
      return Fail("Protocol error: unauthenticated multibulk length");
    }
    if (count <= 0) {  // `*0` and `*-1` carry no command; Redis skips them
      argv->clear();
      *consumed = cr + 2;
      Reset();
      return ParseStatus::kRequest;
    }
    args_expected_ = count;
    scan_pos_ = search_pos_ = cr + 2;
    const auto prealloc = static_cast<std::size_t>(std::min(count, kMaxArgvPrealloc));
    if (arg_spans_.capacity() < prealloc) arg_spans_.reserve(prealloc);
  }

  while (static_cast<long long>(arg_spans_.size()) < args_expected_) {
    if (bulk_len_ < 0) {
      std::size_t cr = 0;
      switch (FindLineEnd(input, scan_pos_, '\r', &cr)) {
        case LineStatus::kIncomplete:
          return ParseStatus::kNeedMore;
        case LineStatus::kTooLong:
          return Fail("Protocol error: too big bulk count string");
        case LineStatus::kFound:
          break;
      }
      if (cr + 1 >= size) return ParseStatus::kNeedMore;
      if (data[scan_pos_] != '$') {
        return Fail(std::string("Protocol error: expected '$', got '") + data[scan_pos_] + "'");
      }
      long long len = 0;
      if (data[cr + 1] != '\n' || !ParseLongLong(data + scan_pos_ + 1, cr - scan_pos_ - 1, &len) ||
          len < 0 || len > limits_.max_bulk_len) {
        return Fail("Protocol error: invalid bulk length");
      }
      if (limits_.unauthenticated && len > kUnauthMaxBulkLen) {
        return Fail("Protocol error: unauthenticated bulk length");
      }
      bulk_len_ = len;
      scan_pos_ = search_pos_ = cr + 2;
    }

    // Waiting for a payload costs O(1) per call: only the byte count is checked.
    const std::size_t available = size - scan_pos_;
    const auto len = static_cast<unsigned long long>(bulk_len_);
    if (available < 2 || available - 2 < len) return ParseStatus::kNeedMore;
    const std::size_t end = scan_pos_ + static_cast<std::size_t>(len);
    if (data[end] != '\r' || data[end + 1] != '\n') {
      return Fail("Protocol error: expected CRLF after bulk");
    }
    arg_spans_.emplace_back(scan_pos_, static_cast<std::size_t>(len));
    scan_pos_ = search_pos_ = end + 2;
    bulk_len_ = -1;
  }

  argv->clear();
  for (const auto& [offset, length] : arg_spans_) argv->emplace_back(data + offset, length);
  *consumed = scan_pos_;
  Reset();
  return ParseStatus::kRequest;
}

ParseStatus RequestParser::Fail(std::string message) {
  error_ = std::move(message);
  Reset();
  return ParseStatus::kError;
}

void RequestParser::Reset() {
  args_expected_ = -1;
  bulk_len_ = -1;
  scan_pos_ = 0;
  search_pos_ = 0;
  arg_spans_.clear();
}

}  // namespace dynakv::resp
