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
// Runs `which`'s function: called after the new values are in server.config(), with the values
// from before in `old`. false (with *reason in Redis's words) asks the caller to undo the change.
bool RunConfigApply(ConfigApply which, Server& server, const Config& old, std::string* reason);

}  // namespace dynakv::server
