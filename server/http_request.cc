#include "http_request.h"

#include "ascii.h"

namespace dynakv::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters: what method and header names are made of.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127) return false;
    if (std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

std::string_view HttpRequest::path() const {
  std::string_view path = target;
  return path.substr(0, path.find('?'));
}

bool HttpRequest::keep_alive() const {
  const std::string* connection = Header("Connection");
  if (connection != nullptr && EqualsIgnoreCase(Trim(*connection), "close")) return false;
  if (minor_version >= 1) return true;
  return connection != nullptr && EqualsIgnoreCase(Trim(*connection), "keep-alive");
}

HttpParse ParseHttpRequest(std::string_view data, HttpRequest* request, std::size_t* consumed) {
  // RFC 9112 2.2: a server should ignore empty lines before the request line.
  std::size_t start = 0;
  while (data.substr(start, 2) == "\r\n") start += 2;
  const std::size_t end = data.find("\r\n\r\n", start);
  if (end == std::string_view::npos) return HttpParse::kIncomplete;
  std::string_view head = data.substr(start, end + 2 - start);  // each line ends with CRLF
  *consumed = end + 4;
  *request = HttpRequest{};

  const std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return HttpParse::kBad;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty() || target.find(' ') != std::string_view::npos) {
    return HttpParse::kBad;
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9') {
    return HttpParse::kBad;
  }
  request->method.assign(method);
  request->target.assign(target);
  request->minor_version = version[7] - '0';

  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view field = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const std::size_t colon = field.find(':');
    // No obsolete line folding, no space before the colon (RFC 9112 5.1: reject both).
    if (colon == std::string_view::npos || !IsToken(field.substr(0, colon))) {
      return HttpParse::kBad;
    }
    request->headers.emplace_back(std::string(field.substr(0, colon)),
                                  std::string(Trim(field.substr(colon + 1))));
  }
  return HttpParse::kOk;
}

bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[j] = value(c);
      if (v[j] < 0) return false;
    }
    const unsigned bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>(bits >> 16));
    if (pad < 2) out->push_back(static_cast<char>((bits >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(bits & 0xff));
  }
  return true;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace dynakv::server
