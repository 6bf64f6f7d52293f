#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <string_view>
#include <utility>

#include "acl.h"
#include "ascii.h"
#include "info.h"
#include "latency_metrics.h"
#include "log.h"
#include "net/connection.h"
#include "prometheus_text.h"
#include "server.h"

namespace dynakv::server {
namespace {

constexpr int kBacklog = 128;
// A request head larger than this is refused (431): a scraper sends a few hundred bytes.
constexpr std::size_t kMaxHeadBytes = 16 * 1024;
// Scrapers keep their connection between scrapes (15 s to a minute apart).
constexpr std::uint64_t kIdleTimeoutMs = 120 * 1000;

// INFO's sections the metrics come from: every section, including the per-command ones, and
// dynakv's own cluster figures where INFO keeps them in a section of their own.
constexpr std::string_view kSections[] = {"everything", "commandstats", "errorstats",
                                          "latencystats", "dynakv"};

bool IsLoopback(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  if (addr.ss_family == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr);
  }
  return false;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

std::string HttpResponse(int status, std::string_view content_type, std::string_view body,
                         bool head_only, bool close, std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(Reason(status)) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace

// One scraper's connection: requests are answered in order, one write in flight at a time.
class MetricsServer::Connection final : private net::ConnectionHandler {
 public:
  Connection(uv_loop_t* loop, MetricsServer& owner) : owner_(owner), connection_(loop, this) {}

  int Accept(int fd) {
    connection_.set_idle_timeout(kIdleTimeoutMs);
    return connection_.Accept(fd);
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    std::weak_ptr<MetricsServer*> owner = owner_.self_;
    Connection* self = this;
    connection_.Close(std::make_shared<net::CloseBarrier>([owner, self] {
      if (auto alive = owner.lock()) (*alive)->connections_.erase(self);
    }));
  }

 private:
  std::span<char> ReadBuffer() override { return chunk_; }

  void OnRead(std::size_t n) override {
    if (finishing_) return;  // after the last response: the rest is dropped
    input_.append(chunk_.data(), n);
    Process();
  }

  void OnEof() override {
    peer_closed_ = true;
    if (!connection_.writing()) Close();
  }

  void OnReady() override {
    sockaddr_storage addr{};
    loopback_ = connection_.PeerName(&addr) == 0 && IsLoopback(addr);
    if (connection_.ReadStart() != 0) Close();
  }

  void OnFailure(const net::ConnectionFailure& failure) override { Close(); }

  void OnWriteDone() override {
    output_.clear();
    if (finishing_) return Finish();
    if (!peer_closed_ && connection_.ReadStart() != 0) return Close();
    Process();
    // A peer that half-closed after its requests gets every answer, then the connection goes.
    if (peer_closed_ && !connection_.writing() && !finishing_) Close();
  }

  // Answers the complete requests in input_, until a write has to wait.
  void Process() {
    while (!closing_ && !finishing_ && !connection_.writing()) {
      HttpRequest request;
      std::size_t consumed = 0;
      const HttpParse parsed = ParseHttpRequest(input_, &request, &consumed);
      Response response;
      if (parsed == HttpParse::kIncomplete) {
        if (input_.size() <= kMaxHeadBytes) return;
        response.bytes =
            HttpResponse(431, "text/plain; charset=utf-8", "request too large\n", false, true);
        response.close = true;
      } else if (parsed == HttpParse::kBad) {
        response.bytes =
            HttpResponse(400, "text/plain; charset=utf-8", "bad request\n", false, true);
        response.close = true;
      } else {
        input_.erase(0, consumed);
        response = owner_.Respond(request, loopback_);
      }
      if (response.close) finishing_ = true;
      output_ = std::move(response.bytes);
      switch (connection_.Write(output_)) {
        case net::Connection::WriteResult::kDone:
          output_.clear();
          if (finishing_) return Finish();
          break;
        case net::Connection::WriteResult::kPending:
          // Backpressure: a peer that pipelines requests without reading the answers is not
          // read from (its requests do not pile up here) until this one has gone.
          connection_.ReadStop();
          return;  // OnWriteDone goes on
        case net::Connection::WriteResult::kFailed:
          return Close();
      }
    }
  }

  // The last response is out: half-close, so the peer reads it all before the socket goes (a
  // close with unread input would reset the connection and could lose the response).
  void Finish() {
    finishing_ = true;
    if (peer_closed_ || connection_.ShutdownWrite() != 0) Close();
  }

  MetricsServer& owner_;
  net::Connection connection_;
  std::array<char, 4096> chunk_{};
  std::string input_;
  std::string output_;  // the write in flight
  bool loopback_ = false;
  bool finishing_ = false;
  bool peer_closed_ = false;
  bool closing_ = false;
};

MetricsServer::MetricsServer(uv_loop_t* loop, Server& server)
    : loop_(loop), server_(server), listeners_(loop) {}

MetricsServer::~MetricsServer() {
  self_.reset();  // close callbacks still to come find nothing to erase
  Close();
}

bool MetricsServer::Start(const std::string& bind, int port, std::string* error) {
  net::Listener::Callbacks callbacks{[this](int fd) { Accept(fd); },
                                     [](int, bool) {},  // the connection stays queued
                                     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                     "Connection: close\r\n\r\n"};
  if (listeners_.Listen(bind, port, kBacklog, callbacks, "metrics", error) != 0) {
    listening_ = false;
    return false;
  }
  listening_ = true;
  // An ephemeral port (0) stays the one first bound.
  configured_port_ = port != 0 ? port : listeners_.port();
  return true;
}

bool MetricsServer::Rebind(const std::string& bind, std::string* error) {
  if (configured_port_ == 0) return true;  // never listened, or closed for good
  return Start(bind, configured_port_, error);
}

void MetricsServer::Close() {
  configured_port_ = 0;
  listeners_.Close();
  listening_ = false;
  for (auto& [raw, connection] : connections_) connection->Close();
  if (!self_) connections_.clear();  // destroying: nothing will erase them later
}

void MetricsServer::Accept(int fd) {
  auto owned = std::make_unique<Connection>(loop_, *this);
  Connection* connection = owned.get();
  connections_.emplace(connection, std::move(owned));
  if (connection->Accept(fd) != 0) connection->Close();
}

bool MetricsServer::Authorized(const HttpRequest& request, bool loopback, int* status) {
  const std::string& token = server_.config().metrics_token;
  const AclUser& default_user = server_.acl().default_user();
  const bool default_has_password = !default_user.nopass() || !default_user.enabled();
  if (token.empty() && !default_has_password) {
    // No secret anywhere: the node serves its clients unauthenticated too, and protected mode
    // decides who may connect.
    if (server_.config().protected_mode && !loopback) {
      *status = 403;
      return false;
    }
    return true;
  }
  *status = 401;
  const std::string* header = request.Header("Authorization");
  if (header == nullptr) return false;
  const std::string_view value = *header;
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view scheme = value.substr(0, space);
  std::string_view credentials = value.substr(space + 1);
  while (credentials.starts_with(' ')) credentials.remove_prefix(1);
  if (EqualsIgnoreCase(scheme, "Bearer")) {
    return !token.empty() && SecretEquals(credentials, token);
  }
  if (!EqualsIgnoreCase(scheme, "Basic")) return false;
  std::string decoded;
  if (!DecodeBase64(credentials, &decoded)) return false;
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view user = std::string_view(decoded).substr(0, colon);
  const std::string_view password = std::string_view(decoded).substr(colon + 1);
  if (!token.empty() && SecretEquals(password, token)) return true;
  // The default user's password (requirepass or ACL), as AUTH <password> checks it.
  if (!user.empty() && user != "default") return false;
  return !default_user.nopass() && default_user.enabled() && default_user.CheckPassword(password);
}

MetricsServer::Response MetricsServer::Respond(const HttpRequest& request, bool loopback) {
  Response response;
  response.close = !request.keep_alive();
  const bool head = request.method == "HEAD";
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  if (request.path() != "/metrics") {
    response.bytes =
        HttpResponse(404, kText, "not found: the metrics are at /metrics\n", head, response.close);
    return response;
  }
  if (request.method != "GET" && !head) {
    response.bytes = HttpResponse(405, kText, "method not allowed\n", false, response.close,
                                  "Allow: GET, HEAD\r\n");
    return response;
  }
  int status = 0;
  if (!Authorized(request, loopback, &status)) {
    if (status == 401) {
      response.bytes = HttpResponse(
          401, kText, "authentication required: metrics-token or the default user's password\n",
          head, response.close, "WWW-Authenticate: Basic realm=\"dynakv\", charset=\"UTF-8\"\r\n");
    } else {
      response.bytes = HttpResponse(
          403, kText,
          "protected mode: metrics are served to loopback clients only while no password or "
          "metrics-token is set\n",
          head, response.close);
    }
    return response;
  }
  const std::string body = InfoToPrometheus(GenerateInfo(server_, kSections)) +
                           CommandLatencyHistograms(server_.commands(), server_.command_stats());
  response.bytes =
      HttpResponse(200, "text/plain; version=0.0.4; charset=utf-8", body, head, response.close);
  return response;
}

}  // namespace dynakv::server
