#include "common/protocol/command.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/protocol/decode_util.h"

namespace nsq::protocol {
namespace {

using namespace std::string_literals;
using testing::DecodeAnySplit;
using testing::DecodeOne;

template <typename Encoder>
std::string Encoded(Encoder encode) {
  std::string out;
  encode(&out);
  return out;
}

TEST_CASE("PUB encodes to the reference bytes") {
  CHECK(Encoded([](std::string* out) { EncodePub("test", "hi", out); }) ==
        "PUB test\n\x00\x00\x00\x02hi"s);
}

TEST_CASE("MPUB encodes to the reference bytes") {
  CHECK(Encoded([](std::string* out) {
          EncodeMpub("test", {"a", "bc"}, out);
        }) ==
        "MPUB test\n"
        "\x00\x00\x00\x0F"
        "\x00\x00\x00\x02"
        "\x00\x00\x00\x01"
        "a"
        "\x00\x00\x00\x02"
        "bc"s);
}

TEST_CASE("DPUB, RDY and REQ write their numbers in decimal") {
  CHECK(Encoded([](std::string* out) { EncodeDpub("test", 1500, "hi", out); }) ==
        "DPUB test 1500\n\x00\x00\x00\x02hi"s);
  CHECK(Encoded([](std::string* out) { EncodeRdy(2500, out); }) == "RDY 2500\n");
  CHECK(Encoded([](std::string* out) { EncodeReq("0123456789abcdef", 0, out); }) ==
        "REQ 0123456789abcdef 0\n");
}

TEST_CASE("line-only commands encode as NAME params newline") {
  CHECK(Encoded([](std::string* out) { EncodeSub("t", "c#ephemeral", out); }) ==
        "SUB t c#ephemeral\n");
  CHECK(Encoded([](std::string* out) { EncodeFin("0123456789abcdef", out); }) ==
        "FIN 0123456789abcdef\n");
  CHECK(Encoded([](std::string* out) { EncodeTouch("0123456789abcdef", out); }) ==
        "TOUCH 0123456789abcdef\n");
  CHECK(Encoded([](std::string* out) { EncodeCls(out); }) == "CLS\n");
  CHECK(Encoded([](std::string* out) { EncodeNop(out); }) == "NOP\n");
}

TEST_CASE("IDENTIFY and AUTH carry a sized body after a bare command line") {
  CHECK(Encoded([](std::string* out) { EncodeIdentify("{}", out); }) ==
        "IDENTIFY\n\x00\x00\x00\x02{}"s);
  CHECK(Encoded([](std::string* out) { EncodeAuth("secret", out); }) ==
        "AUTH\n\x00\x00\x00\x06secret"s);
}

TEST_CASE("encoders append to the buffer") {
  std::string out = "NOP\n";
  EncodeRdy(1, &out);
  EncodePub("t", "x", &out);
  CHECK(out == "NOP\nRDY 1\nPUB t\n\x00\x00\x00\x01x"s);
}

TEST_CASE("CommandNameText spells every command as on the wire") {
  CHECK(CommandNameText(CommandName::kIdentify) == "IDENTIFY");
  CHECK(CommandNameText(CommandName::kAuth) == "AUTH");
  CHECK(CommandNameText(CommandName::kSub) == "SUB");
  CHECK(CommandNameText(CommandName::kPub) == "PUB");
  CHECK(CommandNameText(CommandName::kMpub) == "MPUB");
  CHECK(CommandNameText(CommandName::kDpub) == "DPUB");
  CHECK(CommandNameText(CommandName::kRdy) == "RDY");
  CHECK(CommandNameText(CommandName::kFin) == "FIN");
  CHECK(CommandNameText(CommandName::kReq) == "REQ");
  CHECK(CommandNameText(CommandName::kTouch) == "TOUCH");
  CHECK(CommandNameText(CommandName::kCls) == "CLS");
  CHECK(CommandNameText(CommandName::kNop) == "NOP");
}

TEST_CASE("every encoded command decodes back to what was encoded") {
  const std::string id = "0123456789abcdef";
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeIdentify("{\"a\":1}", out); })) ==
        "IDENTIFY [] body={\"a\":1}");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeAuth("s3cret", out); })) ==
        "AUTH [] body=s3cret");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeSub("t", "c", out); })) == "SUB [t,c]");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodePub("t", "hello", out); })) ==
        "PUB [t] body=hello");
  CHECK(DecodeOne(Encoded([](std::string* out) {
          EncodeMpub("t", {"a", "bc", "def"}, out);
        })) == "MPUB [t] messages=[a,bc,def]");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeDpub("t", 3600000, "later", out); })) ==
        "DPUB [t,3600000] defer=3600000 body=later");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeRdy(0, out); })) == "RDY [0]");
  CHECK(DecodeOne(Encoded([&](std::string* out) { EncodeFin(id, out); })) ==
        "FIN [0123456789abcdef]");
  CHECK(DecodeOne(Encoded([&](std::string* out) { EncodeReq(id, 90000, out); })) ==
        "REQ [0123456789abcdef,90000]");
  CHECK(DecodeOne(Encoded([&](std::string* out) { EncodeTouch(id, out); })) ==
        "TOUCH [0123456789abcdef]");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeCls(out); })) == "CLS []");
  CHECK(DecodeOne(Encoded([](std::string* out) { EncodeNop(out); })) == "NOP []");
}

TEST_CASE("binary bodies round-trip byte for byte") {
  std::string body;
  for (int i = 0; i < 256; ++i) body.push_back(static_cast<char>(i));
  std::string wire;
  EncodePub("bin", body, &wire);
  EncodeMpub("bin", {body, "\n\n", std::string(1, '\0')}, &wire);

  CommandDecoder decoder;
  size_t used = 0;
  std::string_view input = wire;
  REQUIRE(decoder.Decode(input, &used) == CommandDecoder::Result::kCommand);
  input.remove_prefix(used);
  CHECK(decoder.command().body == body);
  REQUIRE(decoder.Decode(input, &used) == CommandDecoder::Result::kCommand);
  input.remove_prefix(used);
  REQUIRE(decoder.command().messages.size() == 3);
  CHECK(decoder.command().messages[0].view() == body);
  CHECK(decoder.command().messages[1].view() == "\n\n");
  CHECK(decoder.command().messages[2].view() == std::string(1, '\0'));
  CHECK(input.empty());
}

TEST_CASE("a client session's worth of commands decodes in order under any split") {
  std::string wire;
  EncodeIdentify(R"({"client_id":"c","feature_negotiation":true})", &wire);
  EncodeSub("orders", "billing", &wire);
  EncodeRdy(100, &wire);
  EncodePub("orders", "one", &wire);
  EncodeMpub("orders", {"two", "three"}, &wire);
  EncodeDpub("orders", 0, "four", &wire);
  EncodeFin("0000000000000001", &wire);
  EncodeReq("0000000000000002", 1000, &wire);
  EncodeTouch("0000000000000003", &wire);
  EncodeNop(&wire);
  EncodeCls(&wire);
  CHECK(DecodeAnySplit(wire) ==
        std::vector<std::string>{
            R"(IDENTIFY [] body={"client_id":"c","feature_negotiation":true})",
            "SUB [orders,billing]",
            "RDY [100]",
            "PUB [orders] body=one",
            "MPUB [orders] messages=[two,three]",
            "DPUB [orders,0] defer=0 body=four",
            "FIN [0000000000000001]",
            "REQ [0000000000000002,1000]",
            "TOUCH [0000000000000003]",
            "NOP []",
            "CLS []",
        });
}

}  // namespace
}  // namespace nsq::protocol
