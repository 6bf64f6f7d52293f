// The [tls] parameters: Redis's names, defaults and errors, the TOML section, and what makes
// CONFIG SET rebuild the TLS context.

#include "tls_config.h"

#include <doctest/doctest.h>

#include <string>

#include "config.h"

namespace dynakv::server {
namespace {

std::string Get(const Config& config, const char* name) {
  const ConfigParam* param = FindConfigParam(name);
  REQUIRE(param != nullptr);
  return param->format(config);
}

TEST_CASE("tls-* defaults are Redis 7.0's") {
  const Config config;
  CHECK(Get(config, "tls-port") == "0");
  CHECK(Get(config, "tls-auth-clients") == "yes");
  CHECK(Get(config, "tls-protocols") == "");
  CHECK(Get(config, "tls-prefer-server-ciphers") == "no");
  CHECK(Get(config, "tls-session-caching") == "yes");
  CHECK(Get(config, "tls-session-cache-size") == "20480");
  CHECK(Get(config, "tls-session-cache-timeout") == "300");
  for (const char* name :
       {"tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-ca-cert-file",
        "tls-ca-cert-dir", "tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites",
        "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
        "tls-session-cache-timeout"}) {
    CAPTURE(name);
    CHECK(FindConfigParam(name)->runtime());
  }
}

TEST_CASE("tls-auth-clients takes yes, no, optional in any case, with Redis's error") {
  Config config;
  std::string reason;
  const ConfigParam* param = FindConfigParam("tls-auth-clients");
  CHECK(param->parse("OPTIONAL", &config, &reason));
  CHECK(config.tls_auth_clients == net::TlsPeerAuth::kOptional);
  CHECK(param->parse("no", &config, &reason));
  CHECK(config.tls_auth_clients == net::TlsPeerAuth::kNo);
  CHECK_FALSE(param->parse("maybe", &config, &reason));
  CHECK(reason == "argument(s) must be one of the following: no, yes, optional");
  CHECK_FALSE(FindConfigParam("tls-session-cache-size")->parse("-1", &config, &reason));
}

TEST_CASE("the [tls] TOML section drops the tls- prefix") {
  Config config;
  std::string error;
  REQUIRE(ApplyConfigToml(R"(
[tls]
port = 6380
cert-file = "/etc/dynakv/node.crt"
key-file = "/etc/dynakv/node.key"
ca-cert-dir = "/etc/ssl/certs"
auth-clients = "optional"
protocols = "TLSv1.3"
session-caching = false
)",
                          "test.toml", &config, &error));
  CHECK(config.tls_port == 6380);
  CHECK(config.tls_cert_file == "/etc/dynakv/node.crt");
  CHECK(config.tls_key_file == "/etc/dynakv/node.key");
  CHECK(config.tls_ca_cert_dir == "/etc/ssl/certs");
  CHECK(config.tls_auth_clients == net::TlsPeerAuth::kOptional);
  CHECK(config.tls_protocols == "TLSv1.3");
  CHECK_FALSE(config.tls_session_caching);
  // CONFIG REWRITE writes them back where they load from.
  Config reloaded;
  REQUIRE(ApplyConfigToml(RenderConfigToml(config), "rewritten.toml", &reloaded, &error));
  CHECK(reloaded.tls_port == 6380);
  CHECK(reloaded.tls_auth_clients == net::TlsPeerAuth::kOptional);
}

TEST_CASE("what rebuilds the TLS context") {
  const Config a;
  Config b = a;
  CHECK_FALSE(TlsContextChanged(a, b));
  b.tls_cert_file = "x.crt";
  CHECK(TlsContextChanged(a, b));
  b = a;
  b.tls_session_cache_size = 1;
  CHECK(TlsContextChanged(a, b));
  b = a;
  b.maxclients = 5;
  CHECK_FALSE(TlsContextChanged(a, b));
}

TEST_CASE("bad tls-protocols make no context, with Redis's log line") {
  Config config;
  config.tls_port = 6380;
  config.tls_protocols = "TLSv1.2 SSLv3";
  std::string reason;
  CHECK(BuildTlsContext(config, &reason) == nullptr);
  CHECK(reason ==
        "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and "
        "'TLSv1.3'.");
}

TEST_CASE("cluster mode needs the plain client port") {
  Config config;
  config.cluster_enabled = true;
  config.port = 0;
  std::string error;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error == "cluster-enabled yes needs a client port (port 0 closes it)");
}

}  // namespace
}  // namespace dynakv::server
