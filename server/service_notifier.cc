#include "service_notifier.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace dynakv::server {

void ServiceNotifier::Ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status.c_str(), static_cast<int>(getpid()));
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  const std::uint64_t period_ms = usec / 2000 > 0 ? usec / 2000 : 1;
  if (watchdog_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this) != 0) return;
  if (uv_timer_start(watchdog_.get(), OnWatchdog, period_ms, period_ms) != 0) {
    watchdog_.Close();
    return;
  }
  uv_unref(watchdog_.base());  // the pings never keep a stopping node alive
}

void ServiceNotifier::Stopping() {
  if (stopping_) return;
  stopping_ = true;
  watchdog_.Close();
  sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
}

void ServiceNotifier::OnWatchdog(uv_timer_t* timer) { sd_notify(0, "WATCHDOG=1"); }

}  // namespace dynakv::server
