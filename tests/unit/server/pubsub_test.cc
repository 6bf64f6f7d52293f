// PubSub's bus NOTICE payload (cluster mode): what a peer sends is network input, so anything
// EncodeNotice could not have produced must be refused, never read out of bounds.
#include "pubsub.h"

#include <doctest/doctest.h>

#include <string>

using dynakv::server::PubSub;

TEST_CASE("a pub/sub notice decodes to the channel, message and kind it was encoded from") {
  for (const PubSub::Kind kind : {PubSub::Kind::kGlobal, PubSub::Kind::kShard}) {
    for (const std::string& channel : {std::string(), std::string("news"), std::string(300, 'c')}) {
      const std::string message = std::string("a\0b", 3) + channel;
      const std::string payload = PubSub::EncodeNotice(channel, message, kind);
      std::string_view got_channel;
      std::string_view got_message;
      PubSub::Kind got_kind;
      REQUIRE(PubSub::DecodeNotice(payload, &got_channel, &got_message, &got_kind));
      CHECK(got_channel == channel);
      CHECK(got_message == message);
      CHECK(got_kind == kind);
    }
  }
}

TEST_CASE("a malformed pub/sub notice is refused") {
  std::string_view channel;
  std::string_view message;
  PubSub::Kind kind;
  const std::string good = PubSub::EncodeNotice("chan", "msg", PubSub::Kind::kGlobal);
  for (std::size_t cut = 0; cut < 5 + 4; ++cut) {  // the header, or the channel, cut short
    CAPTURE(cut);
    CHECK_FALSE(
        PubSub::DecodeNotice(std::string_view(good).substr(0, cut), &channel, &message, &kind));
  }
  std::string bad_kind = good;
  bad_kind[0] = 3;
  CHECK_FALSE(PubSub::DecodeNotice(bad_kind, &channel, &message, &kind));
  std::string long_channel = good;
  long_channel[4] = '\x7f';  // claims a channel of more than 2 GB
  CHECK_FALSE(PubSub::DecodeNotice(long_channel, &channel, &message, &kind));
}
