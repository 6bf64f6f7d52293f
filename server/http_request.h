// The little of HTTP/1.1 the metrics endpoint needs (metrics_server.h): a request's head
// (request line and headers, RFC 9112) parsed from bytes, and basic auth's base64. No bodies:
// the endpoint only answers GET and HEAD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynakv::server {

struct HttpRequest {
  std::string method;                                        // "GET"
  std::string target;                                        // "/metrics?x=1": as sent
  int minor_version = 1;                                     // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed

  // The first header named `name` (any case), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The target without its query string.
  std::string_view path() const;
  // Whether the connection stays open after the response: HTTP/1.1 unless "Connection: close",
  // HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const;
};

// A request head ends at the first empty line. kIncomplete: no empty line in `data` yet.
enum class HttpParse { kOk, kIncomplete, kBad };
// Parses the head at the start of `data`; on kOk *consumed is its length, CRLF CRLF included.
HttpParse ParseHttpRequest(std::string_view data, HttpRequest* request, std::size_t* consumed);

// Standard base64 (RFC 4648, with padding); false on anything else.
bool DecodeBase64(std::string_view in, std::string* out);

// Compares secrets in time independent of where they differ.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace dynakv::server
