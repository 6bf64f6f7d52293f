// The transport-independent part of Connection and the plain transport. The TLS transport is in
// connection_tls.cc; both share the write request and the timers here.

#include "net/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "connection_tls.h"

namespace dynakv::net {

struct Connection::ConnectRequest {
  uv_connect_t request{};
  Connection* owner = nullptr;
  std::shared_ptr<TlsContext> tls;
};

struct Connection::OwnerCall {
  explicit OwnerCall(Connection* c) : c(c) { ++c->owner_calls_; }
  ~OwnerCall() { --c->owner_calls_; }
  Connection* c;
};

Connection::Connection(uv_loop_t* loop, ConnectionHandler* handler)
    : loop_(loop), handler_(handler) {}

Connection::~Connection() {
  Close();
  if (socket_write_in_flight_) {
    write_request_->owner = nullptr;
    write_request_.release();  // freed by OnWrite, which libuv runs with UV_ECANCELED
  }
  if (connect_request_ != nullptr) connect_request_->owner = nullptr;
}

void Connection::Close(std::shared_ptr<void> token) {
  if (closed_) return;
  closed_ = true;
  owner_reading_ = socket_reading_ = false;
  tcp_.Close(token);
  handshake_timer_.Close(token);
  idle_timer_.Close(token);
  if (tls_) tls_->drain.Close(token);
}

int Connection::Open() {
  const int rc = tcp_.Init([&](uv_tcp_t* t) { return uv_tcp_init(loop_, t); }, this);
  if (rc == 0) write_request_ = std::make_unique<WriteRequest>();
  return rc;
}

int Connection::Accept(int fd, std::shared_ptr<TlsContext> tls, TlsPeerAuth peer_auth) {
  int rc = Open();
  if (rc != 0) {
    ::close(fd);
    return rc;
  }
  rc = uv_tcp_open(tcp_.get(), fd);
  if (rc != 0) {
    ::close(fd);  // libuv did not adopt it
    Close();
    return rc;
  }
  uv_tcp_nodelay(tcp_.get(), 1);
  if (tls) {
    const OwnerCall call(this);  // OnReady for plain below is the documented exception
    rc = TlsStart(std::move(tls), /*server=*/true, peer_auth);
    if (rc == 0) rc = StartTransport();
    if (rc == 0 && failed_) rc = error_ != 0 ? error_ : UV_EPROTO;
  } else {
    rc = StartTransport();
  }
  if (rc != 0) Close();
  return rc;
}

int Connection::Connect(const sockaddr* address, std::shared_ptr<TlsContext> tls) {
  int rc = Open();
  if (rc != 0) return rc;
  auto request = std::make_unique<ConnectRequest>();
  request->owner = this;
  request->tls = std::move(tls);
  rc = uv_tcp_connect(&request->request, tcp_.get(), address, OnConnect);
  if (rc != 0) {
    Close();
    return rc;
  }
  connect_request_ = request.release();
  return 0;
}

void Connection::OnConnect(uv_connect_t* request, int status) {
  std::unique_ptr<ConnectRequest> owned(reinterpret_cast<ConnectRequest*>(request));
  Connection* c = owned->owner;
  if (c == nullptr) return;  // destroyed meanwhile
  c->connect_request_ = nullptr;
  if (c->closed_) return;
  if (status != 0) {
    c->Fail(ConnectionFailure::Kind::kConnect, status, uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(c->tcp_.get(), 1);
  int rc = 0;
  if (owned->tls) rc = c->TlsStart(std::move(owned->tls), /*server=*/false, TlsPeerAuth::kYes);
  if (rc == 0) rc = c->StartTransport();
  if (rc != 0) c->Fail(ConnectionFailure::Kind::kConnect, rc, uv_strerror(rc));
}

int Connection::StartTransport() {
  if (idle_timeout_ms_ != 0) set_idle_timeout(idle_timeout_ms_);
  if (tls_) {
    if (handshake_timeout_ms_ != 0) {
      int rc = handshake_timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
      if (rc == 0) {
        rc = uv_timer_start(
            handshake_timer_.get(),
            [](uv_timer_t* timer) {
              auto* c = static_cast<Connection*>(timer->data);
              c->Fail(ConnectionFailure::Kind::kHandshakeTimeout, 0, "TLS handshake timed out");
            },
            handshake_timeout_ms_, 0);
      }
      if (rc != 0) return rc;
    }
    const int rc = UpdateSocketReading();
    if (rc != 0) return rc;
    TlsPump();  // a client speaks first
    return 0;
  }
  ready_ = true;
  handler_->OnReady();
  return 0;
}

void Connection::set_idle_timeout(std::uint64_t ms) {
  idle_timeout_ms_ = ms;
  if (!tcp_ || closed_) return;  // armed when the transport starts
  if (ms == 0) {
    if (idle_timer_) uv_timer_stop(idle_timer_.get());
    return;
  }
  if (!idle_timer_ &&
      idle_timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this) != 0) {
    return;
  }
  last_read_ms_ = uv_now(loop_);
  ArmIdleTimer(ms);
}

// The timer is not restarted on every read (that would cost a heap update per read): when it
// fires it checks the time of the last read and sleeps again for the rest.
void Connection::ArmIdleTimer(std::uint64_t delay_ms) {
  uv_timer_start(
      idle_timer_.get(),
      [](uv_timer_t* timer) {
        auto* c = static_cast<Connection*>(timer->data);
        if (c->idle_timeout_ms_ == 0) return;
        const std::uint64_t idle = uv_now(c->loop_) - c->last_read_ms_;
        if (idle >= c->idle_timeout_ms_) {
          c->Fail(ConnectionFailure::Kind::kIdleTimeout, 0,
                  "nothing read for " + std::to_string(idle) + " ms");
        } else {
          c->ArmIdleTimer(c->idle_timeout_ms_ - idle);
        }
      },
      delay_ms, 0);
}

void Connection::Fail(ConnectionFailure::Kind kind, int status, std::string detail) {
  if (closed_ || failed_) return;
  failed_ = true;
  if (error_ == 0) error_ = status != 0 ? status : UV_EPROTO;
  if (socket_reading_) uv_read_stop(tcp_.stream());
  owner_reading_ = socket_reading_ = false;
  if (handshake_timer_) uv_timer_stop(handshake_timer_.get());
  if (idle_timer_) uv_timer_stop(idle_timer_.get());
  if (owner_calls_ > 0) return;
  handler_->OnFailure(ConnectionFailure{kind, status, std::move(detail)});
}

int Connection::ReadStart() {
  if (closed_ || failed_) return UV_EINVAL;
  owner_reading_ = true;
  const int rc = UpdateSocketReading();
  if (rc == 0 && tls_ != nullptr) TlsScheduleDrain();
  return rc;
}

void Connection::ReadStop() {
  owner_reading_ = false;
  UpdateSocketReading();
}

// Plain: the socket is read exactly while the owner reads. TLS: also during the handshake, and
// not after the peer's EOF.
int Connection::UpdateSocketReading() {
  if (closed_ || failed_) return UV_EINVAL;
  bool want = owner_reading_;
  if (tls_) want = (want || !ready_) && !tls_->peer_eof;
  if (want == socket_reading_) return 0;
  if (!want) {
    uv_read_stop(tcp_.stream());
    socket_reading_ = false;
    return 0;
  }
  const int rc = uv_read_start(tcp_.stream(), OnAlloc, tls_ ? OnReadTls : OnReadPlain);
  if (rc == 0) socket_reading_ = true;
  return rc;
}

void Connection::OnAlloc(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  if (c->tls_) {
    std::string& in = c->tls_->in;
    *buf = uv_buf_init(in.data(), static_cast<unsigned>(in.size()));
    return;
  }
  const std::span<char> span = c->handler_->ReadBuffer();
  *buf =
      uv_buf_init(span.data(), static_cast<unsigned>(std::min<std::size_t>(span.size(), 1u << 30)));
}

void Connection::OnReadPlain(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    c->Touch();
    c->handler_->OnRead(static_cast<std::size_t>(nread));
  } else if (nread == UV_EOF) {
    uv_read_stop(stream);
    c->owner_reading_ = c->socket_reading_ = false;
    c->handler_->OnEof();
  } else if (nread < 0) {
    c->Fail(ConnectionFailure::Kind::kIo, static_cast<int>(nread),
            uv_strerror(static_cast<int>(nread)));
  }
}

Connection::WriteResult Connection::Write(const uv_buf_t* bufs, std::size_t count) {
  if (closed_ || failed_) {
    error_ = UV_EPIPE;
    return WriteResult::kFailed;
  }
  if (tls_) {
    const OwnerCall call(this);
    return TlsWrite(bufs, count);
  }
  int rc = uv_try_write(tcp_.stream(), bufs, static_cast<unsigned>(count));
  if (rc == UV_EAGAIN) rc = 0;
  if (rc < 0) {
    error_ = rc;
    return WriteResult::kFailed;
  }
  std::size_t written = static_cast<std::size_t>(rc);
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += bufs[i].len;
  if (written == total) return WriteResult::kDone;
  // The socket is full: libuv writes the rest from the owner's buffers when it can.
  std::size_t first = 0;
  while (written >= bufs[first].len) written -= bufs[first++].len;
  uv_buf_t rest[8];
  std::unique_ptr<uv_buf_t[]> heap;
  uv_buf_t* out = rest;
  const std::size_t left = count - first;
  if (left > std::size(rest)) {
    heap = std::make_unique<uv_buf_t[]>(left);
    out = heap.get();
  }
  for (std::size_t i = 0; i < left; ++i) out[i] = bufs[first + i];
  out[0].base += written;
  out[0].len -= written;
  write_request_->owner = this;
  rc = uv_write(&write_request_->request, tcp_.stream(), out, static_cast<unsigned>(left), OnWrite);
  if (rc != 0) {
    error_ = rc;
    return WriteResult::kFailed;
  }
  unsent_plain_ = 0;
  for (std::size_t i = 0; i < left; ++i) unsent_plain_ += out[i].len;
  socket_write_in_flight_ = write_pending_ = true;
  return WriteResult::kPending;
}

void Connection::OnWrite(uv_write_t* request, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(request);
  Connection* c = w->owner;
  if (c == nullptr) {  // the connection was destroyed with this write in libuv
    delete w;
    return;
  }
  c->socket_write_in_flight_ = false;
  if (c->closed_) return;
  if (status < 0) {
    c->Fail(ConnectionFailure::Kind::kIo, status, uv_strerror(status));
    return;
  }
  if (c->tls_) {
    c->TlsOnWriteDone(status);
    return;
  }
  c->unsent_plain_ = 0;
  c->write_pending_ = false;
  c->handler_->OnWriteDone();
}

std::size_t Connection::unsent_bytes() const {
  if (!tls_) return unsent_plain_;
  std::size_t n = tls_->out.size() + tls_->pending_plain.size();
  if (socket_write_in_flight_) {
    n += write_request_->cipher.size() - write_request_->cipher_sent;
  }
  return n;
}

void Connection::WriteBestEffort(std::string_view data) {
  if (closed_ || failed_ || data.empty()) return;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
  if (tls_) {
    // Encrypted and tried once; what the socket does not take is dropped with the connection.
    const OwnerCall call(this);
    if (ready_) TlsWriteOnce(&buf);
    return;
  }
  uv_try_write(tcp_.stream(), &buf, 1);
}

int Connection::ShutdownWrite() {
  if (closed_ || failed_) return UV_EINVAL;
  if (tls_ && ready_) {
    const OwnerCall call(this);
    TlsCloseNotify();
  }
  const int fd = this->fd();
  if (fd < 0 || ::shutdown(fd, SHUT_WR) != 0) return fd < 0 ? UV_EBADF : -errno;
  return 0;
}

int Connection::fd() const {
  uv_os_fd_t fd = -1;
  if (!tcp_ || uv_fileno(tcp_.base(), &fd) != 0) return -1;
  return fd;
}

int Connection::PeerName(sockaddr_storage* address) const {
  int len = sizeof(*address);
  if (!tcp_) return UV_EBADF;
  return uv_tcp_getpeername(tcp_.get(), reinterpret_cast<sockaddr*>(address), &len);
}

int Connection::SockName(sockaddr_storage* address) const {
  int len = sizeof(*address);
  if (!tcp_) return UV_EBADF;
  return uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(address), &len);
}

}  // namespace dynakv::net
