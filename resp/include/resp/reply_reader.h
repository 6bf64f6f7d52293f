// Reads a complete RESP2 or RESP3 reply, as the server's own commands write it, one element at a
// time: the scripting engine walks a command's reply this way to turn it into Lua values. The
// input is trusted (it was produced by ReplyWriter), but a malformed or cut-short buffer still
// ends in kInvalid, never in a read past its end.
#pragma once

#include <cstddef>
#include <string_view>

namespace dynakv::resp {

enum class ReplyType {
  kStatus,     // +text
  kError,      // -text
  kInteger,    // :n
  kBulk,       // $len text
  kNullBulk,   // $-1 (RESP2 nil)
  kArray,      // *n, `count` elements follow
  kNullArray,  // *-1
  kMap,        // RESP3 %n: 2*count elements follow (key, value, ...)
  kSet,        // RESP3 ~n
  kNull,       // RESP3 _
  kBool,       // RESP3 #t / #f
  kDouble,     // RESP3 ,d
  kBigNumber,  // RESP3 (digits
  kVerbatim,   // RESP3 =len fmt:text; `format` is "txt", `text` the rest
  kAttribute,  // RESP3 |n: 2*count elements of attributes, before the reply they describe
  kPush,       // RESP3 >n
  kInvalid,
};

struct ReplyElement {
  ReplyType type = ReplyType::kInvalid;
  std::string_view text;    // status, error, bulk, big number, verbatim body, double's spelling
  std::string_view format;  // verbatim only
  long long integer = 0;    // integer; bool (0/1)
  long long count = 0;      // aggregate element (or pair, for map and attribute) count
  double number = 0;        // double
};

class ReplyReader {
 public:
  explicit ReplyReader(std::string_view input) : input_(input) {}
  // The next element; kInvalid at the end of the input or on a malformed one.
  ReplyElement Next();
  std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ >= input_.size(); }

 private:
  // The line from pos_ to its CRLF, consumed; false when there is none.
  bool ReadLine(std::string_view* line);

  std::string_view input_;
  std::size_t pos_ = 0;
};

}  // namespace dynakv::resp
