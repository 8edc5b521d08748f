#include "common/protocol/frame.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace nsq::protocol {
namespace {

using namespace std::string_literals;

std::string Framed(FrameType type, std::string_view data) {
  std::string out;
  AppendFrame(type, data, &out);
  return out;
}

TEST_CASE("the OK, heartbeat and CLOSE_WAIT frames match the reference bytes") {
  CHECK(Framed(FrameType::kResponse, kOk) == "\x00\x00\x00\x06\x00\x00\x00\x00OK"s);
  CHECK(Framed(FrameType::kResponse, kHeartbeat) == "\x00\x00\x00\x0F\x00\x00\x00\x00_heartbeat_"s);
  CHECK(Framed(FrameType::kResponse, kCloseWait) ==
        "\x00\x00\x00\x0E\x00\x00\x00\x00"
        "CLOSE_WAIT"s);
}

TEST_CASE("an error frame carries type 1 and the code and text") {
  CHECK(Framed(FrameType::kError, "E_BAD_PROTOCOL") ==
        "\x00\x00\x00\x12\x00\x00\x00\x01"
        "E_BAD_PROTOCOL"s);
  CHECK(Framed(FrameType::kError, "E_INVALID invalid command ASDF") ==
        "\x00\x00\x00\x22\x00\x00\x00\x01"
        "E_INVALID invalid command ASDF"s);
}

TEST_CASE("AppendFrame appends after what the buffer already holds") {
  std::string out = "xy";
  AppendFrame(FrameType::kResponse, "OK", &out);
  AppendFrame(FrameType::kMessage, "", &out);
  CHECK(out == "xy\x00\x00\x00\x06\x00\x00\x00\x00OK\x00\x00\x00\x04\x00\x00\x00\x02"s);
}

TEST_CASE("the magic is two spaces and V2") { CHECK(kMagicV2 == "\x20\x20\x56\x32"s); }

std::string ThreeFrames() {
  std::string stream;
  AppendFrame(FrameType::kResponse, kOk, &stream);
  AppendFrame(FrameType::kError, "E_INVALID invalid command ASDF", &stream);
  AppendFrame(FrameType::kMessage, std::string(300, 'm'), &stream);
  return stream;
}

void CheckThreeFrames(const std::vector<Frame>& frames) {
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].type == FrameType::kResponse);
  CHECK(frames[0].data == "OK");
  CHECK(frames[1].type == FrameType::kError);
  CHECK(frames[1].data == "E_INVALID invalid command ASDF");
  CHECK(frames[2].type == FrameType::kMessage);
  CHECK(frames[2].data == std::string(300, 'm'));
}

TEST_CASE("FrameDecoder decodes frames fed all at once") {
  FrameDecoder decoder;
  decoder.Feed(ThreeFrames());
  std::vector<Frame> frames;
  Frame frame;
  while (decoder.Next(&frame)) frames.push_back(frame);
  CHECK(decoder.status().ok());
  CheckThreeFrames(frames);
}

TEST_CASE("FrameDecoder decodes frames fed byte by byte") {
  FrameDecoder decoder;
  std::vector<Frame> frames;
  Frame frame;
  for (char c : ThreeFrames()) {
    decoder.Feed(std::string_view(&c, 1));
    while (decoder.Next(&frame)) frames.push_back(frame);
  }
  CHECK(decoder.status().ok());
  CheckThreeFrames(frames);
}

TEST_CASE("a partial frame waits for more bytes without breaking the stream") {
  FrameDecoder decoder;
  const std::string stream = Framed(FrameType::kResponse, "OK");
  decoder.Feed(std::string_view(stream).substr(0, 9));
  Frame frame;
  CHECK_FALSE(decoder.Next(&frame));
  CHECK(decoder.status().ok());
  decoder.Feed(std::string_view(stream).substr(9));
  REQUIRE(decoder.Next(&frame));
  CHECK(frame.data == "OK");
  CHECK_FALSE(decoder.Next(&frame));
}

TEST_CASE("an empty frame (size 4) is valid") {
  FrameDecoder decoder;
  decoder.Feed("\x00\x00\x00\x04\x00\x00\x00\x00"s);
  Frame frame;
  REQUIRE(decoder.Next(&frame));
  CHECK(frame.data.empty());
}

TEST_CASE("a frame size below 4 breaks the stream") {
  FrameDecoder decoder;
  decoder.Feed("\x00\x00\x00\x03\x00\x00\x00"s);
  Frame frame;
  CHECK_FALSE(decoder.Next(&frame));
  CHECK_FALSE(decoder.status().ok());
}

TEST_CASE("a frame size over the maximum breaks the stream before the data arrives") {
  FrameDecoder decoder(100);
  decoder.Feed("\x00\x00\x00\x65"s);  // 101
  Frame frame;
  CHECK_FALSE(decoder.Next(&frame));
  CHECK_FALSE(decoder.status().ok());

  FrameDecoder at_limit(100);
  at_limit.Feed("\x00\x00\x00\x64\x00\x00\x00\x00"s + std::string(96, 'x'));
  REQUIRE(at_limit.Next(&frame));
  CHECK(frame.data.size() == 96);
}

TEST_CASE("an unknown frame type breaks the stream") {
  FrameDecoder decoder;
  decoder.Feed("\x00\x00\x00\x06\x00\x00\x00\x03OK"s);
  Frame frame;
  CHECK_FALSE(decoder.Next(&frame));
  CHECK_FALSE(decoder.status().ok());
}

TEST_CASE("a broken FrameDecoder stays broken") {
  FrameDecoder decoder;
  decoder.Feed("\x00\x00\x00\x00"s);
  Frame frame;
  CHECK_FALSE(decoder.Next(&frame));
  decoder.Feed(Framed(FrameType::kResponse, "OK"));
  CHECK_FALSE(decoder.Next(&frame));
  CHECK_FALSE(decoder.status().ok());
}

TEST_CASE("FrameDecoder keeps working across many frames") {
  FrameDecoder decoder;
  Frame frame;
  for (int i = 0; i < 1000; ++i) {
    const std::string data = "frame " + std::to_string(i);
    const std::string bytes = Framed(FrameType::kResponse, data);
    // Feed each frame in two halves, so frames straddle Feed calls.
    decoder.Feed(std::string_view(bytes).substr(0, 5));
    CHECK_FALSE(decoder.Next(&frame));
    decoder.Feed(std::string_view(bytes).substr(5));
    REQUIRE(decoder.Next(&frame));
    CHECK(frame.data == data);
  }
  CHECK(decoder.status().ok());
}

}  // namespace
}  // namespace nsq::protocol
