// INFO: the node's state as Redis-style "# Section\r\nfield:value\r\n" text, plus the memory
// figures it reports.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dynakv::server {

class Server;

// `sections` are INFO's arguments: none means the default sections; "all", "everything" and
// "default" select groups; names are case-insensitive and unknown ones select nothing.
std::string GenerateInfo(Server& server, std::span<const std::string_view> sections);

// Bytes allocated by the process: jemalloc's stats.allocated when jemalloc is linked in (the
// server executable), else the resident set size.
std::uint64_t UsedMemoryBytes();
std::uint64_t RssBytes();
bool UsingJemalloc();

}  // namespace dynakv::server
