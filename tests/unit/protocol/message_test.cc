#include "common/protocol/message.h"

#include <doctest/doctest.h>

#include <string>

#include "common/protocol/frame.h"

namespace nsq::protocol {
namespace {

using namespace std::string_literals;

Message SampleMessage(std::string_view body) {
  Message message;
  message.id = MessageId::FromUint64(0x0123456789abcdefULL);
  message.timestamp_ns = 0x1122334455667788LL;
  message.attempts = 1;
  message.body = Body::Copy(body);
  return message;
}

TEST_CASE("a message frame with body hi matches the reference layout") {
  std::string out;
  AppendMessageFrame(SampleMessage("hi"), &out);
  CHECK(out ==
        "\x00\x00\x00\x20\x00\x00\x00\x02"
        "\x11\x22\x33\x44\x55\x66\x77\x88"
        "\x00\x01"
        "0123456789abcdef"
        "hi"s);
}

TEST_CASE("AppendMessageFrame equals AppendFrame of EncodeMessage") {
  const Message message = SampleMessage(std::string(1000, 'z'));
  std::string encoded;
  EncodeMessage(message, &encoded);
  std::string expected = "prefix";
  AppendFrame(FrameType::kMessage, encoded, &expected);
  std::string direct = "prefix";
  AppendMessageFrame(message, &direct);
  CHECK(direct == expected);
}

TEST_CASE("EncodeMessage writes the header then the body") {
  std::string out = "x";
  EncodeMessage(SampleMessage("body"), &out);
  CHECK(out.size() == 1 + kMessageHeaderLength + 4);
  CHECK(out ==
        "x\x11\x22\x33\x44\x55\x66\x77\x88\x00\x01"
        "0123456789abcdef"
        "body"s);
}

TEST_CASE("DecodeMessage reverses EncodeMessage") {
  Message message = SampleMessage("payload\0with nul"s);
  message.attempts = 65535;
  message.timestamp_ns = -5;
  std::string encoded;
  EncodeMessage(message, &encoded);
  absl::StatusOr<Message> decoded = DecodeMessage(encoded);
  REQUIRE(decoded.ok());
  CHECK(decoded->id == message.id);
  CHECK(decoded->timestamp_ns == -5);
  CHECK(decoded->attempts == 65535);
  CHECK(decoded->body.view() == message.body.view());
}

TEST_CASE("DecodeMessage needs the 26-byte header") {
  CHECK_FALSE(DecodeMessage(std::string(25, 'x')).ok());
  CHECK_FALSE(DecodeMessage("").ok());
  absl::StatusOr<Message> header_only = DecodeMessage(std::string(26, '0'));
  REQUIRE(header_only.ok());
  CHECK(header_only->body.empty());
}

TEST_CASE("MessageId::FromUint64 is 16 lower-case hex characters, zero padded") {
  CHECK(MessageId::FromUint64(0).view() == "0000000000000000");
  CHECK(MessageId::FromUint64(0xabc).view() == "0000000000000abc");
  CHECK(MessageId::FromUint64(0x0123456789abcdefULL).view() == "0123456789abcdef");
  CHECK(MessageId::FromUint64(~0ULL).view() == "ffffffffffffffff");
}

TEST_CASE("MessageId::FromBytes accepts exactly 16 bytes") {
  MessageId id;
  CHECK(MessageId::FromBytes("0123456789abcdef", &id));
  CHECK(id.view() == "0123456789abcdef");
  CHECK(id == MessageId::FromUint64(0x0123456789abcdefULL));
  CHECK_FALSE(MessageId::FromBytes("0123456789abcde", &id));
  CHECK_FALSE(MessageId::FromBytes("0123456789abcdef0", &id));
  CHECK_FALSE(MessageId::FromBytes("", &id));
}

TEST_CASE("message ids order like the numbers they encode") {
  CHECK(MessageId::FromUint64(9) < MessageId::FromUint64(10));
  CHECK(MessageId::FromUint64(0xff) < MessageId::FromUint64(0x100));
}

}  // namespace
}  // namespace nsq::protocol
