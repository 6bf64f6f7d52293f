// A blocking TLS client for the integration tests: OpenSSL for the transport and hiredis's
// redisReader for the replies (Debian's hiredis 0.14 has no SSL API). Every read and write is
// bounded by the timeout, so a hung server fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reply.h"

struct redisReader;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace dynakv::itest {

struct TlsClientOptions {
  std::string ca_file;    // the server's certificate must chain to it
  std::string cert_file;  // presented to the server when set
  std::string key_file;
};

class TlsClient {
 public:
  TlsClient(int port, const TlsClientOptions& options,
            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The handshake completed (from the client's side: with TLS 1.3 a server that refuses the
  // client's certificate says so only at the first read).
  bool connected() const { return ssl_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }

  bool Send(std::string_view bytes);
  // Queues the RESP encoding of `argv` (sent by Flush or the next Command).
  void Append(const std::vector<std::string>& argv);
  bool Flush();
  // Reads `count` replies; an I/O error or EOF gives kIoError replies for the rest.
  std::vector<Reply> ReadReplies(std::size_t count);
  Reply Command(const std::vector<std::string>& argv);

 private:
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string error_;
  std::string pending_;
};

}  // namespace dynakv::itest
