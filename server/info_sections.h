// INFO's sections (info.cc puts them together): each appends its "# Name\r\n" header and its
// "field:value\r\n" lines, Redis 7.0's fields first in Redis's order, dynakv's own after them.
#pragma once

#include <string>

#include "storage/engine.h"

namespace dynakv::server {

class Server;

void MemorySection(Server& server, const storage::EngineStats& engine, std::string* out);
void PersistenceSection(Server& server, const storage::EngineStats& engine, std::string* out);
void StatsSection(Server& server, const storage::EngineStats& engine, std::string* out);
// The cluster's own fields (cluster mode only), after Redis's "# Cluster".
void DynakvSection(Server& server, std::string* out);

}  // namespace dynakv::server
