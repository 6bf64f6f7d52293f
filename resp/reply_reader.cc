// RESP reply reading for the scripting engine (redis.call's reply).

#include "resp/reply_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace dynakv::resp {
namespace {

bool ParseInteger(std::string_view text, long long* value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

double ParseDouble(std::string_view text) {
  if (text == "inf") return HUGE_VAL;
  if (text == "-inf") return -HUGE_VAL;
  const std::string copy(text);  // strtod needs the terminator
  return std::strtod(copy.c_str(), nullptr);
}

}  // namespace

bool ReplyReader::ReadLine(std::string_view* line) {
  const std::size_t end = input_.find("\r\n", pos_);
  if (end == std::string_view::npos) return false;
  *line = input_.substr(pos_, end - pos_);
  pos_ = end + 2;
  return true;
}

ReplyElement ReplyReader::Next() {
  ReplyElement element;
  std::string_view line;
  if (at_end() || !ReadLine(&line) || line.empty()) return element;
  const char prefix = line[0];
  const std::string_view rest = line.substr(1);
  // The length-prefixed string types: $ (bulk) and = (verbatim).
  auto read_payload = [&](long long len, std::string_view* payload) {
    if (len < 0 || input_.size() - pos_ < static_cast<std::size_t>(len) + 2) return false;
    *payload = input_.substr(pos_, static_cast<std::size_t>(len));
    if (input_.substr(pos_ + static_cast<std::size_t>(len), 2) != "\r\n") return false;
    pos_ += static_cast<std::size_t>(len) + 2;
    return true;
  };
  auto aggregate = [&](ReplyType type) {
    if (!ParseInteger(rest, &element.count) || element.count < 0) return;
    element.type = type;
  };
  switch (prefix) {
    case '+':
      element.type = ReplyType::kStatus;
      element.text = rest;
      break;
    case '-':
      element.type = ReplyType::kError;
      element.text = rest;
      break;
    case ':':
      if (ParseInteger(rest, &element.integer)) element.type = ReplyType::kInteger;
      break;
    case '$': {
      long long len = 0;
      if (!ParseInteger(rest, &len)) break;
      if (len == -1) {
        element.type = ReplyType::kNullBulk;
      } else if (read_payload(len, &element.text)) {
        element.type = ReplyType::kBulk;
      }
      break;
    }
    case '*':
      if (rest == "-1") {
        element.type = ReplyType::kNullArray;
      } else {
        aggregate(ReplyType::kArray);
      }
      break;
    case '%':
      aggregate(ReplyType::kMap);
      break;
    case '~':
      aggregate(ReplyType::kSet);
      break;
    case '|':
      aggregate(ReplyType::kAttribute);
      break;
    case '>':
      aggregate(ReplyType::kPush);
      break;
    case '_':
      if (rest.empty()) element.type = ReplyType::kNull;
      break;
    case '#':
      if (rest == "t" || rest == "f") {
        element.type = ReplyType::kBool;
        element.integer = rest == "t";
      }
      break;
    case ',':
      element.type = ReplyType::kDouble;
      element.text = rest;
      element.number = ParseDouble(rest);
      break;
    case '(':
      element.type = ReplyType::kBigNumber;
      element.text = rest;
      break;
    case '=': {
      long long len = 0;
      std::string_view payload;
      if (!ParseInteger(rest, &len) || !read_payload(len, &payload) || payload.size() < 4 ||
          payload[3] != ':') {
        break;
      }
      element.type = ReplyType::kVerbatim;
      element.format = payload.substr(0, 3);
      element.text = payload.substr(4);
      break;
    }
    default:
      break;
  }
  return element;
}

}  // namespace dynakv::resp
