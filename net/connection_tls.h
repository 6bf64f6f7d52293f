// Connection's private parts shared by its plain (connection.cc) and TLS (connection_tls.cc)
// transports.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "net/connection.h"
#include "net/tls_context.h"
#include "net/uv_handle.h"

namespace dynakv::net {

// One uv_write in flight. A plain write sends the owner's buffers (which stay put until
// OnWriteDone); a TLS write sends `cipher`, which it owns. If the connection is destroyed while
// the write is in libuv, the request is orphaned (owner == nullptr) and frees itself.
struct Connection::WriteRequest {
  uv_write_t request{};
  Connection* owner = nullptr;
  std::string cipher;
  std::size_t cipher_sent = 0;  // bytes of `cipher` written before the uv_write
};

struct Connection::Tls {
  // Socket reads land here before OpenSSL sees them: one full record and then some.
  static constexpr std::size_t kReadBuffer = 32 * 1024;

  explicit Tls(std::shared_ptr<TlsContext> context) : context(std::move(context)) {}
  ~Tls() {
    if (ssl != nullptr) SSL_free(ssl);  // frees both BIOs
  }
  Tls(const Tls&) = delete;
  Tls& operator=(const Tls&) = delete;

  std::shared_ptr<TlsContext> context;  // kept alive for the SSL, past a reload
  SSL* ssl = nullptr;
  BIO* network_in = nullptr;   // ciphertext read from the socket, for OpenSSL
  BIO* network_out = nullptr;  // ciphertext OpenSSL wrote, for the socket
  std::string in = std::string(kReadBuffer, '\0');
  std::string out;            // ciphertext waiting for the socket (not yet in a uv_write)
  std::string pending_plain;  // written by the owner before the handshake finished
  bool peer_eof = false;      // the socket read EOF
  bool owner_eof_sent = false;
  UvHandle<uv_idle_t> drain;  // after ReadStart: delivers what was decrypted meanwhile
};

}  // namespace dynakv::net
