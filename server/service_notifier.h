// Telling systemd how the node is doing (a Type=notify unit, packaging/dynakv.service): READY=1
// once the listeners are up and recovery is done, STOPPING=1 when shutdown begins, and, when the
// unit sets WatchdogSec, WATCHDOG=1 from the loop at half that period, so a loop stuck for longer
// gets the node restarted. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "net/uv_handle.h"

namespace dynakv::server {

class ServiceNotifier {
 public:
  explicit ServiceNotifier(uv_loop_t* loop) : loop_(loop) {}
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // READY=1 with `status` (systemctl status shows it), and the watchdog pings start.
  void Ready(const std::string& status);
  // STOPPING=1, once; the watchdog pings stop so the loop can end.
  void Stopping();
  bool watchdog_running() const { return static_cast<bool>(watchdog_); }

 private:
  static void OnWatchdog(uv_timer_t* timer);

  uv_loop_t* const loop_;
  net::UvHandle<uv_timer_t> watchdog_;
  bool stopping_ = false;
};

}  // namespace dynakv::server
