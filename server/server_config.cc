// Server's run-time reconfiguration: CONFIG SET's new values taking effect (ApplyConfig runs the
// table's apply functions, undoing them all when one fails), and the listeners and TLS contexts
// rebuilt for bind, port and tls-* changes.

#include <algorithm>

#include "cluster/cluster_node.h"
#include "cluster_config.h"
#include "config_apply.h"
#include "server.h"
#include "tls_config.h"

namespace dynakv::server {

bool Server::ApplyConfig(const Config& config, std::span<const ConfigParam* const> changed,
                         const ConfigParam** failed, std::string* reason) {
  const Config old = config_;
  config_ = config;
  // Each function once, in the order its first parameter was named (Redis's apply order).
  std::vector<ConfigApply> ran;
  for (const ConfigParam* param : changed) {
    if (param->apply == ConfigApply::kNone || std::find(ran.begin(), ran.end(), param->apply) != ran.end()) {
      continue;
    }
    if (param->format(old) == param->format(config_)) continue;
    if (RunConfigApply(param->apply, *this, old, reason)) {
      ran.push_back(param->apply);
      continue;
    }
    *failed = param;
    Log(log_level_, LogLevel::kWarning,
        "Failed applying new configuration. Possibly related to new %.*s setting. Restoring "
        "previous settings.",
        static_cast<int>(param->name.size()), param->name.data());
    // Back to the old values, which the functions that ran are told about as a change.
    const Config undone = config_;
    config_ = old;
    for (ConfigApply apply : ran) {
      std::string ignored;
      if (!RunConfigApply(apply, *this, undone, &ignored)) {
        Log(log_level_, LogLevel::kWarning, "Restoring the previous settings failed: %s",
            ignored.c_str());
      }
    }
    return false;
  }
  return true;
}

void Server::RestartCron() {
  if (cron_) uv_timer_start(cron_.get(), OnCron, CronIntervalMs(), CronIntervalMs());
}

bool Server::Rebind(const Config& old, std::string* reason) {
  if (config_.port == 0 && config_.tls_port == 0) {
    *reason = "port and tls-port can't both be 0: the node would not listen anywhere";
    return false;
  }
  std::string error;
  auto plain = std::make_unique<ListenerSet>(loop_);
  if (config_.bind == old.bind) {
    // A new port opens before the old one closes, so a failure leaves the node as it was
    // (Redis's changeListenPort).
    if (config_.port != 0 && Listen(*plain, config_.bind, config_.port, false, &error) != 0) {
      Log(log_level_, LogLevel::kWarning, "Warning: %s", error.c_str());
      *reason = "Unable to listen on this port. Check server logs.";
      return false;
    }
    listener_->Close();
    listener_ = std::move(plain);
    port_ = config_.port != 0 ? listener_->port() : 0;
    return true;
  }
  // A new address closes the old sockets first, since the new one may need the same port (0.0.0.0
  // after 127.0.0.1), and reopens them when it cannot bind, as Redis's changeBindAddr.
  auto tls = std::make_unique<ListenerSet>(loop_);
  auto listen_on = [&](const std::string& bind, int port) {
    listener_->Close();
    tls_listener_->Close();
    plain = std::make_unique<ListenerSet>(loop_);
    tls = std::make_unique<ListenerSet>(loop_);
    return (port == 0 || Listen(*plain, bind, port, false, &error) == 0) &&
           (tls_port_ == 0 || Listen(*tls, bind, tls_port_, true, &error) == 0) &&
           (!bind_hook_ || bind_hook_(bind, &error));
  };
  bool ok = listen_on(config_.bind, config_.port);
  if (!ok) {
    Log(log_level_, LogLevel::kWarning, "Warning: %s", error.c_str());
    Log(log_level_, LogLevel::kWarning, "Failed to bind");
    *reason = "Failed to bind to specified addresses.";
    if (!listen_on(old.bind, old.port)) {
      Log(log_level_, LogLevel::kWarning, "Could not listen on the previous address again: %s",
          error.c_str());
    }
  }
  listener_ = std::move(plain);
  tls_listener_ = std::move(tls);
  port_ = listener_->port();
  return ok;
}

bool Server::ReloadTls(const Config& config) {
  // The client port's context is built first and installed last, so a bus context that fails
  // leaves both as they were.
  std::shared_ptr<net::TlsContext> context;
  std::string reason;
  if (config.tls_port != 0) {  // else nothing uses it, as in Redis
    context = BuildTlsContext(config, &reason);
    if (!context) {
      Log(log_level_, LogLevel::kWarning, "%s", reason.c_str());
      return false;
    }
  }
  if (cluster_node_ != nullptr && config.tls_cluster &&
      !cluster_node_->ReloadTls(BusTlsOptions(config), &reason)) {
    Log(log_level_, LogLevel::kWarning, "%s", reason.c_str());
    return false;
  }
  if (context) tls_context_ = std::move(context);
  return true;
}

bool Server::ChangeTlsPort(const Config& config, bool rebuild_context, std::string* reason) {
  if (config.tls_port == 0 && config.port == 0) {
    *reason = "port and tls-port can't both be 0: the node would not listen anywhere";
    return false;
  }
  if (config.tls_port == 0) {
    tls_listener_->Close();
    tls_port_ = 0;
    return true;
  }
  // A context kept from before the port was closed may predate CONFIG SETs of its files.
  std::shared_ptr<net::TlsContext> context = tls_context_;
  if (tls_port_ == 0 || rebuild_context) {
    std::string why;
    context = BuildTlsContext(config, &why);
    if (!context) {
      Log(log_level_, LogLevel::kWarning, "%s", why.c_str());
      *reason = kTlsUpdateFailed;
      return false;
    }
  }
  // The new port opens before the old one closes, so a failure leaves the node as it was.
  auto listener = std::make_unique<ListenerSet>(loop_);
  std::string error;
  if (Listen(*listener, config.bind, config.tls_port, true, &error) != 0) {
    Log(log_level_, LogLevel::kWarning, "%s", error.c_str());
    *reason = "Unable to listen on this port. Check server logs.";
    return false;
  }
  tls_listener_->Close();
  tls_listener_ = std::move(listener);
  tls_context_ = std::move(context);
  tls_port_ = tls_listener_->port();
  return true;
}

}  // namespace dynakv::server
