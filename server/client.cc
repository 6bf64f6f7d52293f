#include "client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "command_table.h"
#include "format.h"
#include "log.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// Reads are offered at least this much free buffer (Redis's PROTO_IOBUF_LEN). The buffer
// doubles when a large request needs more, so a big bulk is read in few system calls.
constexpr std::size_t kReadChunk = 16 * 1024;
// Buffers grown beyond this by one large request or reply are released once empty; smaller ones
// are kept while the client is busy (ReleaseIdleBuffers frees them once it goes quiet). A
// pipeline of 16 replies of 16 KB is 256 KB: releasing and regrowing that per batch cost a page
// fault per 4 KB of reply and cut such GETs to a sixth on a VM where faults are slow.
constexpr std::size_t kKeepBufferBytes = 1024 * 1024;

void ReleaseIfLarge(std::string* buffer) {
  if (buffer->empty() && buffer->capacity() > kKeepBufferBytes) std::string().swap(*buffer);
}

// "ip:port", with IPv6 addresses in brackets as Redis formats them.
std::string FormatAddress(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(in, ip, sizeof(ip));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(in6, ip, sizeof(ip));
    port = ntohs(in6->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace

Client::Client(Server& server, std::uint64_t id) : server_(server), id_(id), writer_(&out_) {
  tcp_.data = this;
  write_req_.data = this;
}

int Client::Init(uv_loop_t* loop) {
  const int rc = uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  return rc;
}

void Client::Start() {
  created_ms_ = last_interaction_ms_ = uv_now(server_.loop());
  uv_tcp_nodelay(&tcp_, 1);
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    address_ = FormatAddress(addr);
  }
  len = sizeof(addr);
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    local_address_ = FormatAddress(addr);
  }
  SetDefaultUser();
  StartReading();
}

void Client::SetDefaultUser() {
  const AclUser& user = server_.acl().default_user();
  set_user(&user, user.nopass() && user.enabled());
}

void Client::RejectAndClose(std::string_view reply) {
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reply.data()), static_cast<unsigned>(reply.size()));
  uv_try_write(stream(), &buf, 1);
  // Closing now, with the peer's first request unread, would answer it with a RST, and a RST makes
  // the peer's kernel drop the refusal before the client reads it. So: half-close, read and drop
  // whatever it sends, and close at its EOF (the server's cron closes one that lingers).
  rejected_ = true;
  created_ms_ = last_interaction_ms_ = uv_now(server_.loop());
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0 || ::shutdown(fd, SHUT_WR) != 0) {
    Close();
    return;
  }
  StartReading();
}

void Client::Close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClosed);
}

void Client::OnClosed(uv_handle_t* handle) {
  Client* client = static_cast<Client*>(handle->data);
  client->server_.ClientClosed(client);  // destroys the client
}

void Client::CloseAfterReply() {
  close_after_reply_ = true;
  StopReading();
}

void Client::StartReading() {
  if (reading_ || closing_ || peer_closed_) return;
  if (uv_read_start(stream(), OnAlloc, OnRead) == 0) {
    reading_ = true;
  } else {
    Close();
  }
}

void Client::StopReading() {
  if (!reading_) return;
  uv_read_stop(stream());
  reading_ = false;
}

void Client::OnAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) {
  Client* c = static_cast<Client*>(handle->data);
  std::string& in = c->input_;
  if (in.size() - c->input_end_ < kReadChunk) {
    // Reclaim the space of requests already run before growing. The parser keeps offsets
    // relative to the request it is in, so moving the unread bytes is safe.
    if (c->input_start_ > 0) {
      std::memmove(in.data(), in.data() + c->input_start_, c->input_end_ - c->input_start_);
      c->input_end_ -= c->input_start_;
      c->input_start_ = 0;
    }
    if (in.size() - c->input_end_ < kReadChunk) {
      in.resize(std::max(in.size() * 2, c->input_end_ + kReadChunk));
    }
  }
  *buf = uv_buf_init(in.data() + c->input_end_, static_cast<unsigned>(std::min<std::size_t>(
                                                     in.size() - c->input_end_, 1u << 30)));
}

void Client::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Client* c = static_cast<Client*>(stream->data);
  if (nread == 0) return;  // EAGAIN: nothing this time
  if (c->rejected_) {  // RejectAndClose: its input is dropped (never kept in input_)
    if (nread < 0) c->Close();
    return;
  }
  if (nread < 0) {
    // A peer that half-closed after its last request still gets the replies (the EOF often
    // arrives in the same read pass as the requests); on errors there is no one to send to.
    if (nread == UV_EOF) {
      c->peer_closed_ = true;
      c->StopReading();
      c->CloseWhenAnswered();
    } else {
      c->Close();
    }
    return;
  }
  c->input_end_ += static_cast<std::size_t>(nread);
  c->server_.stats().total_net_input_bytes += static_cast<std::uint64_t>(nread);
  c->last_interaction_ms_ = uv_now(c->server_.loop());
  if (c->input_end_ - c->input_start_ > c->server_.config().client_query_buffer_limit) {
    Log(c->server_.log_level(), LogLevel::kWarning,
        "Closing client that reached max query buffer length: id=%llu addr=%s",
        static_cast<unsigned long long>(c->id_), c->address_.c_str());
    c->Close();
    return;
  }
  c->ProcessInput();
}

void Client::RefreshParserLimits() {
  const Config& config = server_.config();
  resp::ParserLimits limits;
  limits.max_bulk_len = config.proto_max_bulk_len;
  limits.max_multibulk_len = config.proto_max_multibulk_len;
  limits.unauthenticated = server_.AuthRequired(*this);
  parser_.set_limits(limits);
}

void Client::ProcessInput() {
  const Config& config = server_.config();
  const std::uint64_t soft_limit = config.client_output_buffer_soft_limit;
  RefreshParserLimits();
  LimitOutput();  // CONFIG SET may have changed the hard limit
  while (!closing_ && !close_after_reply_ && !command_in_flight_) {
    if (soft_limit != 0 && PendingOutput() > soft_limit) {
      // Backpressure: neither read nor run more until the peer takes what it was sent.
      paused_ = true;
      StopReading();
      break;
    }
    std::size_t consumed = 0;
    const std::string_view pending(input_.data() + input_start_, input_end_ - input_start_);
    const resp::ParseStatus status = parser_.Parse(pending, &consumed, &argv_);
    if (status == resp::ParseStatus::kNeedMore) break;
    if (status == resp::ParseStatus::kError) {
      Log(server_.log_level(), LogLevel::kVerbose, "Protocol error (%s) from client: id=%llu addr=%s",
          parser_.error().c_str(), static_cast<unsigned long long>(id_), address_.c_str());
      writer_.Error("ERR " + parser_.error());
      input_start_ = input_end_ = 0;
      CloseAfterReply();
      break;
    }
    if (!argv_.empty()) server_.commands().Dispatch(server_, *this, argv_, writer_);
    input_start_ += consumed;
    if (CloseIfOverOutputLimit()) return;
    // AUTH, HELLO AUTH and RESET change which request sizes are acceptable.
    if (parser_.limits().unauthenticated != server_.AuthRequired(*this)) RefreshParserLimits();
  }
  if (input_start_ == input_end_) input_start_ = input_end_ = 0;
  if (closing_) return;
  if (!out_.empty()) {
    server_.ScheduleFlush(*this);
  } else if (close_after_reply_ && PendingOutput() == 0) {
    Close();
  }
}

void Client::LimitOutput() {
  const std::uint64_t hard_limit = server_.config().client_output_buffer_hard_limit;
  const std::size_t inflight = inflight_.size() - inflight_sent_;
  std::size_t limit = 0;
  if (hard_limit != 0) limit = hard_limit > inflight ? hard_limit - inflight : 1;
  writer_.set_limit(limit);
}

bool Client::CloseIfOverOutputLimit() {
  if (closing_) return true;
  const std::uint64_t hard_limit = server_.config().client_output_buffer_hard_limit;
  // over_limit(): the writer dropped a reply, so the stream is cut short whatever the total.
  if (!writer_.over_limit() && (hard_limit == 0 || PendingOutput() <= hard_limit)) return false;
  CloseForOutputLimit();
  return true;
}

void Client::CloseForOutputLimit() {
  if (closing_) return;
  std::string info = Describe(uv_now(server_.loop()));
  if (!info.empty() && info.back() == '\n') info.pop_back();
  Log(server_.log_level(), LogLevel::kWarning,
      "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
      info.c_str());
  Close();
}

void Client::CloseWhenAnswered() {
  // Requests still queued behind a command in flight run when it finishes.
  if (closing_ || command_in_flight_) return;
  if (PendingOutput() > 0) {
    CloseAfterReply();
  } else {
    Close();
  }
}

void Client::FinishAsyncCommand() {
  command_in_flight_ = false;
  // The local replica's part of the write is in the log buffer: the reply waits for it.
  if (last_command_ != nullptr && (last_command_->flags & kCmdWrite)) {
    NoteLogWrite(server_.engine().LogEnd());
  }
  if (closing_ || CloseIfOverOutputLimit()) return;
  last_interaction_ms_ = uv_now(server_.loop());
  if (!paused_) ProcessInput();
  if (!out_.empty()) server_.ScheduleFlush(*this);
  if (peer_closed_) CloseWhenAnswered();
}

void Client::Flush() {
  if (closing_ || writing_) return;
  if (out_.empty()) {
    OnOutputProgress();
    return;
  }
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  const int rc = uv_try_write(stream(), &buf, 1);
  if (rc < 0 && rc != UV_EAGAIN) {
    Close();
    return;
  }
  const std::size_t written = rc < 0 ? 0 : static_cast<std::size_t>(rc);
  server_.stats().total_net_output_bytes += written;
  if (written == out_.size()) {
    out_.clear();
    ReleaseIfLarge(&out_);
    last_interaction_ms_ = uv_now(server_.loop());
    OnOutputProgress();
    return;
  }
  // The socket is full: hand the rest to libuv, which needs the bytes to stay put until
  // OnWriteDone, and let new replies accumulate in out_ meanwhile.
  inflight_.swap(out_);
  out_.clear();
  inflight_sent_ = written;
  LimitOutput();
  uv_buf_t rest = uv_buf_init(inflight_.data() + written,
                              static_cast<unsigned>(inflight_.size() - written));
  if (uv_write(&write_req_, stream(), &rest, 1, OnWriteDone) != 0) {
    Close();
    return;
  }
  writing_ = true;
}

void Client::OnWriteDone(uv_write_t* req, int status) {
  Client* c = static_cast<Client*>(req->data);
  c->writing_ = false;
  if (status < 0) {  // peer gone, or the write was cancelled by Close()
    c->Close();
    return;
  }
  c->server_.stats().total_net_output_bytes += c->inflight_.size() - c->inflight_sent_;
  c->inflight_.clear();
  c->inflight_sent_ = 0;
  ReleaseIfLarge(&c->inflight_);
  c->LimitOutput();
  c->last_interaction_ms_ = uv_now(c->server_.loop());
  if (!c->out_.empty()) c->server_.ScheduleFlush(*c);
  c->OnOutputProgress();
}

void Client::OnOutputProgress() {
  if (closing_) return;
  if (close_after_reply_) {
    if (PendingOutput() == 0) Close();
    return;
  }
  const std::uint64_t soft_limit = server_.config().client_output_buffer_soft_limit;
  if (paused_ && (soft_limit == 0 || PendingOutput() <= soft_limit)) {
    paused_ = false;
    ProcessInput();
    if (!paused_) StartReading();
  }
}

void Client::FlushBestEffort() {
  if (closing_ || writing_ || out_.empty()) return;
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  const int rc = uv_try_write(stream(), &buf, 1);
  if (rc > 0) server_.stats().total_net_output_bytes += static_cast<std::uint64_t>(rc);
}

void Client::ReleaseIdleBuffers() {
  if (input_start_ == input_end_ && input_.size() > 0) {
    std::string().swap(input_);
    input_start_ = input_end_ = 0;
  }
  if (out_.empty() && out_.capacity() > 0) std::string().swap(out_);
  if (!writing_ && inflight_.capacity() > 0) std::string().swap(inflight_);
}

std::string Client::Describe(std::uint64_t now_ms) const {
  const std::uint64_t age = (now_ms - created_ms_) / 1000;
  const std::uint64_t idle = (now_ms - last_interaction_ms_) / 1000;
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd);
  const std::size_t query = input_end_ - input_start_;
  const std::size_t total_memory = sizeof(Client) + input_.capacity() + out_.capacity() +
                                   inflight_.capacity() +
                                   argv_.capacity() * sizeof(std::string_view);
  const std::string command =
      last_command_ != nullptr ? FullName(*last_command_, last_command_parent_) : "NULL";
  // "b" as Redis marks a blocked client: here, one whose command waits for replicas.
  const char* flags = command_in_flight_ ? "b" : "N";
  std::string events;
  if (reading_) events += 'r';
  if (writing_ || !out_.empty()) events += 'w';
  std::string line;
  AppendPrintf(
      &line,
      "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=0 sub=0 psub=0 "
      "ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu "
      "oll=%d omem=%zu tot-mem=%zu events=%s cmd=%.*s user=%s redir=-1 resp=%d "
      "lib-name=%s lib-ver=%s\n",
      static_cast<unsigned long long>(id_), address_.c_str(), local_address_.c_str(),
      static_cast<int>(fd), name_.c_str(), static_cast<unsigned long long>(age),
      static_cast<unsigned long long>(idle), flags, query, input_.size() - input_end_,
      argv_.size() * sizeof(std::string_view), input_.size(), input_.size(), out_.size(),
      writing_ ? 1 : 0, inflight_.size() - inflight_sent_, total_memory, events.c_str(),
      static_cast<int>(command.size()), command.data(),
      user_ != nullptr ? user_->name().c_str() : "default", writer_.protocol(), lib_name_.c_str(),
      lib_version_.c_str());
  return line;
}

}  // namespace dynakv::server
