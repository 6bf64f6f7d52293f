// Turning a member's host and port into a socket address for the bus.
#pragma once

#include <uv.h>

#include <string>

namespace dynakv::cluster {

// Numeric IPv4/IPv6 addresses are parsed directly; anything else is resolved with getaddrinfo,
// synchronously: it happens once per member when the node is created, not per request.
bool ResolveAddress(uv_loop_t* loop, const std::string& host, int port, sockaddr_storage* address,
                    std::string* error);

// "host:port" of a resolved address, for messages.
std::string FormatAddress(const sockaddr_storage& address);

}  // namespace dynakv::cluster
