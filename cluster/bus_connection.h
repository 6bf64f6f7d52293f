// One TCP connection of the cluster bus, in either direction, on a net::Connection (plain or
// TLS): bytes in are split into frames and handed to the owner; frames out are queued and
// written in batches, one write in flight at a time, so frames queued while a write is under way
// leave together in the next one.
//
// Lifetime rules (libuv calls back into an object that its own callback may destroy):
//  - the owner may destroy the connection at any time, including inside its callbacks; the
//    socket itself is freed by libuv later (net::UvHandle);
//  - on_failure runs at most once, as the last thing the connection does in that callback, so
//    the owner may destroy it there;
//  - after the owner calls Close(), no callback runs.
//
// Authentication (bus_auth.h): the handshake's frames go out bare (QueueHandshake); once the
// owner has the connection's keys it calls EnableMac, and from then on every frame queued gets
// its MAC and every frame read must carry a valid one, or the connection fails (mac_error()).
// Over TLS (tls-cluster) EnableMac only marks the connection authenticated: TLS already
// authenticates every record (an AEAD tag under a per-session key, with implicit sequence
// numbers, so forged, modified, replayed or reordered records fail), and the handshake is bound
// to this TLS session (ChannelBinding), so a member's certified relay cannot splice it onto
// another connection. A second MAC would cost CPU and bytes for no added protection.
// A connection that HoldUntilAuthenticated() keeps what Queue() gets until EnableMac, so a
// dialling node may queue requests before its handshake is done.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bus_auth.h"
#include "cluster/bus_protocol.h"
#include "net/connection.h"
#include "net/tls_context.h"

namespace dynakv::cluster {

class BusConnection : private net::ConnectionHandler {
 public:
  struct Callbacks {
    std::function<void(const bus::Frame&)> on_frame;
    std::function<void()> on_batch_end;  // after the frames of one read; optional
    std::function<void(const std::string& reason)> on_failure;  // EOF, I/O error, bad frame
  };

  explicit BusConnection(uv_loop_t* loop) : connection_(loop, this) {}
  ~BusConnection() { Close(); }
  BusConnection(const BusConnection&) = delete;
  BusConnection& operator=(const BusConnection&) = delete;

  // Outgoing connection, over TLS with `tls` (a client context: the peer's certificate must
  // chain to its CA, and this node shows its own). Once the transport is up reading starts and
  // queued frames go out, then on_connected(0); if the connect or the TLS handshake fails (or
  // takes longer than `handshake_timeout_ms`), the connection is closed, then
  // on_connected(error) (failure_reason() and tls_error() say why). on_connected runs as the
  // connection's last action, like on_failure. 0, or a libuv error (no callback then).
  int Connect(const sockaddr* address, std::shared_ptr<net::TlsContext> tls,
              std::uint64_t handshake_timeout_ms, Callbacks callbacks,
              std::function<void(int status)> on_connected);
  // Accepted connection (`fd`, owned from now on): with `tls` (a server context) the peer must
  // show a certificate that chains to the CA within `handshake_timeout_ms`, or it fails
  // (on_failure, tls_error()). Reading starts once the transport is up. 0 or a libuv error.
  int Accept(int fd, std::shared_ptr<net::TlsContext> tls, std::uint64_t handshake_timeout_ms,
             Callbacks callbacks);
  // Frames longer than this break the framing (protocol_error), from the next frame on; by
  // default bus::kMaxFrameLength.
  void set_max_frame_length(std::size_t max) { reader_.set_max_frame_length(max); }

  // Queues one frame: `header` then `payload` (shared, so one value sent to several replicas
  // is not copied per replica). Nothing is written until Flush().
  void Queue(std::string header, std::shared_ptr<const std::string> payload = nullptr);
  // Queues one whole handshake frame, bare: it goes out before anything held.
  void QueueHandshake(std::string frame);
  // Frames queued from now on wait for EnableMac.
  void HoldUntilAuthenticated() { hold_ = true; }
  // Frames queued from now on (and those held) carry a MAC under `send`; frames read after the
  // one being handled must carry one under `receive` (over TLS: no MAC, see above). False when
  // libcrypto failed.
  bool EnableMac(const bus::Key& send, const bus::Key& receive);
  bool authenticated() const { return authenticated_; }
  // Starts writing what is queued unless a write is already in flight. Returns false when the
  // socket refused the write: the connection is then closed (no on_failure), and
  // failure_reason() says why.
  bool Flush();
  // Closes the socket; `token` lives until its memory is freed (see UvHandle).
  void Close(std::shared_ptr<void> token = nullptr);

  bool closed() const { return closed_; }
  // Dialling, or in the TLS handshake: not yet able to carry frames.
  bool connecting() const { return connecting_; }
  bool is_tls() const { return connection_.is_tls(); }
  // Over TLS, once up: keying material unique to this TLS session, the same at both ends, that
  // the bus handshake binds itself to (bus::Transcript::channel_binding). Empty when plain.
  std::string ChannelBinding() const;
  // Bytes queued or being written: how far the peer is behind in reading.
  std::size_t unsent_bytes() const { return unsent_bytes_; }
  // Bytes read but not yet forming a whole frame.
  std::size_t buffered_input() const { return reader_.buffered(); }
  const std::string& failure_reason() const { return failure_reason_; }
  // Whether the failure was the peer breaking the framing (garbage, an oversized frame).
  bool protocol_error() const { return protocol_error_; }
  // Whether the failure was a frame whose MAC did not verify (also a protocol_error()).
  bool mac_error() const { return mac_error_; }
  // Whether the failure was the TLS layer: a peer without a certificate from the CA, one that
  // does not speak TLS, a handshake past its deadline, a broken record.
  bool tls_error() const { return tls_error_; }

 private:
  struct Chunk {
    std::string header;
    std::shared_ptr<const std::string> payload;
    bool tagged = false;
    bus::FrameTag tag{};  // the frame's MAC, sent after the payload when tagged
    std::size_t size() const {
      return header.size() + (payload ? payload->size() : 0) + (tagged ? tag.size() : 0);
    }
  };

  // net::ConnectionHandler
  std::span<char> ReadBuffer() override;
  void OnRead(std::size_t n) override;
  void OnEof() override;
  void OnReady() override;
  void OnFailure(const net::ConnectionFailure& failure) override;
  void OnWriteDone() override;

  int StartWrite();               // 0, or the error the write gave (the caller closes)
  void Fail(std::string reason);  // closes, then on_failure (or on_connected) as the last action
  void Append(Chunk chunk);       // to the write queue, with its MAC when enabled
  // Checks and strips the MAC of a frame read; false when it does not verify.
  bool VerifyMac(bus::Frame* frame);

  net::Connection connection_;
  Callbacks callbacks_;
  std::function<void(int)> on_connected_;
  bus::FrameReader reader_;
  std::deque<Chunk> queue_;
  std::vector<Chunk> in_flight_;  // the frames of the write in flight: libuv reads their bytes
  std::size_t in_flight_bytes_ = 0;
  std::vector<uv_buf_t> bufs_;  // reused for each write
  std::string tls_batch_;       // over TLS: the frames of the write in flight, contiguous
  std::size_t unsent_bytes_ = 0;
  bool connecting_ = false;
  bool closed_ = false;
  bool protocol_error_ = false;
  bool mac_error_ = false;
  bool tls_error_ = false;
  bool hold_ = false;
  bool authenticated_ = false;
  std::deque<Chunk> held_;  // queued before EnableMac by a connection that holds
  bus::FrameMac send_mac_;
  bus::FrameMac receive_mac_;
  std::string failure_reason_;
  // Callbacks hold a weak copy, to notice the connection was destroyed under them.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::cluster
