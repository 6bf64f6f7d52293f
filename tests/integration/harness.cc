#include "harness.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

namespace dynakv::itest {
namespace {

ServerProcess& Started(ServerProcess& server) {
  server.Start();
  return server;
}

}  // namespace

ServerFixture::ServerFixture(Flags flags)
    : server(std::move(flags)), client(Started(server).port()) {
  REQUIRE_MESSAGE(client.ok(), "cannot connect: ", client.error());
}

std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  // splitmix64: fast, and different seeds give unrelated streams.
  std::string out(n, '\0');
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(out.data() + i, &z, std::min<std::size_t>(8, n - i));
  }
  return out;
}

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

}  // namespace dynakv::itest
