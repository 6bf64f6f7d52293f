// The TLS settings of one side of many connections: an OpenSSL SSL_CTX built from Redis's tls-*
// parameters, shared (std::shared_ptr) by a listener's connections and by every connection that
// was accepted or dialled with it. Replacing a listener's context (CONFIG SET tls-cert-file)
// leaves connections already open on the old one, which lives until the last of them closes.
//
// Building a context reads the files named: do it at start or on CONFIG SET, never per
// connection. Errors are worded as Redis 7.0 logs them ("Failed to load certificate: ...").
#pragma once

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace dynakv::net {

// tls-auth-clients: whether an accepted peer must present a certificate signed by the CA.
enum class TlsPeerAuth { kNo, kYes, kOptional };

// tls-protocols as a bit set.
inline constexpr int kTlsV1 = 1;
inline constexpr int kTlsV1_1 = 2;
inline constexpr int kTlsV1_2 = 4;
inline constexpr int kTlsV1_3 = 8;
inline constexpr int kTlsDefaultProtocols = kTlsV1_2 | kTlsV1_3;  // Redis's default

struct TlsOptions {
  std::string cert_file;      // PEM chain presented to the peer
  std::string key_file;       // PEM private key of cert_file
  std::string key_file_pass;  // the key's passphrase, if it is encrypted
  std::string ca_cert_file;   // CAs a peer's certificate must chain to...
  std::string ca_cert_dir;    // ...in a file, or a c_rehash'ed directory
  // Whether one of the two must be given: peers are verified (Redis: unless tls-auth-clients no
  // on a server that dials no one over TLS).
  bool ca_required = true;
  int protocols = kTlsDefaultProtocols;
  std::string ciphers;       // TLSv1.2 and below, OpenSSL cipher-list syntax; empty: OpenSSL's
  std::string ciphersuites;  // TLSv1.3; empty: OpenSSL's
  bool prefer_server_ciphers = false;
  // Server side: resumption of sessions from a cache in the context.
  bool session_caching = true;
  long session_cache_size = 20 * 1024;
  long session_cache_timeout_s = 300;
};

// "TLSv1.2 TLSv1.3" -> bits, as Redis parses tls-protocols (space separated, any case). An empty
// text is the default. False for an unknown word.
bool ParseTlsProtocols(const std::string& text, int* protocols);

class TlsContext {
 public:
  enum class Side { kServer, kClient };

  // The context, or nullptr with *error saying why (a file missing or unreadable, a key that does
  // not match its certificate, a wrong passphrase, an unknown cipher...).
  static std::shared_ptr<TlsContext> Create(const TlsOptions& options, Side side,
                                            std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  Side side() const { return side_; }

 private:
  TlsContext(SSL_CTX* ctx, Side side) : ctx_(ctx), side_(side) {}
  SSL_CTX* ctx_;
  Side side_;
};

// The last error on OpenSSL's thread error queue as text (the queue is emptied), or `fallback`.
std::string TlsErrorText(const char* fallback = "unknown error");

}  // namespace dynakv::net
