// Log lines on stderr in Redis's format ("pid:M 12 Mar 2024 10:00:00.123 * message"), so tools
// and people used to reading Redis logs read these the same way.
#pragma once

#include <string_view>

namespace dynakv::server {

enum class LogLevel { kDebug, kVerbose, kNotice, kWarning };

// Parses a loglevel name as Redis spells it: debug, verbose, notice, warning.
bool ParseLogLevel(std::string_view name, LogLevel* level);

// Writes the line when `level` is at least `threshold`.
void Log(LogLevel threshold, LogLevel level, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace dynakv::server
