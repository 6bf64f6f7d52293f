#include "bus_connection.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

namespace dynakv::cluster {

namespace {

// Reads are offered at least this much free buffer; a frame larger than that grows the buffer
// as its bytes arrive.
constexpr std::size_t kReadChunk = 64 * 1024;
// Frames per write call (up to three buffers each: header, payload, MAC), under IOV_MAX.
constexpr std::size_t kMaxFramesPerWrite = 256;

std::string ErrorText(const char* step, int rc) {
  return std::string(step) + ": " + uv_strerror(rc);
}

// Over TLS a batch up to this size is copied into one buffer (see StartWrite); a larger one
// (large values) is encrypted buffer by buffer, where the per-record cost is noise.
constexpr std::size_t kMaxTlsBatchCopy = std::size_t{4} << 20;
// The label of the keying material the bus handshake binds itself to (RFC 5705 exporters).
constexpr std::string_view kChannelBindingLabel = "EXPORTER-dynakv-bus-1";
constexpr std::size_t kChannelBindingBytes = 32;

}  // namespace

int BusConnection::Connect(const sockaddr* address, std::shared_ptr<net::TlsContext> tls,
                           std::uint64_t handshake_timeout_ms, Callbacks callbacks,
                           std::function<void(int status)> on_connected) {
  callbacks_ = std::move(callbacks);
  on_connected_ = std::move(on_connected);
  connection_.set_handshake_timeout(handshake_timeout_ms);
  const int rc = connection_.Connect(address, std::move(tls));
  if (rc != 0) {
    closed_ = true;
    return rc;
  }
  connecting_ = true;
  return 0;
}

int BusConnection::Accept(int fd, std::shared_ptr<net::TlsContext> tls,
                          std::uint64_t handshake_timeout_ms, Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  connection_.set_handshake_timeout(handshake_timeout_ms);
  // Plain: OnReady runs inside Accept and reading starts. TLS: once the handshake is done.
  connecting_ = true;
  const std::weak_ptr<bool> alive = alive_;
  const int rc = connection_.Accept(fd, std::move(tls), net::TlsPeerAuth::kYes);
  if (rc != 0 && !alive.expired()) closed_ = true;
  return rc;
}

void BusConnection::OnReady() {
  connecting_ = false;
  int status = connection_.ReadStart();
  if (status != 0) {
    failure_reason_ = ErrorText("read", status);
  } else if ((status = StartWrite()) != 0) {
    failure_reason_ = ErrorText("write", status);
  }
  std::function<void(int)> on_connected = std::move(on_connected_);
  if (status != 0) {
    Close();
    if (on_connected) {
      on_connected(status);
    } else {
      std::function<void(const std::string&)> on_failure = std::move(callbacks_.on_failure);
      if (on_failure) on_failure(failure_reason_);
    }
    return;
  }
  if (on_connected) on_connected(0);
}

void BusConnection::OnFailure(const net::ConnectionFailure& failure) {
  switch (failure.kind) {
    case net::ConnectionFailure::Kind::kIo:
      Fail(ErrorText("read", failure.status));
      return;
    case net::ConnectionFailure::Kind::kConnect:
      Fail(ErrorText("connect", failure.status));
      return;
    case net::ConnectionFailure::Kind::kTls:
    case net::ConnectionFailure::Kind::kHandshakeTimeout:
      tls_error_ = true;
      Fail(failure.detail);
      return;
    case net::ConnectionFailure::Kind::kIdleTimeout:
      Fail(failure.detail);
      return;
  }
}

void BusConnection::OnEof() { Fail("connection closed by peer"); }

std::string BusConnection::ChannelBinding() const {
  return connection_.ExportKeyingMaterial(kChannelBindingLabel, kChannelBindingBytes);
}

std::span<char> BusConnection::ReadBuffer() {
  std::size_t available = 0;
  char* area = reader_.WritableArea(kReadChunk, &available);
  return {area, available};
}

void BusConnection::OnRead(std::size_t n) {
  reader_.Commit(n);
  const std::weak_ptr<bool> alive = alive_;
  // Copies: a handler may destroy the connection, and with it the members, while it runs.
  const std::function<void(const bus::Frame&)> on_frame = callbacks_.on_frame;
  const std::function<void()> on_batch_end = callbacks_.on_batch_end;
  bus::Frame frame;
  for (;;) {
    const bus::FrameReader::Status status = reader_.Next(&frame);
    if (status == bus::FrameReader::Status::kNeedMore) break;
    if (status == bus::FrameReader::Status::kError) {
      protocol_error_ = true;
      Fail("protocol error: " + reader_.error());
      return;
    }
    if (receive_mac_.ready() && !VerifyMac(&frame)) {
      protocol_error_ = true;
      mac_error_ = true;
      Fail("frame " + std::to_string(receive_mac_.sequence() - 1) +
           " failed its MAC check (forged, modified, replayed or out of order)");
      return;
    }
    on_frame(frame);
    if (alive.expired() || closed_) return;
  }
  if (on_batch_end) on_batch_end();
}

bool BusConnection::VerifyMac(bus::Frame* frame) {
  if (frame->payload.size() < bus::kFrameMacBytes) {
    receive_mac_.Next({}, {});  // keeps the count the error reports
    return false;
  }
  const std::size_t body = frame->payload.size() - bus::kFrameMacBytes;
  // The header as it was on the wire (its length counts the tag): right before the payload in
  // the reader's buffer.
  const std::string_view header(frame->payload.data() - bus::kLengthBytes - bus::kFrameOverhead,
                                bus::kLengthBytes + bus::kFrameOverhead);
  const bus::FrameTag expected = receive_mac_.Next(header, frame->payload.substr(0, body));
  if (!bus::TagsEqual(expected, frame->payload.substr(body))) return false;
  frame->payload = frame->payload.substr(0, body);
  return true;
}

void BusConnection::Queue(std::string header, std::shared_ptr<const std::string> payload) {
  if (closed_) return;
  Chunk chunk{std::move(header), std::move(payload)};
  if (hold_ && !authenticated_) {
    held_.push_back(std::move(chunk));
    return;
  }
  Append(std::move(chunk));
}

void BusConnection::QueueHandshake(std::string frame) {
  if (closed_) return;
  Chunk chunk{std::move(frame), nullptr};
  unsent_bytes_ += chunk.size();
  queue_.push_back(std::move(chunk));
}

void BusConnection::Append(Chunk chunk) {
  if (send_mac_.ready() && chunk.header.size() >= bus::kLengthBytes) {
    // The length field counts the tag. (Lengths near 4 GB saturate as EncodeFrameHeader does:
    // such a frame is refused by the receiver either way.)
    std::uint32_t length = 0;
    for (std::size_t i = 0; i < bus::kLengthBytes; ++i) {
      length |= std::uint32_t{static_cast<unsigned char>(chunk.header[i])} << (8 * i);
    }
    if (length <= UINT32_MAX - bus::kFrameMacBytes) length += bus::kFrameMacBytes;
    for (std::size_t i = 0; i < bus::kLengthBytes; ++i) {
      chunk.header[i] = static_cast<char>(length >> (8 * i));
    }
    chunk.tag = send_mac_.Next(
        chunk.header, chunk.payload ? std::string_view(*chunk.payload) : std::string_view());
    chunk.tagged = true;
  }
  unsent_bytes_ += chunk.size();
  queue_.push_back(std::move(chunk));
}

bool BusConnection::EnableMac(const bus::Key& send, const bus::Key& receive) {
  if (!connection_.is_tls() && (!send_mac_.Init(send) || !receive_mac_.Init(receive))) {
    return false;
  }
  authenticated_ = true;
  while (!held_.empty()) {
    Append(std::move(held_.front()));
    held_.pop_front();
  }
  return true;
}

bool BusConnection::Flush() {
  const int rc = StartWrite();
  if (rc == 0) return true;
  failure_reason_ = ErrorText("write", rc);
  Close();
  return false;
}

int BusConnection::StartWrite() {
  // A write that completes at once (the usual case: the socket has room) frees its frames and
  // lets the next batch go in the same call.
  while (!closed_ && !connecting_ && !connection_.writing() && !queue_.empty()) {
    const std::size_t count = std::min(queue_.size(), kMaxFramesPerWrite);
    in_flight_.clear();
    std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count),
              std::back_inserter(in_flight_));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    // Buffers point into the chunks only now that they have reached their final place (a short
    // header lives inside its std::string, so moving the string moves the bytes).
    bufs_.clear();
    in_flight_bytes_ = 0;
    for (const Chunk& chunk : in_flight_) {
      bufs_.push_back(uv_buf_init(const_cast<char*>(chunk.header.data()),
                                  static_cast<unsigned>(chunk.header.size())));
      if (chunk.payload && !chunk.payload->empty()) {
        bufs_.push_back(uv_buf_init(const_cast<char*>(chunk.payload->data()),
                                    static_cast<unsigned>(chunk.payload->size())));
      }
      if (chunk.tagged) {
        bufs_.push_back(uv_buf_init(const_cast<char*>(chunk.tag.data()),
                                    static_cast<unsigned>(chunk.tag.size())));
      }
      in_flight_bytes_ += chunk.size();
    }
    if (connection_.is_tls() && bufs_.size() > 1 && in_flight_bytes_ <= kMaxTlsBatchCopy) {
      // One TLS record per buffer would cost a record header, an AEAD tag and a cipher call per
      // frame part: the batch goes out as one plaintext (OpenSSL cuts it into 16 KB records).
      tls_batch_.clear();
      tls_batch_.reserve(in_flight_bytes_);
      for (const uv_buf_t& buf : bufs_) tls_batch_.append(buf.base, buf.len);
      bufs_.assign(1, uv_buf_init(tls_batch_.data(), static_cast<unsigned>(tls_batch_.size())));
    }
    switch (connection_.Write(bufs_.data(), bufs_.size())) {
      case net::Connection::WriteResult::kFailed:
        return connection_.error() != 0 ? connection_.error() : UV_EPIPE;
      case net::Connection::WriteResult::kPending:
        return 0;  // OnWriteDone goes on
      case net::Connection::WriteResult::kDone:
        unsent_bytes_ -= in_flight_bytes_;
        in_flight_bytes_ = 0;
        in_flight_.clear();
        break;
    }
  }
  return 0;
}

void BusConnection::OnWriteDone() {
  unsent_bytes_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
  in_flight_.clear();
  if (const int rc = StartWrite(); rc != 0) Fail(ErrorText("write", rc));
}

void BusConnection::Close(std::shared_ptr<void> token) {
  closed_ = true;
  connecting_ = false;
  queue_.clear();
  held_.clear();
  // The frames of a write in flight stay until the connection is destroyed: libuv may still be
  // reading their bytes until the socket's close cancels the write.
  connection_.Close(std::move(token));
}

void BusConnection::Fail(std::string reason) {
  if (closed_) return;
  failure_reason_ = reason;
  const bool was_connecting = connecting_;
  Close();
  // Moved out first: the owner may destroy this connection (and its members) in the callback.
  std::function<void(int)> on_connected = std::move(on_connected_);
  if (was_connecting && on_connected) {
    on_connected(UV_ECONNABORTED);
    return;
  }
  std::function<void(const std::string&)> on_failure = std::move(callbacks_.on_failure);
  if (on_failure) on_failure(reason);
}

}  // namespace dynakv::cluster
