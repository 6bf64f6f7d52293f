#include "bus_connection.h"

#include <algorithm>
#include <cstdint>
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

}  // namespace

struct BusConnection::WriteRequest {
  uv_write_t request{};
  std::weak_ptr<bool> alive;
  BusConnection* connection = nullptr;
  std::vector<Chunk> chunks;  // the bytes must live until libuv is done with them
  std::size_t bytes = 0;
};

struct BusConnection::ConnectRequest {
  uv_connect_t request{};
  std::weak_ptr<bool> alive;
  BusConnection* connection = nullptr;
};

int BusConnection::Init() {
  return tcp_.Init([&](uv_tcp_t* tcp) { return uv_tcp_init(loop_, tcp); }, this);
}

int BusConnection::Connect(const sockaddr* address, Callbacks callbacks,
                           std::function<void(int status)> on_connected) {
  callbacks_ = std::move(callbacks);
  on_connected_ = std::move(on_connected);
  auto request = std::make_unique<ConnectRequest>();
  request->alive = alive_;
  request->connection = this;
  request->request.data = request.get();
  const int rc = uv_tcp_connect(&request->request, tcp_.get(), address, OnConnect);
  if (rc != 0) return rc;
  request.release();  // owned by OnConnect from here
  connecting_ = true;
  return 0;
}

void BusConnection::OnConnect(uv_connect_t* request, int status) {
  std::unique_ptr<ConnectRequest> owned(static_cast<ConnectRequest*>(request->data));
  if (owned->alive.expired()) return;
  BusConnection* c = owned->connection;
  if (c->closed_) return;
  c->connecting_ = false;
  std::function<void(int)> on_connected = std::move(c->on_connected_);
  if (status == 0) {
    uv_tcp_nodelay(c->tcp_.get(), 1);
    status = c->BeginReading();
    if (status != 0) {
      c->failure_reason_ = ErrorText("read", status);
    } else if ((status = c->StartWrite()) != 0) {
      c->failure_reason_ = ErrorText("write", status);
    }
  } else {
    c->failure_reason_ = ErrorText("connect", status);
  }
  if (status != 0) c->Close();
  if (on_connected) on_connected(status);
}

int BusConnection::StartReading(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  uv_tcp_nodelay(tcp_.get(), 1);
  return BeginReading();
}

int BusConnection::BeginReading() { return uv_read_start(tcp_.stream(), OnAlloc, OnRead); }

void BusConnection::OnAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* c = static_cast<BusConnection*>(handle->data);
  std::size_t available = 0;
  char* area = c->reader_.WritableArea(kReadChunk, &available);
  *buf = uv_buf_init(area, static_cast<unsigned>(std::min<std::size_t>(available, 1u << 30)));
}

void BusConnection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<BusConnection*>(stream->data);
  if (nread == 0) return;  // EAGAIN
  if (nread < 0) {
    c->Fail(nread == UV_EOF ? std::string("connection closed by peer")
                            : ErrorText("read", static_cast<int>(nread)));
    return;
  }
  c->reader_.Commit(static_cast<std::size_t>(nread));
  const std::weak_ptr<bool> alive = c->alive_;
  // Copies: a handler may destroy the connection, and with it the members, while it runs.
  const std::function<void(const bus::Frame&)> on_frame = c->callbacks_.on_frame;
  const std::function<void()> on_batch_end = c->callbacks_.on_batch_end;
  bus::Frame frame;
  for (;;) {
    const bus::FrameReader::Status status = c->reader_.Next(&frame);
    if (status == bus::FrameReader::Status::kNeedMore) break;
    if (status == bus::FrameReader::Status::kError) {
      c->protocol_error_ = true;
      c->Fail("protocol error: " + c->reader_.error());
      return;
    }
    if (c->receive_mac_.ready() && !c->VerifyMac(&frame)) {
      c->protocol_error_ = true;
      c->mac_error_ = true;
      c->Fail("frame " + std::to_string(c->receive_mac_.sequence() - 1) +
              " failed its MAC check (forged, modified, replayed or out of order)");
      return;
    }
    on_frame(frame);
    if (alive.expired() || c->closed_) return;
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
  if (hold_ && !send_mac_.ready()) {
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
  if (!send_mac_.Init(send) || !receive_mac_.Init(receive)) return false;
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
  if (closed_ || connecting_ || write_in_flight_ || queue_.empty()) return 0;
  auto request = std::make_unique<WriteRequest>();
  request->alive = alive_;
  request->connection = this;
  request->request.data = request.get();
  const std::size_t count = std::min(queue_.size(), kMaxFramesPerWrite);
  request->chunks.reserve(count);
  std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count),
            std::back_inserter(request->chunks));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
  // Buffers point into the chunks only now that they have reached their final place (a short
  // header lives inside its std::string, so moving the string moves the bytes).
  std::vector<uv_buf_t> bufs;
  bufs.reserve(count * 3);
  for (const Chunk& chunk : request->chunks) {
    bufs.push_back(uv_buf_init(const_cast<char*>(chunk.header.data()),
                               static_cast<unsigned>(chunk.header.size())));
    if (chunk.payload && !chunk.payload->empty()) {
      bufs.push_back(uv_buf_init(const_cast<char*>(chunk.payload->data()),
                                 static_cast<unsigned>(chunk.payload->size())));
    }
    if (chunk.tagged) {
      bufs.push_back(uv_buf_init(const_cast<char*>(chunk.tag.data()),
                                 static_cast<unsigned>(chunk.tag.size())));
    }
    request->bytes += chunk.size();
  }
  const int rc = uv_write(&request->request, tcp_.stream(), bufs.data(),
                          static_cast<unsigned>(bufs.size()), OnWrite);
  if (rc != 0) return rc;
  request.release();  // owned by OnWrite from here
  write_in_flight_ = true;
  return 0;
}

void BusConnection::OnWrite(uv_write_t* request, int status) {
  std::unique_ptr<WriteRequest> owned(static_cast<WriteRequest*>(request->data));
  if (owned->alive.expired()) return;
  BusConnection* c = owned->connection;
  if (c->closed_) return;
  c->write_in_flight_ = false;
  c->unsent_bytes_ -= owned->bytes;
  if (status < 0) {
    c->Fail(ErrorText("write", status));
    return;
  }
  if (const int rc = c->StartWrite(); rc != 0) c->Fail(ErrorText("write", rc));
}

void BusConnection::Close(std::shared_ptr<void> token) {
  closed_ = true;
  connecting_ = false;
  queue_.clear();
  held_.clear();
  tcp_.Close(std::move(token));
}

void BusConnection::Fail(std::string reason) {
  if (closed_) return;
  failure_reason_ = reason;
  Close();
  // Moved out first: the owner may destroy this connection (and its members) in the callback.
  std::function<void(const std::string&)> on_failure = std::move(callbacks_.on_failure);
  if (on_failure) on_failure(reason);
}

}  // namespace dynakv::cluster
