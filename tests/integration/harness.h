// Harness for the integration tests: real server processes on 127.0.0.1 driven over TCP by
// hiredis (Client) or raw bytes (RawSocket). Every wait is bounded: a hung server fails the test
// instead of hanging it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client.h"
#include "raw_socket.h"
#include "reply.h"
#include "server_process.h"

namespace dynakv::itest {

// A started server and one client connected to it: the fixture most tests use.
struct ServerFixture {
  explicit ServerFixture(Flags flags = {});
  ServerProcess server;
  Client client;
};

// `n` bytes from a seeded generator: incompressible test data.
std::string RandomBytes(std::size_t n, std::uint64_t seed);

// Encodes argv as a RESP multibulk request.
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace dynakv::itest
