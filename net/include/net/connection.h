// One TCP connection on a libuv loop, with a plain or a TLS transport: what the server's clients
// and the cluster bus both sit on, so buffering, TLS and timeouts are written once.
//
// Reads land in the owner's buffer (ConnectionHandler::ReadBuffer), so a plain connection reads
// without a copy; a TLS one reads the socket into its own buffer, feeds OpenSSL through a memory
// BIO and decrypts into the owner's buffer. The handshake is driven by the loop's reads and
// writes: nothing blocks. Writes are tried at once (uv_try_write); what the socket does not take
// is handed to libuv, one write in flight at a time.
//
// Contract with the owner (the ConnectionHandler):
//  - Callbacks run only from the loop, never from inside a call the owner makes, with one
//    exception: Accept() of a plain connection calls OnReady() before it returns. A call of the
//    owner's that fails says so itself (kFailed, an error code) and leaves failed() set; no
//    OnFailure follows for it.
//  - The owner may Close() or destroy the connection at any time, including inside a callback;
//    no callback runs after Close(). The socket's memory is freed by libuv later (UvHandle), and
//    write/connect requests still in libuv complete harmlessly.
//  - OnFailure runs at most once; the owner should then Close().
//  - Write() may not be called while writing(): the owner batches what it has meanwhile.
//
// Plain connections cost nothing over raw libuv on the hot path: Write is one uv_try_write,
// a read is one callback into the owner's buffer.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/tls_context.h"
#include "net/uv_handle.h"

namespace dynakv::net {

struct ConnectionFailure {
  enum class Kind {
    kIo,                // a read or write failed (status: the libuv error)
    kConnect,           // Connect() could not reach the peer (status)
    kTls,               // the handshake or a record failed: bad certificate, not TLS...
    kHandshakeTimeout,  // the TLS handshake took longer than set_handshake_timeout
    kIdleTimeout,       // nothing was read for set_idle_timeout
  };
  Kind kind;
  int status = 0;      // libuv error code for kIo / kConnect, else 0
  std::string detail;  // human-readable, for logs
};

class ConnectionHandler {
 public:
  // Where the next bytes read go; at least one byte. Called right before each read.
  virtual std::span<char> ReadBuffer() = 0;
  // `n` bytes arrived at the start of the buffer the last ReadBuffer() returned.
  virtual void OnRead(std::size_t n) = 0;
  // The peer sends no more (EOF, or TLS close_notify): reading has stopped; writes still work.
  virtual void OnEof() = 0;
  // The transport is up: at once for plain connections, after the handshake for TLS. Reads reach
  // the owner only after this, and only while reading() (ReadStart).
  virtual void OnReady() = 0;
  virtual void OnFailure(const ConnectionFailure& failure) = 0;
  // A Write() that returned kPending has gone out entirely (handed to the kernel).
  virtual void OnWriteDone() = 0;

 protected:
  ~ConnectionHandler() = default;
};

class Connection {
 public:
  enum class WriteResult {
    kDone,     // every byte went to the kernel: the owner's buffers are free again
    kPending,  // the rest is in flight: keep the buffers unchanged until OnWriteDone
    kFailed,   // the socket refused the write (error()); the owner should Close()
  };

  // `handler` must outlive the connection or Close() it first.
  Connection(uv_loop_t* loop, ConnectionHandler* handler);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Set before Accept/Connect: a TLS handshake not finished within `ms` fails with
  // kHandshakeTimeout (0: no limit).
  void set_handshake_timeout(std::uint64_t ms) { handshake_timeout_ms_ = ms; }
  // A connection that reads nothing for `ms` fails with kIdleTimeout (0: off). May change at any
  // time; it counts from the last read (or from now, when turned on).
  void set_idle_timeout(std::uint64_t ms);

  // Adopts an accepted socket (non-blocking), which it owns from now on, even on failure. With
  // `tls` (a server-side context) the TLS handshake starts; `peer_auth` is tls-auth-clients. A
  // plain connection is ready at once: OnReady runs before Accept returns. 0 or a libuv error.
  int Accept(int fd, std::shared_ptr<TlsContext> tls = nullptr,
             TlsPeerAuth peer_auth = TlsPeerAuth::kYes);
  // Dials `address`; with `tls` (a client-side context) the handshake follows. OnReady once up,
  // OnFailure(kConnect/kTls/...) otherwise. 0, or a libuv error (no callback then).
  int Connect(const sockaddr* address, std::shared_ptr<TlsContext> tls = nullptr);

  // Reads reach the owner only between ReadStart and ReadStop. Stopping also stops reading the
  // socket (backpressure reaches the peer); for TLS, bytes already decrypted wait until the next
  // ReadStart, which delivers them from the loop. 0 or a libuv error.
  int ReadStart();
  void ReadStop();
  bool reading() const { return owner_reading_; }

  // Sends the bytes of `bufs` in order (see WriteResult). For TLS they are encrypted at once.
  WriteResult Write(const uv_buf_t* bufs, std::size_t count);
  WriteResult Write(std::string_view data) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    return Write(&buf, 1);
  }
  // Whether a Write returned kPending and OnWriteDone has not come yet.
  bool writing() const { return write_pending_; }
  // Bytes accepted by Write that the kernel has not taken yet (for TLS, ciphertext).
  std::size_t unsent_bytes() const;
  // One non-blocking attempt to send `data`, nothing kept for later: refusals, shutdown.
  void WriteBestEffort(std::string_view data);
  // Half-closes: the peer reads EOF once what was written has gone (TLS: after close_notify).
  // Reading goes on. 0 or a libuv error.
  int ShutdownWrite();

  // Stops for good: no callback runs after this. `token` lives until every libuv handle of the
  // connection is freed (UvHandle), so an owner can learn when the memory is gone.
  void Close(std::shared_ptr<void> token = nullptr);
  bool closed() const { return closed_; }
  bool failed() const { return failed_; }
  bool ready() const { return ready_; }
  bool is_tls() const { return tls_ != nullptr; }
  int error() const { return error_; }  // the libuv error of the last kFailed write

  int fd() const;
  // getpeername / getsockname; 0 or a libuv error.
  int PeerName(sockaddr_storage* address) const;
  int SockName(sockaddr_storage* address) const;
  // TLS only: the negotiated protocol ("TLSv1.3") and whether the peer showed a verified
  // certificate; "" and false on a plain connection or before the handshake.
  std::string tls_version() const;
  bool peer_verified() const;
  // TLS only, once ready: `bytes` of keying material exported from the session under `label`
  // (RFC 5705 / 8446 section 7.5), the same at both ends of this connection and at no other: a
  // protocol run inside the connection binds itself to it (channel binding), so it cannot be
  // relayed onto another TLS connection. Empty on a plain connection, before the handshake, or
  // when OpenSSL fails.
  std::string ExportKeyingMaterial(std::string_view label, std::size_t bytes) const;

 private:
  struct Tls;
  struct WriteRequest;
  struct ConnectRequest;

  static void OnAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void OnReadPlain(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnReadTls(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* request, int status);
  static void OnConnect(uv_connect_t* request, int status);

  int Open();            // the tcp handle
  int StartTransport();  // after accept/connect: OnReady (plain) or the TLS handshake
  int UpdateSocketReading();
  // Stops reading and the timers and tells the owner, unless inside one of its calls (then the
  // call reports it).
  void Fail(ConnectionFailure::Kind kind, int status, std::string detail);
  struct OwnerCall;  // marks a call of the owner's: Fail stays silent under it
  void Touch() {
    if (idle_timeout_ms_ != 0) last_read_ms_ = uv_now(loop_);
  }
  void ArmIdleTimer(std::uint64_t delay_ms);

  // TLS (connection_tls.cc)
  int TlsStart(std::shared_ptr<TlsContext> context, bool server, TlsPeerAuth peer_auth);
  void TlsPump();            // handshake, then decrypted bytes to the owner
  void TlsDrainPlaintext();  // SSL_read into the owner's buffer while it reads
  bool TlsFlush();           // ciphertext from OpenSSL to the socket; false after Fail
  int TlsSendCipher();       // 0: all gone, 1: in flight, <0: libuv error
  WriteResult TlsWrite(const uv_buf_t* bufs, std::size_t count);
  void TlsScheduleDrain();
  void TlsOnWriteDone(int status);
  void TlsCloseNotify();                                     // close_notify, sent best effort
  bool TlsEncrypt(const uv_buf_t* bufs, std::size_t count);  // into Tls::out; false after Fail
  void TlsWriteOnce(const uv_buf_t* buf);  // WriteBestEffort; nullptr: only what is queued

  uv_loop_t* const loop_;
  ConnectionHandler* const handler_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> handshake_timer_;
  UvHandle<uv_timer_t> idle_timer_;
  std::unique_ptr<Tls> tls_;
  std::unique_ptr<WriteRequest> write_request_;  // reused; orphaned to libuv when destroyed busy
  ConnectRequest* connect_request_ = nullptr;    // owned by libuv until its callback
  std::uint64_t handshake_timeout_ms_ = 0;
  std::uint64_t idle_timeout_ms_ = 0;
  std::uint64_t last_read_ms_ = 0;
  std::size_t unsent_plain_ = 0;  // plain: bytes of the write in flight
  int error_ = 0;
  bool owner_reading_ = false;
  bool socket_reading_ = false;
  bool socket_write_in_flight_ = false;
  bool write_pending_ = false;
  bool ready_ = false;
  bool failed_ = false;
  bool closed_ = false;
  int owner_calls_ = 0;
  // Callbacks hold a weak copy to notice the owner destroyed the connection under them.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::net
