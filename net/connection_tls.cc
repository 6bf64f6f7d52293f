// The TLS transport: OpenSSL over two memory BIOs, driven by the loop. Socket reads feed
// network_in and pump the state machine (handshake, then SSL_read into the owner's buffer);
// whatever OpenSSL writes to network_out (handshake messages, records, alerts, session tickets)
// is sent with the same try-then-uv_write scheme as plain writes.

#include "connection_tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace dynakv::net {
namespace {

// Why the handshake or a record failed, for the log: OpenSSL's error queue, and the
// certificate verification result when that is the cause.
std::string SslFailure(SSL* ssl, int code) {
  std::string text;
  if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_SSL) text = TlsErrorText("protocol error");
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  ERR_clear_error();
  return text;
}

}  // namespace

int Connection::TlsStart(std::shared_ptr<TlsContext> context, bool server, TlsPeerAuth peer_auth) {
  auto tls = std::make_unique<Tls>(std::move(context));
  tls->ssl = SSL_new(tls->context->get());
  tls->network_in = BIO_new(BIO_s_mem());
  tls->network_out = BIO_new(BIO_s_mem());
  if (tls->ssl == nullptr || tls->network_in == nullptr || tls->network_out == nullptr) {
    if (tls->network_in != nullptr) BIO_free(tls->network_in);
    if (tls->network_out != nullptr) BIO_free(tls->network_out);
    ERR_clear_error();
    return UV_ENOMEM;
  }
  // An empty input BIO means "wait for more", not EOF.
  BIO_set_mem_eof_return(tls->network_in, -1);
  SSL_set_bio(tls->ssl, tls->network_in, tls->network_out);
  if (server) {
    SSL_set_accept_state(tls->ssl);
    // tls-auth-clients, as Redis applies it per connection (the context demands a certificate).
    if (peer_auth == TlsPeerAuth::kNo) SSL_set_verify(tls->ssl, SSL_VERIFY_NONE, nullptr);
    if (peer_auth == TlsPeerAuth::kOptional) SSL_set_verify(tls->ssl, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_set_connect_state(tls->ssl);
  }
  tls_ = std::move(tls);
  return 0;
}

void Connection::OnReadTls(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread == 0) return;
  if (nread < 0) {
    if (nread != UV_EOF) {
      c->Fail(ConnectionFailure::Kind::kIo, static_cast<int>(nread),
              uv_strerror(static_cast<int>(nread)));
      return;
    }
    c->tls_->peer_eof = true;
    c->UpdateSocketReading();
  } else {
    c->Touch();
    BIO_write(c->tls_->network_in, buf->base, static_cast<int>(nread));
  }
  c->TlsPump();
}

void Connection::TlsPump() {
  Tls& tls = *tls_;
  if (!ready_) {
    const int rc = SSL_do_handshake(tls.ssl);
    if (rc != 1) {
      const int code = SSL_get_error(tls.ssl, rc);
      if (code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE) {
        TlsFlush();  // the alert tells the peer why
        if (!failed_ && !closed_) {
          Fail(ConnectionFailure::Kind::kTls, 0,
               "TLS handshake failed: " + SslFailure(tls.ssl, code));
        }
        return;
      }
      if (!TlsFlush()) return;
      if (tls.peer_eof)
        Fail(ConnectionFailure::Kind::kTls, 0, "connection closed during TLS handshake");
      return;
    }
    ready_ = true;
    if (handshake_timer_) uv_timer_stop(handshake_timer_.get());
    if (!TlsFlush()) return;
    const std::weak_ptr<bool> alive = alive_;
    handler_->OnReady();
    if (alive.expired() || closed_ || failed_) return;
    if (!tls.pending_plain.empty()) {
      std::string plain;
      plain.swap(tls.pending_plain);
      uv_buf_t buf = uv_buf_init(plain.data(), static_cast<unsigned>(plain.size()));
      if (!TlsEncrypt(&buf, 1) || !TlsFlush()) return;
    }
    if (UpdateSocketReading() != 0) {
      Fail(ConnectionFailure::Kind::kIo, UV_EINVAL, "cannot read the socket");
      return;
    }
  }
  TlsDrainPlaintext();
}

void Connection::TlsDrainPlaintext() {
  Tls& tls = *tls_;
  const std::weak_ptr<bool> alive = alive_;
  while (owner_reading_ && !closed_ && !failed_) {
    // Asking the owner for a buffer can grow it: only when OpenSSL may have something.
    if (SSL_pending(tls.ssl) == 0 && BIO_ctrl_pending(tls.network_in) == 0) break;
    const std::span<char> span = handler_->ReadBuffer();
    const int n = SSL_read(tls.ssl, span.data(),
                           static_cast<int>(std::min<std::size_t>(span.size(), 1u << 30)));
    if (n > 0) {
      handler_->OnRead(static_cast<std::size_t>(n));
      if (alive.expired()) return;
      continue;
    }
    const int code = SSL_get_error(tls.ssl, n);
    if (code == SSL_ERROR_WANT_READ) break;
    if (code == SSL_ERROR_ZERO_RETURN) {  // close_notify: the peer is done
      tls.peer_eof = true;
      break;
    }
    if (!TlsFlush()) return;
    Fail(ConnectionFailure::Kind::kTls, 0, "TLS read failed: " + SslFailure(tls.ssl, code));
    return;
  }
  if (closed_ || failed_) return;
  // Reading records may have produced records to send (session tickets, key updates, alerts).
  if (!TlsFlush()) return;
  if (tls.peer_eof && owner_reading_ && !tls.owner_eof_sent && SSL_pending(tls.ssl) == 0 &&
      BIO_ctrl_pending(tls.network_in) == 0) {
    tls.owner_eof_sent = true;
    owner_reading_ = false;
    UpdateSocketReading();
    handler_->OnEof();
  }
}

bool Connection::TlsEncrypt(const uv_buf_t* bufs, std::size_t count) {
  Tls& tls = *tls_;
  for (std::size_t i = 0; i < count; ++i) {
    if (bufs[i].len == 0) continue;
    if (!ready_) {
      tls.pending_plain.append(bufs[i].base, bufs[i].len);
      continue;
    }
    // A memory BIO takes everything: SSL_write writes the whole buffer or fails.
    const int n = SSL_write(tls.ssl, bufs[i].base, static_cast<int>(bufs[i].len));
    if (n <= 0) {
      const int code = SSL_get_error(tls.ssl, n);
      Fail(ConnectionFailure::Kind::kTls, 0, "TLS write failed: " + SslFailure(tls.ssl, code));
      return false;
    }
  }
  return true;
}

Connection::WriteResult Connection::TlsWrite(const uv_buf_t* bufs, std::size_t count) {
  if (!TlsEncrypt(bufs, count)) {
    error_ = UV_EPROTO;
    return WriteResult::kFailed;
  }
  if (!TlsFlush()) {
    if (error_ == 0) error_ = UV_EPROTO;
    return WriteResult::kFailed;
  }
  if (socket_write_in_flight_ || !tls_->pending_plain.empty()) {
    write_pending_ = true;
    return WriteResult::kPending;
  }
  return WriteResult::kDone;
}

void Connection::TlsWriteOnce(const uv_buf_t* buf) {
  if (buf != nullptr && !TlsEncrypt(buf, 1)) return;
  Tls& tls = *tls_;
  const std::size_t pending = BIO_ctrl_pending(tls.network_out);
  const std::size_t old = tls.out.size();
  tls.out.resize(old + pending);
  BIO_read(tls.network_out, tls.out.data() + old, static_cast<int>(pending));
  if (socket_write_in_flight_) return;  // goes out after the write in flight
  uv_buf_t rest = uv_buf_init(tls.out.data(), static_cast<unsigned>(tls.out.size()));
  const int rc = uv_try_write(tcp_.stream(), &rest, 1);
  if (rc > 0) tls.out.erase(0, static_cast<std::size_t>(rc));
}

void Connection::TlsCloseNotify() {
  SSL_shutdown(tls_->ssl);
  ERR_clear_error();
  TlsWriteOnce(nullptr);
}

bool Connection::TlsFlush() {
  Tls& tls = *tls_;
  const std::size_t pending = BIO_ctrl_pending(tls.network_out);
  if (pending > 0) {
    const std::size_t old = tls.out.size();
    tls.out.resize(old + pending);
    BIO_read(tls.network_out, tls.out.data() + old, static_cast<int>(pending));
  }
  if (socket_write_in_flight_ || tls.out.empty()) return true;
  const int rc = TlsSendCipher();
  if (rc < 0) {
    error_ = rc;
    Fail(ConnectionFailure::Kind::kIo, rc, uv_strerror(rc));
    return false;
  }
  return true;
}

int Connection::TlsSendCipher() {
  Tls& tls = *tls_;
  uv_buf_t buf = uv_buf_init(tls.out.data(), static_cast<unsigned>(tls.out.size()));
  int rc = uv_try_write(tcp_.stream(), &buf, 1);
  if (rc == UV_EAGAIN) rc = 0;
  if (rc < 0) return rc;
  const std::size_t written = static_cast<std::size_t>(rc);
  if (written == tls.out.size()) {
    tls.out.clear();
    return 0;
  }
  // The rest goes from the request's own buffer; `out` collects what OpenSSL writes meanwhile.
  WriteRequest& w = *write_request_;
  w.cipher.swap(tls.out);
  tls.out.clear();
  w.cipher_sent = written;
  w.owner = this;
  uv_buf_t rest =
      uv_buf_init(w.cipher.data() + written, static_cast<unsigned>(w.cipher.size() - written));
  rc = uv_write(&w.request, tcp_.stream(), &rest, 1, OnWrite);
  if (rc != 0) return rc;
  socket_write_in_flight_ = true;
  return 1;
}

void Connection::TlsOnWriteDone(int /*status*/) {
  write_request_->cipher.clear();
  write_request_->cipher_sent = 0;
  if (!tls_->out.empty()) {
    const int rc = TlsSendCipher();
    if (rc < 0) {
      error_ = rc;
      Fail(ConnectionFailure::Kind::kIo, rc, uv_strerror(rc));
      return;
    }
    if (rc == 1) return;
  }
  if (write_pending_ && tls_->pending_plain.empty()) {
    write_pending_ = false;
    handler_->OnWriteDone();
  }
}

void Connection::TlsScheduleDrain() {
  Tls& tls = *tls_;
  if (!ready_) return;
  if (SSL_pending(tls.ssl) == 0 && BIO_ctrl_pending(tls.network_in) == 0 && !tls.peer_eof) return;
  if (!tls.drain &&
      tls.drain.Init([&](uv_idle_t* i) { return uv_idle_init(loop_, i); }, this) != 0) {
    return;
  }
  uv_idle_start(tls.drain.get(), [](uv_idle_t* idle) {
    uv_idle_stop(idle);
    static_cast<Connection*>(idle->data)->TlsDrainPlaintext();
  });
}

std::string Connection::tls_version() const {
  if (!tls_ || !ready_) return "";
  return SSL_get_version(tls_->ssl);
}

bool Connection::peer_verified() const {
  if (!tls_ || !ready_) return false;
  X509* cert = SSL_get1_peer_certificate(tls_->ssl);
  if (cert == nullptr) return false;
  X509_free(cert);
  return SSL_get_verify_result(tls_->ssl) == X509_V_OK;
}

std::string Connection::ExportKeyingMaterial(std::string_view label, std::size_t bytes) const {
  if (!tls_ || !ready_ || bytes == 0) return "";
  std::string out(bytes, '\0');
  const std::string label_text(label);
  if (SSL_export_keying_material(tls_->ssl, reinterpret_cast<unsigned char*>(out.data()), bytes,
                                 label_text.data(), label_text.size(), nullptr, 0,
                                 /*use_context=*/0) != 1) {
    return "";
  }
  return out;
}

}  // namespace dynakv::net
