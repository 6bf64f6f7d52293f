// The Prometheus endpoint (metrics-port): GET /metrics over HTTP/1.1 on the node's own loop,
// answered with INFO's counters in the text exposition format (prometheus_text.h). A listener and
// connections of the net/ layer, as the client port has; nothing runs on another thread.
//
// Nothing listens unauthenticated once the node has a secret: with metrics-token set a scrape
// needs "Authorization: Bearer <token>" (or basic auth with the token as password); with a
// password on the default user (requirepass, ACL) basic auth as "default" (or an empty user name)
// with that password works too. Without either, as with protected-mode for clients, only
// loopback peers are served, unless protected-mode is off.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "http_request.h"
#include "listener_set.h"

namespace dynakv::server {

class Server;

class MetricsServer {
 public:
  // `server` (its config, ACL users and INFO) must outlive this.
  MetricsServer(uv_loop_t* loop, Server& server);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Listens on `port` at every address of `bind` (as the client port does, listener_set.h);
  // false with *error worded as the client port's.
  bool Start(const std::string& bind, int port, std::string* error);
  // CONFIG SET bind: closes the sockets and listens on the same port at `bind`'s addresses
  // instead (the connections served go on). False with *error when it cannot: nothing listens
  // then, and the caller rebinds to the old addresses. Not listening (no metrics-port, or
  // closed): nothing to do.
  bool Rebind(const std::string& bind, std::string* error);
  int port() const { return listening_ ? listeners_.port() : 0; }
  // Stops listening and closes every connection (the node is shutting down).
  void Close();

  // The response to one request (status line, headers, body), and whether the connection must
  // close after it. `loopback`: the peer is on 127.0.0.1 or ::1.
  struct Response {
    std::string bytes;
    bool close = false;
  };
  Response Respond(const HttpRequest& request, bool loopback);

 private:
  class Connection;
  void Accept(int fd);
  // Whether `request` may read the metrics; otherwise *status is the refusal (401, 403).
  bool Authorized(const HttpRequest& request, bool loopback, int* status);

  uv_loop_t* const loop_;
  Server& server_;
  ListenerSet listeners_;
  bool listening_ = false;
  int configured_port_ = 0;  // metrics-port as Start got it (0: an ephemeral port, kept)
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  // Connections' close callbacks hold a weak copy: they find this object gone at shutdown.
  std::shared_ptr<MetricsServer*> self_ = std::make_shared<MetricsServer*>(this);
};

}  // namespace dynakv::server
