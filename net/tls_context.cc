// Follows Redis 7.0's tls.c (createSSLContext, tlsConfigure): the same options, verification
// and session cache settings, and the same error texts.

#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <strings.h>

#include <sstream>

namespace dynakv::net {
namespace {

// The key's passphrase, handed to OpenSSL when it reads an encrypted key.
int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* pass = static_cast<const std::string*>(userdata);
  if (pass == nullptr || pass->empty()) return 0;
  const int n = std::min<int>(size - 1, static_cast<int>(pass->size()));
  pass->copy(buf, static_cast<std::size_t>(n));
  buf[n] = '\0';
  return n;
}

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

}  // namespace

std::string TlsErrorText(const char* fallback) {
  const unsigned long code = ERR_get_error();  // the first: the cause, as Redis logs it
  if (code == 0) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

bool ParseTlsProtocols(const std::string& text, int* protocols) {
  std::istringstream words(text);
  std::string word;
  int bits = 0;
  while (words >> word) {
    if (strcasecmp(word.c_str(), "tlsv1") == 0) {
      bits |= kTlsV1;
    } else if (strcasecmp(word.c_str(), "tlsv1.1") == 0) {
      bits |= kTlsV1_1;
    } else if (strcasecmp(word.c_str(), "tlsv1.2") == 0) {
      bits |= kTlsV1_2;
    } else if (strcasecmp(word.c_str(), "tlsv1.3") == 0) {
      bits |= kTlsV1_3;
    } else {
      return false;
    }
  }
  *protocols = bits == 0 ? kTlsDefaultProtocols : bits;
  return true;
}

std::shared_ptr<TlsContext> TlsContext::Create(const TlsOptions& options, Side side,
                                               std::string* error) {
  ERR_clear_error();
  const bool server = side == Side::kServer;
  if (server && (options.cert_file.empty() || options.key_file.empty())) {
    *error = "No tls-cert-file or tls-key-file configured";
    return nullptr;
  }
  const bool has_ca = !options.ca_cert_file.empty() || !options.ca_cert_dir.empty();
  if (options.ca_required && !has_ca) {
    *error =
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
        "tls-replication or tls-auth-clients are enabled!";
    return nullptr;
  }
  std::unique_ptr<SSL_CTX, CtxFree> ctx(
      SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) {
    *error = "Failed to create SSL context: " + TlsErrorText();
    return nullptr;
  }
  long ssl_options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION;
  if (!(options.protocols & kTlsV1)) ssl_options |= SSL_OP_NO_TLSv1;
  if (!(options.protocols & kTlsV1_1)) ssl_options |= SSL_OP_NO_TLSv1_1;
  if (!(options.protocols & kTlsV1_2)) ssl_options |= SSL_OP_NO_TLSv1_2;
  if (!(options.protocols & kTlsV1_3)) ssl_options |= SSL_OP_NO_TLSv1_3;
  if (options.prefer_server_ciphers) ssl_options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(ctx.get(), ssl_options);
  // With memory BIOs a write is never partial; moving buffers keep a retried write valid even
  // when its plaintext was reallocated meanwhile. (No SSL_MODE_RELEASE_BUFFERS: freeing the
  // record buffers whenever a connection goes quiet costs an allocation per record under load.)
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Both sides verify by default; an accepted connection relaxes it per tls-auth-clients.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (server) {
    if (options.session_caching) {
      SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
      SSL_CTX_sess_set_cache_size(ctx.get(), options.session_cache_size);
      SSL_CTX_set_timeout(ctx.get(), options.session_cache_timeout_s);
      static const unsigned char kSessionContext[] = "dynakv";
      SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof(kSessionContext) - 1);
    } else {
      SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
      SSL_CTX_set_num_tickets(ctx.get(), 0);
      SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    }
  }
  // The passphrase is only needed while the key is read below.
  SSL_CTX_set_default_passwd_cb(ctx.get(), PassphraseCallback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(),
                                         const_cast<std::string*>(&options.key_file_pass));
  const bool has_cert = !options.cert_file.empty();
  if (has_cert && SSL_CTX_use_certificate_chain_file(ctx.get(), options.cert_file.c_str()) <= 0) {
    *error = "Failed to load certificate: " + options.cert_file + ": " + TlsErrorText();
    return nullptr;
  }
  if (has_cert &&
      SSL_CTX_use_PrivateKey_file(ctx.get(), options.key_file.c_str(), SSL_FILETYPE_PEM) <= 0) {
    *error = "Failed to load private key: " + options.key_file + ": " + TlsErrorText();
    return nullptr;
  }
  SSL_CTX_set_default_passwd_cb(ctx.get(), nullptr);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), nullptr);
  if (has_ca &&
      SSL_CTX_load_verify_locations(
          ctx.get(), options.ca_cert_file.empty() ? nullptr : options.ca_cert_file.c_str(),
          options.ca_cert_dir.empty() ? nullptr : options.ca_cert_dir.c_str()) <= 0) {
    *error = "Failed to configure CA certificate(s) file/directory: " + TlsErrorText();
    return nullptr;
  }
  if (!options.ciphers.empty() && !SSL_CTX_set_cipher_list(ctx.get(), options.ciphers.c_str())) {
    *error = "Failed to configure ciphers: " + options.ciphers;
    ERR_clear_error();
    return nullptr;
  }
  if (!options.ciphersuites.empty() &&
      !SSL_CTX_set_ciphersuites(ctx.get(), options.ciphersuites.c_str())) {
    *error = "Failed to configure ciphersuites: " + options.ciphersuites;
    ERR_clear_error();
    return nullptr;
  }
  if (server) {
    // The CA list a server sends asks the client for a certificate from one of those CAs.
    if (!options.ca_cert_file.empty()) {
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca_cert_file.c_str())) {
        SSL_CTX_set_client_CA_list(ctx.get(), names);
      }
    }
  }
  ERR_clear_error();
  return std::shared_ptr<TlsContext>(new TlsContext(ctx.release(), side));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace dynakv::net
