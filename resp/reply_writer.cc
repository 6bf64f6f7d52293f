// Reply encoding, byte-compatible with Redis 7.0's addReply* family (networking.c).

#include "resp/reply_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace dynakv::resp {

namespace {

constexpr std::string_view kCrlf = "\r\n";

// Formats `value` as Redis's addReplyDouble does ("%.17g", with inf/-inf spelled out), plus "nan"
// as RESP3 spells it, whatever sign bit the NaN carries. Returns the length written to `buf`,
// which must hold 32 bytes.
std::size_t FormatDouble(double value, char* buf) {
  std::string_view special;
  if (std::isnan(value)) {
    special = "nan";
  } else if (std::isinf(value)) {
    special = value > 0 ? "inf" : "-inf";
  }
  if (!special.empty()) {
    std::copy(special.begin(), special.end(), buf);
    return special.size();
  }
  // Every integer below 2^53 in magnitude has at most 16 digits, so "%.17g" prints it exactly,
  // without exponent: the integer formatter gives the same text without snprintf's cost. -0.0 is
  // left to snprintf, which keeps its sign.
  constexpr double kExactIntegerBound = 9007199254740992.0;  // 2^53
  if (value > -kExactIntegerBound && value < kExactIntegerBound &&
      value == static_cast<double>(static_cast<long long>(value)) &&
      !(value == 0 && std::signbit(value))) {
    return static_cast<std::size_t>(
        std::to_chars(buf, buf + 32, static_cast<long long>(value)).ptr - buf);
  }
  const int len = std::snprintf(buf, 32, "%.17g", value);
  return len > 0 ? static_cast<std::size_t>(len) : 0;
}

}  // namespace

std::size_t ReplyWriter::room() const {
  if (limit_ == 0) return SIZE_MAX;
  const std::size_t used = size();
  return used >= limit_ ? 0 : limit_ - used;
}

void ReplyWriter::AppendLength(char prefix, long long value) {
  // prefix + at most 20 characters ("-9223372036854775808") + CRLF
  char buf[24];
  buf[0] = prefix;
  char* end = std::to_chars(buf + 1, buf + 22, value).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out_->append(buf, static_cast<std::size_t>(end + 2 - buf));
}

void ReplyWriter::Simple(std::string_view text) {
  if (over_limit()) return;
  out_->push_back('+');
  out_->append(text);
  out_->append(kCrlf);
}

void ReplyWriter::Ok() {
  if (over_limit()) return;
  out_->append("+OK\r\n");
}

void ReplyWriter::Error(std::string_view message) {
  if (over_limit()) return;
  // Tolerate a caller that already wrote the '-' (Redis's addReplyError accepts both forms).
  if (!message.empty() && message[0] == '-') message.remove_prefix(1);
  out_->push_back('-');
  const std::size_t start = out_->size();
  out_->append(message);
  std::replace_if(
      out_->begin() + static_cast<std::ptrdiff_t>(start), out_->end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out_->append(kCrlf);
}

void ReplyWriter::Integer(long long value) {
  if (over_limit()) return;
  AppendLength(':', value);
}

void ReplyWriter::Bulk(std::string_view data) {
  if (over_limit()) return;
  AppendLength('$', static_cast<long long>(data.size()));
  out_->append(data);
  out_->append(kCrlf);
}

char* ReplyWriter::BulkSlot(std::size_t len) {
  if (over_limit()) return nullptr;
  AppendLength('$', static_cast<long long>(len));
  const std::size_t start = out_->size();
  out_->resize(start + len + 2);
  (*out_)[start + len] = '\r';
  (*out_)[start + len + 1] = '\n';
  return out_->data() + start;
}

void ReplyWriter::BulkShared(std::string_view data, std::shared_ptr<const void> keep) {
  if (shared_ == nullptr) {
    Bulk(data);
    return;
  }
  if (over_limit()) return;
  AppendLength('$', static_cast<long long>(data.size()));
  shared_->list.push_back(SharedChunk{out_->size(), data, std::move(keep)});
  shared_->bytes += data.size();
  out_->append(kCrlf);
}

void ReplyWriter::Null() {
  if (over_limit()) return;
  out_->append(protocol_ >= 3 ? "_\r\n" : "$-1\r\n");
}

void ReplyWriter::NullArray() {
  if (over_limit()) return;
  out_->append(protocol_ >= 3 ? "_\r\n" : "*-1\r\n");
}

void ReplyWriter::ArrayHeader(std::size_t count) {
  if (over_limit()) return;
  AppendLength('*', static_cast<long long>(count));
}

void ReplyWriter::MapHeader(std::size_t pairs) {
  if (over_limit()) return;
  if (protocol_ >= 3) {
    AppendLength('%', static_cast<long long>(pairs));
  } else {
    AppendLength('*', static_cast<long long>(pairs) * 2);
  }
}

void ReplyWriter::SetHeader(std::size_t count) {
  if (over_limit()) return;
  AppendLength(protocol_ >= 3 ? '~' : '*', static_cast<long long>(count));
}

void ReplyWriter::PushHeader(std::size_t count) {
  if (over_limit()) return;
  AppendLength(protocol_ >= 3 ? '>' : '*', static_cast<long long>(count));
}

void ReplyWriter::Double(double value) {
  if (over_limit()) return;
  char buf[32];
  const std::size_t len = FormatDouble(value, buf);
  if (protocol_ >= 3) {
    out_->push_back(',');
    out_->append(buf, len);
    out_->append(kCrlf);
  } else {
    Bulk(std::string_view(buf, len));
  }
}

void ReplyWriter::Bool(bool value) {
  if (over_limit()) return;
  if (protocol_ >= 3) {
    out_->append(value ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(value ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyWriter::BigNumber(std::string_view digits) {
  if (over_limit()) return;
  if (protocol_ < 3) {
    Bulk(digits);
    return;
  }
  out_->push_back('(');
  out_->append(digits);
  out_->append(kCrlf);
}

void ReplyWriter::Verbatim(std::string_view data, std::string_view format) {
  if (over_limit()) return;
  if (protocol_ < 3) {
    Bulk(data);
    return;
  }
  // The format is exactly three characters, space padded or truncated, as in addReplyVerbatim.
  char tag[4] = {' ', ' ', ' ', ':'};
  std::copy_n(format.begin(), std::min<std::size_t>(format.size(), 3), tag);
  AppendLength('=', static_cast<long long>(data.size() + 4));
  out_->append(tag, 4);
  out_->append(data);
  out_->append(kCrlf);
}

std::string EncodeCommand(const std::vector<std::string_view>& args) {
  std::size_t total = 16;
  for (std::string_view arg : args) total += arg.size() + 24;
  std::string out;
  out.reserve(total);
  ReplyWriter writer(&out);
  writer.ArrayHeader(args.size());
  for (std::string_view arg : args) writer.Bulk(arg);
  return out;
}

}  // namespace dynakv::resp
