// The [tls] parameters (Redis's tls-* names and defaults): their parsers for the config table
// (config.cc), and the TLS context a node's config describes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config.h"
#include "net/tls_context.h"

namespace dynakv::server {

// Redis's wording when a tls-* CONFIG SET cannot build the new context.
inline constexpr std::string_view kTlsUpdateFailed =
    "Unable to update TLS configuration. Check server logs.";

// The server-side context for tls-port, or nullptr with *reason worded as Redis logs it.
std::shared_ptr<net::TlsContext> BuildTlsContext(const Config& config, std::string* reason);
// Whether `a` and `b` differ in a parameter the context is built from.
bool TlsContextChanged(const Config& a, const Config& b);

// --- parameter parsers and formatters for config.cc's table ---------------------------------
bool ParseTlsAuthClients(std::string_view value, Config* config, std::string* reason);
std::string FormatTlsAuthClients(const Config& config);
// A file name, passphrase, cipher list: any UTF-8 text (CONFIG REWRITE writes it to TOML).
bool ParseTlsText(std::string_view value, std::string* out, std::string* reason);
template <std::string Config::*Member>
bool ParseTlsString(std::string_view value, Config* config, std::string* reason) {
  return ParseTlsText(value, &(config->*Member), reason);
}

}  // namespace dynakv::server
