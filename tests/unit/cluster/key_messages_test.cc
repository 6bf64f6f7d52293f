#include "cluster/key_messages.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "cluster/bus_protocol.h"

namespace dynakv::cluster {
namespace {

TEST_CASE("key messages: KEY_EVENT and FORWARD payloads round-trip") {
  KeyEvent event;
  event.kind = KeyEvent::Kind::kWatch;
  event.lease_ms = 10000;
  event.keys = {"queue", std::string("bin\0ary", 7), ""};
  KeyEvent decoded;
  REQUIRE(DecodeKeyEvent(EncodeKeyEvent(event), &decoded));
  CHECK(decoded.kind == KeyEvent::Kind::kWatch);
  CHECK(decoded.lease_ms == 10000);
  CHECK(decoded.keys == event.keys);

  event.kind = KeyEvent::Kind::kReady;
  event.lease_ms = 0;
  REQUIRE(DecodeKeyEvent(EncodeKeyEvent(event), &decoded));
  CHECK(decoded.kind == KeyEvent::Kind::kReady);

  ForwardRequest request;
  request.protocol = 3;
  request.read_level = "QUORUM";
  request.write_level = "2";
  request.argv = {"BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "3"};
  ForwardRequest back;
  REQUIRE(DecodeForwardRequest(EncodeForwardRequest(request), &back));
  CHECK(back.protocol == 3);
  CHECK(back.read_level == "QUORUM");
  CHECK(back.write_level == "2");
  CHECK(back.argv == request.argv);
  CHECK(back.track == 0);
  request.track = 0x1234567890abcdefULL;
  REQUIRE(DecodeForwardRequest(EncodeForwardRequest(request), &back));
  CHECK(back.track == request.track);

  ForwardReply reply{true, 3, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"};
  ForwardReply reply_back;
  REQUIRE(DecodeForwardReply(EncodeForwardReply(reply), &reply_back));
  CHECK(reply_back.wrote);
  CHECK(reply_back.acked == 3);
  CHECK(reply_back.reply == reply.reply);
  REQUIRE(DecodeForwardReply(EncodeForwardReply(ForwardReply{false, 0, "$-1\r\n"}), &reply_back));
  CHECK_FALSE(reply_back.wrote);
  CHECK(reply_back.reply == "$-1\r\n");

  WriteAcksRequest acks{42, 3, 5000};
  WriteAcksRequest acks_back;
  REQUIRE(DecodeWriteAcksRequest(EncodeWriteAcksRequest(acks), &acks_back));
  CHECK(acks_back.token == 42);
  CHECK(acks_back.above == 3);
  CHECK(acks_back.wait_ms == 5000);
  WriteAcksReply answer;
  REQUIRE(DecodeWriteAcksReply(EncodeWriteAcksReply(WriteAcksReply{true, 2}), &answer));
  CHECK(answer.known);
  CHECK(answer.acked == 2);
  REQUIRE(DecodeWriteAcksReply(EncodeWriteAcksReply(WriteAcksReply{}), &answer));
  CHECK_FALSE(answer.known);

  CHECK(std::string(bus::FrameTypeName(bus::FrameType::kWriteAcks)) == "WRITE_ACKS");
  CHECK(std::string(bus::FrameTypeName(bus::FrameType::kKeyEvent)) == "KEY_EVENT");
  CHECK(std::string(bus::FrameTypeName(bus::FrameType::kForward)) == "FORWARD");
  CHECK(bus::IsKnownFrameType(static_cast<std::uint8_t>(bus::FrameType::kForward)));
  CHECK_FALSE(bus::IsKnownFrameType(static_cast<std::uint8_t>(bus::kLastFrameType) + 1));
  CHECK(bus::IsKnownFrameType(static_cast<std::uint8_t>(bus::FrameType::kWriteAcks)));
}

TEST_CASE("key messages: what no encoder produces is refused") {
  KeyEvent event;
  ForwardRequest request;
  CHECK_FALSE(DecodeKeyEvent("", &event));
  CHECK_FALSE(DecodeKeyEvent(std::string("\x04\x00\x00", 3), &event));      // unknown kind
  CHECK_FALSE(DecodeKeyEvent(std::string("\x01\x00\x05", 3), &event));      // 5 keys, no bytes
  CHECK_FALSE(DecodeKeyEvent(std::string("\x03\x00\x00\x00", 4), &event));  // trailing byte
  // A count far beyond the bytes present is refused before anything is reserved.
  CHECK_FALSE(DecodeKeyEvent(std::string("\x01\x00\xff\xff\xff\xff\x0f", 7), &event));
  ForwardRequest empty;
  empty.read_level = "ONE";
  empty.write_level = "ONE";
  CHECK_FALSE(DecodeForwardRequest(EncodeForwardRequest(empty), &request));  // no command
  empty.argv = {"LPOP", "k"};
  empty.protocol = 4;
  CHECK_FALSE(DecodeForwardRequest(EncodeForwardRequest(empty), &request));

  // Every truncation of valid payloads fails cleanly (no read past the end).
  ForwardRequest valid;
  valid.read_level = "ONE";
  valid.write_level = "ALL";
  valid.argv = {"LPOP", "jobs", "3"};
  const std::string forward = EncodeForwardRequest(valid);
  for (std::size_t n = 0; n < forward.size(); ++n) {
    CHECK_FALSE(DecodeForwardRequest(forward.substr(0, n), &request));
  }
  const std::string forward_reply = EncodeForwardReply(ForwardReply{true, 2, "+OK\r\n"});
  const std::string acks_request = EncodeWriteAcksRequest(WriteAcksRequest{7, 2, 300});
  const std::string acks_reply = EncodeWriteAcksReply(WriteAcksReply{true, 1});
  ForwardReply forward_reply_back;
  WriteAcksRequest acks_request_back;
  WriteAcksReply acks_reply_back;
  for (std::size_t n = 0; n < forward_reply.size(); ++n) {
    CHECK_FALSE(DecodeForwardReply(forward_reply.substr(0, n), &forward_reply_back));
  }
  for (std::size_t n = 0; n < acks_request.size(); ++n) {
    CHECK_FALSE(DecodeWriteAcksRequest(acks_request.substr(0, n), &acks_request_back));
  }
  for (std::size_t n = 0; n < acks_reply.size(); ++n) {
    CHECK_FALSE(DecodeWriteAcksReply(acks_reply.substr(0, n), &acks_reply_back));
  }
  CHECK_FALSE(DecodeForwardReply(forward_reply + "x", &forward_reply_back));
  CHECK_FALSE(DecodeForwardReply("\x02" + forward_reply.substr(1), &forward_reply_back));
  CHECK_FALSE(DecodeWriteAcksRequest(acks_request + "x", &acks_request_back));
  CHECK_FALSE(DecodeWriteAcksReply(std::string("\x02\x00", 2), &acks_reply_back));
  KeyEvent ready;
  ready.kind = KeyEvent::Kind::kReady;
  ready.keys = {"a", "bb"};
  const std::string key_event = EncodeKeyEvent(ready);
  for (std::size_t n = 0; n < key_event.size(); ++n) {
    CHECK_FALSE(DecodeKeyEvent(key_event.substr(0, n), &event));
  }
  // Random bytes never crash a decoder.
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    DecodeKeyEvent(bytes, &event);
    DecodeForwardRequest(bytes, &request);
  }
}

}  // namespace
}  // namespace dynakv::cluster
