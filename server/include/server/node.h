// Entry point of a dynakv node: parses flags and config, serves clients until SHUTDOWN or
// SIGTERM/SIGINT, and returns the process exit code.
#pragma once

namespace dynakv::server {

int RunNode(int argc, char** argv);

}  // namespace dynakv::server
