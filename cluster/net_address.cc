#include "net_address.h"

#include <cstring>

namespace dynakv::cluster {

bool ResolveAddress(uv_loop_t* loop, const std::string& host, int port, sockaddr_storage* address,
                    std::string* error) {
  if (port < 1 || port > 65535) {
    *error = "bus port " + std::to_string(port) + " of " + host + " is out of range";
    return false;
  }
  std::memset(address, 0, sizeof(*address));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(address)) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(address)) == 0) {
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  uv_getaddrinfo_t request{};
  // No callback: libuv resolves synchronously.
  const int rc = uv_getaddrinfo(loop, &request, nullptr, host.c_str(), nullptr, &hints);
  if (rc != 0 || request.addrinfo == nullptr) {
    *error = "cannot resolve '" + host + "': " + uv_strerror(rc != 0 ? rc : UV_EAI_NONAME);
    if (request.addrinfo != nullptr) uv_freeaddrinfo(request.addrinfo);
    return false;
  }
  const addrinfo* found = request.addrinfo;
  std::memcpy(address, found->ai_addr, found->ai_addrlen);
  uv_freeaddrinfo(request.addrinfo);
  if (address->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(static_cast<std::uint16_t>(port));
  } else if (address->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(static_cast<std::uint16_t>(port));
  } else {
    *error = "'" + host + "' did not resolve to an IP address";
    return false;
  }
  return true;
}

std::string FormatAddress(const sockaddr_storage& address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    uv_ip4_name(in, ip, sizeof(ip));
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(in6, ip, sizeof(ip));
    port = ntohs(in6->sin6_port);
    // Appended piecewise: `"[" + std::string(...)` trips GCC 12's false -Wrestrict at -O2.
    std::string text = "[";
    text.append(ip).append("]:").append(std::to_string(port));
    return text;
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace dynakv::cluster
