// The apply functions of the config table's run-time parameters (config_params.cc): each makes
// the parts of a running node that keep their own copy of a setting (the storage engine, the
// hint store, the listeners, the ACL, the codec, the cron timer) follow a CONFIG SET. They run
// after the new values are in server.config(); `old` holds the values from before. On false,
// *reason is Redis's CONFIG SET wording and the node is as it was before the call.
#pragma once

#include <string>

#include "config.h"

namespace dynakv::server {

class Server;

// bind, port: listens on the new address or port before closing the old listeners (both the
// plain and the TLS one, as Redis's changeBindAddr / changeListenPort).
bool ApplyListeners(Server& server, const Config& old, std::string* reason);
bool ApplyTlsPort(Server& server, const Config& old, std::string* reason);
// tls-*: a new context for the connections accepted from now on (and the bus's, tls-cluster).
bool ApplyTls(Server& server, const Config& old, std::string* reason);
// requirepass, acllog-max-len, acl-pubsub-default.
bool ApplyAcl(Server& server, const Config& old, std::string* reason);
// Raises the open-file limit for more clients, or refuses as Redis does.
bool ApplyMaxclients(Server& server, const Config& old, std::string* reason);
bool ApplyHz(Server& server, const Config& old, std::string* reason);
// The engine times its expiry and eviction work against latency-monitor-threshold.
bool ApplyLatencyMonitor(Server& server, const Config& old, std::string* reason);
bool ApplyLoglevel(Server& server, const Config& old, std::string* reason);
// maxmemory, maxmemory-policy and the eviction knobs; a lower limit evicts at once.
bool ApplyMaxmemory(Server& server, const Config& old, std::string* reason);
// The node's commit log and, in cluster mode, the hint store's.
bool ApplyAppendfsync(Server& server, const Config& old, std::string* reason);
// compression-threshold and hot-value-reads.
bool ApplyCompressionThreshold(Server& server, const Config& old, std::string* reason);
// The typed value encodings' thresholds (types::TypeLimits).
bool ApplyTypeLimits(Server& server, const Config& old, std::string* reason);

}  // namespace dynakv::server
