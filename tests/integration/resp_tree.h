// A RESP2/RESP3 reply read off a raw socket as a tree, so differential tests can normalise the
// parts that must differ (ids, ages, random passwords) and compare the rest byte for byte.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "raw_socket.h"

namespace dynakv::itest {

struct RespNode {
  char type = '_';                 // the RESP type byte: + - : $ * % ~ , _ # ( = ! >
  std::string value;               // simple lines, numbers and bulk payloads
  bool null = false;               // RESP2's $-1 / *-1
  std::vector<RespNode> children;  // aggregates; a map's keys and values alternate

  std::string Encode() const;
  // The value of `key` in a map (RESP3) or a flat key/value array (RESP2); nullptr when absent.
  RespNode* Field(std::string_view key);
};

// Parses one complete reply starting at *pos; false when the bytes end before it does.
bool ParseResp(std::string_view bytes, std::size_t* pos, RespNode* out);

// A connection sending commands and reading whole replies, RESP2 or RESP3.
class RespConnection {
 public:
  explicit RespConnection(int port) : socket_(port) {}
  bool connected() const { return socket_.connected(); }
  // Sends `argv` and reads its reply; a reply of type '!' with value "EOF" when the server
  // closed the connection or did not answer within the timeout.
  RespNode Call(const std::vector<std::string>& argv,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Whether the server closes the connection within `timeout` (reading and dropping anything).
  bool ClosedWithin(std::chrono::milliseconds timeout);

 private:
  RawSocket socket_;
  std::string buffer_;
};

}  // namespace dynakv::itest
