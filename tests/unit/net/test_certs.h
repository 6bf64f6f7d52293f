// Certificates for the net tests, made with libcrypto in a temporary directory: two unrelated
// CAs, a server certificate and a client certificate signed by the first one, and a client
// certificate signed by the second ("wrong CA"). EC P-256 keys, so making them is quick.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <string>

#include "temp_dir.h"

namespace dynakv::testing {

class TestCerts {
 public:
  TestCerts() : dir_("dynakv-net-certs") {
    EVP_PKEY* ca_key = NewKey();
    X509* ca = Sign("test-ca", ca_key, nullptr, ca_key, true);
    EVP_PKEY* other_key = NewKey();
    X509* other = Sign("other-ca", other_key, nullptr, other_key, true);
    Write("ca", ca, ca_key);
    Write("other-ca", other, other_key);
    Issue("server", "localhost", ca, ca_key);
    Issue("client", "client", ca, ca_key);
    Issue("rogue", "rogue", other, other_key);
    X509_free(ca);
    X509_free(other);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
  }
  std::string crt(const std::string& name) const { return dir_.path() + "/" + name + ".crt"; }
  std::string key(const std::string& name) const { return dir_.path() + "/" + name + ".key"; }
  const std::string& dir() const { return dir_.path(); }

 private:
  static EVP_PKEY* NewKey() { return EVP_EC_gen("P-256"); }

  static X509* Sign(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    static long serial = 1;
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    if (ca) {
      X509V3_CTX ctx;
      X509V3_set_ctx_nodb(&ctx);
      X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
      X509_EXTENSION* ext =
          X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, issuer_key, EVP_sha256());
    return cert;
  }

  void Issue(const std::string& file, const char* cn, X509* ca, EVP_PKEY* ca_key) {
    EVP_PKEY* key = NewKey();
    X509* cert = Sign(cn, key, ca, ca_key, false);
    Write(file, cert, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  void Write(const std::string& name, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(crt(name).c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(this->key(name).c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }

  TempDir dir_;
};

}  // namespace dynakv::testing
