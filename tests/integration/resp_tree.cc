#include "resp_tree.h"

#include <cstdlib>

#include "harness.h"

namespace dynakv::itest {
namespace {

bool ReadLine(std::string_view bytes, std::size_t* pos, std::string* line) {
  const std::size_t end = bytes.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  line->assign(bytes.substr(*pos, end - *pos));
  *pos = end + 2;
  return true;
}

}  // namespace

bool ParseResp(std::string_view bytes, std::size_t* pos, RespNode* out) {
  if (*pos >= bytes.size()) return false;
  out->type = bytes[*pos];
  out->children.clear();
  out->null = false;
  ++*pos;
  if (!ReadLine(bytes, pos, &out->value)) return false;
  switch (out->type) {
    case '$':
    case '=':
    case '!': {
      const long long length = std::atoll(out->value.c_str());
      if (length < 0) return out->null = true;
      if (bytes.size() < *pos + static_cast<std::size_t>(length) + 2) return false;
      out->value.assign(bytes.substr(*pos, static_cast<std::size_t>(length)));
      *pos += static_cast<std::size_t>(length) + 2;
      return true;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      long long count = std::atoll(out->value.c_str());
      if (count < 0) return out->null = true;
      if (out->type == '%' || out->type == '|') count *= 2;
      out->children.resize(static_cast<std::size_t>(count));
      for (RespNode& child : out->children) {
        if (!ParseResp(bytes, pos, &child)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

std::string RespNode::Encode() const {
  std::string out(1, type);
  switch (type) {
    case '$':
    case '=':
    case '!':
      if (null) return out + "-1\r\n";
      out += std::to_string(value.size()) + "\r\n" + value + "\r\n";
      return out;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (null) return out + "-1\r\n";
      const std::size_t count = type == '%' || type == '|' ? children.size() / 2 : children.size();
      out += std::to_string(count) + "\r\n";
      for (const RespNode& child : children) out += child.Encode();
      return out;
    }
    default:
      return out + value + "\r\n";
  }
}

RespNode* RespNode::Field(std::string_view key) {
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    if (children[i].value == key) return &children[i + 1];
  }
  return nullptr;
}

RespNode RespConnection::Call(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) {
  RespNode eof{'!', "EOF", false, {}};
  if (!socket_.Send(EncodeCommand(argv))) return eof;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::size_t pos = 0;
    RespNode node;
    if (ParseResp(buffer_, &pos, &node)) {
      buffer_.erase(0, pos);
      return node;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return eof;
    const std::string line = socket_.ReadUntil("\r\n", left);
    if (line.empty()) return eof;
    buffer_ += line;
    // Take whatever else has arrived before parsing again: parsing after every line made a
    // reply of many thousand lines (COMMAND DOCS) quadratic, past the timeout on a busy machine.
    for (int lines = 0; lines < 100000; ++lines) {
      const std::string more = socket_.ReadUntil("\r\n", std::chrono::milliseconds(1));
      if (more.empty()) break;
      buffer_ += more;
    }
  }
}

bool RespConnection::ClosedWithin(std::chrono::milliseconds timeout) {
  bool closed = false;
  socket_.ReadUntilClosed(timeout, &closed);
  return closed;
}

}  // namespace dynakv::itest
