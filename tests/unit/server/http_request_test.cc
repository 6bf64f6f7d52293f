#include "http_request.h"

#include <doctest/doctest.h>

namespace dynakv::server {
namespace {

TEST_CASE("a request head parses into method, target, version and headers") {
  HttpRequest request;
  std::size_t consumed = 0;
  const std::string data =
      "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization:  Bearer t0k \r\n\r\nGET /next";
  REQUIRE(ParseHttpRequest(data, &request, &consumed) == HttpParse::kOk);
  CHECK(consumed == data.find("GET /next"));
  CHECK(request.method == "GET");
  CHECK(request.target == "/metrics?x=1");
  CHECK(request.path() == "/metrics");
  CHECK(request.minor_version == 1);
  REQUIRE(request.Header("authorization") != nullptr);
  CHECK(*request.Header("AUTHORIZATION") == "Bearer t0k");
  CHECK(request.Header("Cookie") == nullptr);
  CHECK(request.keep_alive());
}

TEST_CASE("keep-alive follows the version and the Connection header") {
  HttpRequest request;
  std::size_t consumed = 0;
  REQUIRE(ParseHttpRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &request, &consumed) ==
          HttpParse::kOk);
  CHECK_FALSE(request.keep_alive());
  REQUIRE(ParseHttpRequest("GET / HTTP/1.0\r\n\r\n", &request, &consumed) == HttpParse::kOk);
  CHECK_FALSE(request.keep_alive());
  REQUIRE(ParseHttpRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &request,
                           &consumed) == HttpParse::kOk);
  CHECK(request.keep_alive());
}

TEST_CASE("incomplete and malformed heads") {
  HttpRequest request;
  std::size_t consumed = 0;
  CHECK(ParseHttpRequest("GET /metrics HTTP/1.1\r\nHost: a\r\n", &request, &consumed) ==
        HttpParse::kIncomplete);
  CHECK(ParseHttpRequest("", &request, &consumed) == HttpParse::kIncomplete);
  for (const char* bad :
       {"GET /metrics\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n", "GET / / HTTP/1.1\r\n\r\n", "\x16\x03\x01\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(ParseHttpRequest(bad, &request, &consumed) == HttpParse::kBad);
  }
  // Empty lines before the request line are skipped (RFC 9112 2.2).
  CHECK(ParseHttpRequest("\r\nGET / HTTP/1.1\r\n\r\n", &request, &consumed) == HttpParse::kOk);
}

TEST_CASE("base64 as basic auth sends it") {
  std::string out;
  REQUIRE(DecodeBase64("ZGVmYXVsdDpzM2NyZXQ=", &out));
  CHECK(out == "default:s3cret");
  REQUIRE(DecodeBase64("OmFi", &out));
  CHECK(out == ":ab");
  REQUIRE(DecodeBase64("YQ==", &out));
  CHECK(out == "a");
  REQUIRE(DecodeBase64("", &out));
  CHECK(out.empty());
  for (const char* bad : {"YQ=", "Y===", "YQ==YQ==", "Y!==", "YQ=a"}) {
    CAPTURE(bad);
    CHECK_FALSE(DecodeBase64(bad, &out));
  }
}

TEST_CASE("secrets compare equal only when equal") {
  CHECK(SecretEquals("abc", "abc"));
  CHECK_FALSE(SecretEquals("abc", "abd"));
  CHECK_FALSE(SecretEquals("abc", "ab"));
  CHECK_FALSE(SecretEquals("", "a"));
  CHECK(SecretEquals("", ""));
}

}  // namespace
}  // namespace dynakv::server
