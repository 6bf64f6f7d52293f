#include "tls_config.h"

#include "ascii.h"
#include "log.h"
#include "utf8.h"

namespace dynakv::server {

std::shared_ptr<net::TlsContext> BuildTlsContext(const Config& config, std::string* reason) {
  net::TlsOptions options;
  options.cert_file = config.tls_cert_file;
  options.key_file = config.tls_key_file;
  options.key_file_pass = config.tls_key_file_pass;
  options.ca_cert_file = config.tls_ca_cert_file;
  options.ca_cert_dir = config.tls_ca_cert_dir;
  // Redis needs a CA only to verify someone: clients (tls-auth-clients) or the bus's peers.
  options.ca_required = config.tls_auth_clients != net::TlsPeerAuth::kNo;
  if (!net::ParseTlsProtocols(config.tls_protocols, &options.protocols)) {
    *reason =
        "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and "
        "'TLSv1.3'.";
    return nullptr;
  }
  options.ciphers = config.tls_ciphers;
  options.ciphersuites = config.tls_ciphersuites;
  options.prefer_server_ciphers = config.tls_prefer_server_ciphers;
  options.session_caching = config.tls_session_caching;
  options.session_cache_size = config.tls_session_cache_size;
  options.session_cache_timeout_s = config.tls_session_cache_timeout;
  return net::TlsContext::Create(options, net::TlsContext::Side::kServer, reason);
}

bool TlsContextChanged(const Config& a, const Config& b) {
  return a.tls_cert_file != b.tls_cert_file || a.tls_key_file != b.tls_key_file ||
         a.tls_key_file_pass != b.tls_key_file_pass || a.tls_ca_cert_file != b.tls_ca_cert_file ||
         a.tls_ca_cert_dir != b.tls_ca_cert_dir || a.tls_auth_clients != b.tls_auth_clients ||
         a.tls_protocols != b.tls_protocols || a.tls_ciphers != b.tls_ciphers ||
         a.tls_ciphersuites != b.tls_ciphersuites ||
         a.tls_prefer_server_ciphers != b.tls_prefer_server_ciphers ||
         a.tls_session_caching != b.tls_session_caching ||
         a.tls_session_cache_size != b.tls_session_cache_size ||
         a.tls_session_cache_timeout != b.tls_session_cache_timeout;
}

bool ParseTlsAuthClients(std::string_view value, Config* config, std::string* reason) {
  if (EqualsIgnoreCase(value, "yes")) {
    config->tls_auth_clients = net::TlsPeerAuth::kYes;
  } else if (EqualsIgnoreCase(value, "no")) {
    config->tls_auth_clients = net::TlsPeerAuth::kNo;
  } else if (EqualsIgnoreCase(value, "optional")) {
    config->tls_auth_clients = net::TlsPeerAuth::kOptional;
  } else {
    *reason = "argument(s) must be one of the following: no, yes, optional";
    return false;
  }
  return true;
}

std::string FormatTlsAuthClients(const Config& config) {
  switch (config.tls_auth_clients) {
    case net::TlsPeerAuth::kNo:
      return "no";
    case net::TlsPeerAuth::kOptional:
      return "optional";
    case net::TlsPeerAuth::kYes:
      break;
  }
  return "yes";
}

bool ParseTlsText(std::string_view value, std::string* out, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = "argument must be valid UTF-8 (the config file is TOML)";
    return false;
  }
  out->assign(value);
  return true;
}

}  // namespace dynakv::server
