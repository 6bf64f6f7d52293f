// What a CONFIG SET of a run-time parameter changes beyond server.config(): the parts of the node
// that hold their own copy of a setting. Each function makes them follow config() (the new
// values), given the values from before.

#include "config_apply.h"

#include <string>

#include "cluster/cluster_node.h"
#include "log.h"
#include "open_files.h"
#include "server.h"
#include "storage/engine.h"
#include "tls_config.h"
#include "types/codec.h"

namespace dynakv::server {
namespace {

bool ApplyListeners(Server& server, const Config& old, std::string* reason) {
  const Config& config = server.config();
  if (config.port != old.port && server.cluster_node() != nullptr) {
    // The other members reach this node (and its bus, port + cluster-port-offset) at the port
    // cluster-nodes gives them.
    *reason = "the port can't change in cluster mode: the other members know this node by it";
    return false;
  }
  return server.Rebind(old, reason);
}

bool ApplyTlsPort(Server& server, const Config& old, std::string* reason) {
  return server.ChangeTlsPort(server.config(), TlsContextChanged(old, server.config()), reason);
}

bool ApplyTls(Server& server, const Config& old, std::string* reason) {
  const Config& config = server.config();
  // A tls-port change builds its context itself (ApplyTlsPort).
  if (config.tls_port != old.tls_port || !TlsContextChanged(old, config)) return true;
  if (!server.ReloadTls(config)) {
    *reason = kTlsUpdateFailed;
    return false;
  }
  return true;
}

bool ApplyAcl(Server& server, const Config& old, std::string*) {
  const Config& config = server.config();
  if (config.requirepass != old.requirepass) server.acl().SetDefaultPassword(config.requirepass);
  server.acl().set_log_max_len(static_cast<std::size_t>(config.acllog_max_len));
  server.acl().set_all_channels_by_default(config.acl_pubsub_default ==
                                           AclPubsubDefault::kAllChannels);
  return true;
}

bool ApplyMaxclients(Server& server, const Config& old, std::string* reason) {
  const Config& config = server.config();
  if (config.maxclients <= old.maxclients) return true;
  const OpenFilesFit fit = AdjustOpenFilesLimit(
      config.maxclients, ReservedFds(config.cluster_enabled), server.log_level());
  if (fit.maxclients >= config.maxclients) return true;
  *reason =
      "The operating system is not able to handle the specified number of clients, try with " +
      std::to_string(fit.maxclients);
  return false;
}

bool ApplyHz(Server& server, const Config&, std::string*) {
  server.RestartCron();
  return true;
}

bool ApplyLatencyMonitor(Server& server, const Config&, std::string*) {
  server.WatchEngineLatency();
  return true;
}

bool ApplyLoglevel(Server& server, const Config&, std::string*) {
  LogLevel level = LogLevel::kNotice;
  ParseLogLevel(server.config().loglevel, &level);
  server.set_log_level(level);
  return true;
}

bool ApplyMaxmemory(Server& server, const Config& old, std::string*) {
  const Config& config = server.config();
  storage::Engine& engine = server.engine();
  if (config.maxmemory != old.maxmemory) engine.SetMaxMemory(config.maxmemory);
  if (config.maxmemory_policy != old.maxmemory_policy) {
    engine.SetEvictionPolicy(config.maxmemory_policy);
  }
  engine.SetEvictionTuning(EvictionTuningOf(config));
  // Redis's updateMaxmemory: a lower limit evicts at once, not at the next write.
  if (config.maxmemory != 0 && (old.maxmemory == 0 || config.maxmemory < old.maxmemory)) {
    engine.PerformEvictions();
  }
  return true;
}

bool ApplyAppendfsync(Server& server, const Config&, std::string*) {
  server.engine().SetFsyncPolicy(server.config().appendfsync);
  // Hints are acknowledged writes too: as durable as the node's own.
  if (server.cluster_node() != nullptr) {
    server.cluster_node()->SetFsyncPolicy(server.config().appendfsync);
  }
  return true;
}

bool ApplyCompressionThreshold(Server& server, const Config&, std::string*) {
  server.engine().SetCompressionThreshold(server.config().compression_threshold);
  server.engine().SetHotValueReads(static_cast<std::uint32_t>(server.config().hot_value_reads));
  return true;
}

bool ApplyTypeLimits(Server& server, const Config&, std::string*) {
  if (server.codec() != nullptr) server.codec()->mutable_limits() = ToTypeLimits(server.config());
  return true;
}

}  // namespace

bool RunConfigApply(ConfigApply which, Server& server, const Config& old, std::string* reason) {
  switch (which) {
    case ConfigApply::kNone:
      return true;
    case ConfigApply::kListeners:
      return ApplyListeners(server, old, reason);
    case ConfigApply::kTlsPort:
      return ApplyTlsPort(server, old, reason);
    case ConfigApply::kTls:
      return ApplyTls(server, old, reason);
    case ConfigApply::kAcl:
      return ApplyAcl(server, old, reason);
    case ConfigApply::kMaxclients:
      return ApplyMaxclients(server, old, reason);
    case ConfigApply::kHz:
      return ApplyHz(server, old, reason);
    case ConfigApply::kLatencyMonitor:
      return ApplyLatencyMonitor(server, old, reason);
    case ConfigApply::kLoglevel:
      return ApplyLoglevel(server, old, reason);
    case ConfigApply::kMaxmemory:
      return ApplyMaxmemory(server, old, reason);
    case ConfigApply::kAppendfsync:
      return ApplyAppendfsync(server, old, reason);
    case ConfigApply::kCompressionThreshold:
      return ApplyCompressionThreshold(server, old, reason);
    case ConfigApply::kTypeLimits:
      return ApplyTypeLimits(server, old, reason);
  }
  return true;
}

}  // namespace dynakv::server
