// printf-style formatting into std::string, for the text replies (INFO, CLIENT LIST) that Redis
// builds the same way.
#pragma once

#include <string>

namespace dynakv::server {

void AppendPrintf(std::string* out, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace dynakv::server
