#include "tls_client.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace dynakv::itest {
namespace {

std::string SslError(const char* what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return std::string(what) + ": " + (code != 0 ? text : "connection closed or I/O error");
}

}  // namespace

TlsClient::TlsClient(int port, const TlsClientOptions& options, std::chrono::milliseconds timeout)
    : reader_(redisReaderCreate(), redisReaderFree) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr) != 1) {
    error_ = SslError("CA");
    return;
  }
  if (!options.cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    error_ = SslError("client certificate");
    return;
  }
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error_ = "connect failed";
    return;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) error_ = SslError("handshake");
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

bool TlsClient::Send(std::string_view bytes) {
  if (!connected()) return false;
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      error_ = SslError("write");
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void TlsClient::Append(const std::vector<std::string>& argv) {
  pending_ += "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    pending_ += "$" + std::to_string(arg.size()) + "\r\n";
    pending_ += arg;
    pending_ += "\r\n";
  }
}

bool TlsClient::Flush() {
  std::string bytes;
  bytes.swap(pending_);
  return Send(bytes);
}

std::vector<Reply> TlsClient::ReadReplies(std::size_t count) {
  std::vector<Reply> replies;
  char buf[64 * 1024];
  while (replies.size() < count) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) break;
    if (raw != nullptr) {
      replies.push_back(Reply::FromHiredis(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
      continue;
    }
    const int n = connected() ? SSL_read(ssl_, buf, sizeof(buf)) : 0;
    if (n <= 0) {
      if (error_.empty()) error_ = SslError("read");
      break;
    }
    redisReaderFeed(reader_.get(), buf, static_cast<std::size_t>(n));
  }
  while (replies.size() < count) {
    Reply failed;
    failed.type = Reply::Type::kIoError;
    failed.str = error_;
    replies.push_back(failed);
  }
  return replies;
}

Reply TlsClient::Command(const std::vector<std::string>& argv) {
  Append(argv);
  if (!Flush()) {
    Reply failed;
    failed.type = Reply::Type::kIoError;
    failed.str = error_;
    return failed;
  }
  return ReadReplies(1)[0];
}

}  // namespace dynakv::itest
