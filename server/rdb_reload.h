// Reloading the RDB file of an import at start that completed but that no checkpoint saved
// before the node stopped (rdb_import_marker.h's unsaved state). It runs inside the engine's
// recovery (storage Options::reload), before the writes made after the import are replayed, and
// writes what the import wrote: every key of the file but those expired by now, into its
// database, replacing what the key held. No server exists yet: the keys go to the engine.
#pragma once

#include <cstdint>
#include <string>

#include "storage/engine.h"
#include "types/value_type.h"

namespace dynakv::server {

// Corruption (with the offset and the reason) when the file no longer reads as it did, or holds
// a key of a database beyond `databases`; IoError when it cannot be read.
storage::Status ReloadRdbImport(storage::Engine& engine, const std::string& path,
                                const types::TypeLimits& limits, std::uint32_t databases);

}  // namespace dynakv::server
