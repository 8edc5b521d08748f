// The nsqlookupd V1 codec: golden bytes of every request and reply, every error of real
// nsqlookupd (NSQ-REFERENCE §7.1) plus our IDENTIFY size cap, and the same results for every
// split of the input (byte by byte and at random points).
#include "common/protocol/lookup_v1.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace nsq::protocol {
namespace {

using std::string_literals::operator""s;

LookupPeerInfo SamplePeer() {
  LookupPeerInfo peer;
  peer.broadcast_address = "node1";
  peer.hostname = "host1";
  peer.tcp_port = 4150;
  peer.http_port = 4151;
  peer.version = "1.3.0";
  return peer;
}

std::string Describe(const LookupCommand& command) {
  switch (command.type) {
    case LookupCommandType::kPing:
      return "PING";
    case LookupCommandType::kIdentify:
      return "IDENTIFY " + command.peer.broadcast_address + " " +
             std::to_string(command.peer.tcp_port) + " " + std::to_string(command.peer.http_port) +
             " " + command.peer.version;
    case LookupCommandType::kRegister:
      return "REGISTER [" + command.topic + "] [" + command.channel + "]";
    case LookupCommandType::kUnregister:
      return "UNREGISTER [" + command.topic + "] [" + command.channel + "]";
  }
  return "?";
}

// Feeds `input` cut at `cuts` (ascending offsets); every command is described and an error
// ends the list as "error: <reply data>". At the end of the input, the end-of-input error
// (if any) is added as "eof: <reply data>".
std::vector<std::string> DecodeWithCuts(std::string_view input, std::vector<size_t> cuts) {
  LookupRequestDecoder decoder;
  std::vector<std::string> out;
  size_t start = 0;
  cuts.push_back(input.size());
  for (size_t cut : cuts) {
    std::string_view piece = input.substr(start, cut - start);
    start = cut;
    for (;;) {
      size_t used = 0;
      const auto result = decoder.Decode(piece, &used);
      REQUIRE(used <= piece.size());
      piece.remove_prefix(used);
      if (result == LookupRequestDecoder::Result::kError) {
        out.push_back("error: " + LookupErrorData(decoder.error()));
        return out;
      }
      if (result == LookupRequestDecoder::Result::kNeedMore) {
        REQUIRE(piece.empty());
        break;
      }
      out.push_back(Describe(decoder.command()));
    }
  }
  if (auto error = decoder.ErrorAtEndOfInput()) out.push_back("eof: " + LookupErrorData(*error));
  return out;
}

std::vector<std::string> Decode(std::string_view input) { return DecodeWithCuts(input, {}); }

std::vector<std::string> DecodeByteByByte(std::string_view input) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return DecodeWithCuts(input, cuts);
}

std::string Magic() { return std::string(kMagicV1); }
std::string Identified() { return Magic() + EncodeLookupIdentify(SamplePeer()); }

std::string IdentifyWithBody(std::string_view body) {
  std::string out = "IDENTIFY\n";
  const auto size = static_cast<uint32_t>(body.size());
  out += static_cast<char>(size >> 24);
  out += static_cast<char>(size >> 16);
  out += static_cast<char>(size >> 8);
  out += static_cast<char>(size);
  out += body;
  return out;
}

TEST_CASE("requests nsqd sends are encoded byte for byte") {
  CHECK(EncodeLookupPing() == "PING\n");
  CHECK(EncodeLookupRegister("t") == "REGISTER t\n");
  CHECK(EncodeLookupRegister("t", "c") == "REGISTER t c\n");
  CHECK(EncodeLookupUnregister("t") == "UNREGISTER t\n");
  CHECK(EncodeLookupUnregister("t", "c#ephemeral") == "UNREGISTER t c#ephemeral\n");
  const std::string body =
      R"({"broadcast_address":"node1","hostname":"host1","http_port":4151,"tcp_port":4150,)"
      R"("topology_region":"","topology_zone":"","version":"1.3.0"})";
  CHECK(EncodeLookupPeerInfo(SamplePeer()) == body);
  CHECK(EncodeLookupIdentify(SamplePeer()) ==
        "IDENTIFY\n"s + std::string("\0\0\0", 3) + static_cast<char>(body.size()) + body);
}

TEST_CASE("replies are a 4-byte big-endian size and the data, without a frame type") {
  std::string out;
  AppendLookupResponse("OK", &out);
  CHECK(out == std::string("\0\0\0\2OK", 6));
  ClientError bad_protocol = ClientError::Fatal(kBadProtocol, "");
  CHECK(LookupErrorData(bad_protocol) == "E_BAD_PROTOCOL");
  CHECK(LookupErrorData(ClientError::Fatal(kInvalid, "invalid command X")) ==
        "E_INVALID invalid command X");
}

TEST_CASE("the IDENTIFY reply has its keys in Go's sorted order and parses back") {
  LookupdInfo info{"lookup1", "host", 4161, 4160, "1.3.0"};
  const std::string json = EncodeLookupIdentifyResponse(info);
  CHECK(json ==
        R"({"broadcast_address":"lookup1","hostname":"host","http_port":4161,"tcp_port":4160,)"
        R"("version":"1.3.0"})");
  absl::StatusOr<LookupdInfo> parsed = ParseLookupIdentifyResponse(json);
  REQUIRE(parsed.ok());
  CHECK(*parsed == info);
}

TEST_CASE("IDENTIFY JSON is read as Go's json.Unmarshal reads it") {
  SUBCASE("round trip") {
    LookupPeerInfo peer = SamplePeer();
    peer.topology_zone = "z";
    peer.topology_region = "r";
    absl::StatusOr<LookupPeerInfo> parsed = ParseLookupPeerInfo(EncodeLookupPeerInfo(peer));
    REQUIRE(parsed.ok());
    CHECK(*parsed == peer);
  }
  SUBCASE("keys match case-insensitively; unknown keys and null are ignored") {
    auto parsed = ParseLookupPeerInfo(
        R"({"Broadcast_Address":"b","TCP_PORT":1,"http_port":null,"extra":[1,2],"version":"v"})");
    REQUIRE(parsed.ok());
    CHECK(parsed->broadcast_address == "b");
    CHECK(parsed->tcp_port == 1);
    CHECK(parsed->http_port == 0);
    CHECK(parsed->version == "v");
  }
  SUBCASE("a value of the wrong type is an error") {
    CHECK_FALSE(ParseLookupPeerInfo(R"({"tcp_port":"4150"})").ok());
    CHECK_FALSE(ParseLookupPeerInfo(R"({"tcp_port":4150.5})").ok());
    CHECK_FALSE(ParseLookupPeerInfo(R"({"tcp_port":4150.0})").ok());
    CHECK_FALSE(ParseLookupPeerInfo(R"({"version":1})").ok());
    CHECK_FALSE(ParseLookupPeerInfo(R"([1])").ok());
    CHECK_FALSE(ParseLookupPeerInfo("").ok());
    CHECK_FALSE(ParseLookupPeerInfo("{} x").ok());
  }
  SUBCASE("null is an empty document") { CHECK(ParseLookupPeerInfo("null").ok()); }
}

TEST_CASE("a registration session decodes to its commands") {
  const std::string input = Identified() + "REGISTER t c\n" + "REGISTER t\r\n" + "PING\n" +
                            "  UNREGISTER t c  \n" + "UNREGISTER t\n";
  const std::vector<std::string> expected = {
      "IDENTIFY node1 4150 4151 1.3.0",
      "REGISTER [t] [c]",
      "REGISTER [t] []",
      "PING",
      "UNREGISTER [t] [c]",
      "UNREGISTER [t] []",
  };
  CHECK(Decode(input) == expected);
  CHECK(DecodeByteByByte(input) == expected);

  std::mt19937 random(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    std::uniform_int_distribution<size_t> offset(0, input.size());
    for (int i = 0; i < 4; ++i) cuts.push_back(offset(random));
    std::sort(cuts.begin(), cuts.end());
    CHECK(DecodeWithCuts(input, cuts) == expected);
  }
}

TEST_CASE("PING needs no IDENTIFY") {
  CHECK(Decode(Magic() + "PING\n") == std::vector<std::string>{"PING"});
}

TEST_CASE("lines are split on single spaces, as upstream") {
  // "REGISTER t  c" has an empty second parameter: upstream registers the topic alone.
  CHECK(Decode(Identified() + "REGISTER t  c\n").back() == "REGISTER [t] []");
  CHECK(Decode(Identified() + "REGISTER  t\n").back() ==
        "error: E_BAD_TOPIC REGISTER topic name '' is not valid");
  CHECK(Decode(Identified() + "REGISTER t c extra\n").back() == "REGISTER [t] [c]");
}

TEST_CASE("every V1 error is the exact reply of nsqlookupd and ends the stream") {
  const std::string id = Identified();
  struct Case {
    std::string input;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"  V2PING\n", "E_BAD_PROTOCOL"},
      {"GET / HTTP/1.1\r\n", "E_BAD_PROTOCOL"},
      {Magic() + "FOO bar\n", "E_INVALID invalid command FOO"},
      {Magic() + "\n", "E_INVALID invalid command "},
      {Magic() + "ping\n", "E_INVALID invalid command ping"},
      {Magic() + "REGISTER t\n", "E_INVALID client must IDENTIFY"},
      {Magic() + "UNREGISTER t\n", "E_INVALID client must IDENTIFY"},
      {Magic() + "REGISTER\n", "E_INVALID client must IDENTIFY"},
      {id + "REGISTER\n", "E_INVALID REGISTER insufficient number of params"},
      {id + "UNREGISTER\n", "E_INVALID UNREGISTER insufficient number of params"},
      {id + "REGISTER bad!topic\n", "E_BAD_TOPIC REGISTER topic name 'bad!topic' is not valid"},
      {id + "UNREGISTER t bad!chan\n",
       "E_BAD_CHANNEL UNREGISTER channel name 'bad!chan' is not valid"},
      {id + "REGISTER " + std::string(65, 'a') + "\n",
       "E_BAD_TOPIC REGISTER topic name '" + std::string(65, 'a') + "' is not valid"},
      {id + EncodeLookupIdentify(SamplePeer()), "E_INVALID cannot IDENTIFY again"},
      {Magic() + "IDENTIFY\n" + std::string("\xff\xff\xff\xfe", 4),
       "E_BAD_BODY IDENTIFY invalid body size -2"},
      {Magic() + "IDENTIFY\n" + std::string("\x7f\xff\xff\xff", 4),
       "E_BAD_BODY IDENTIFY body too big 2147483647 > 1048576"},
      {Magic() + "IDENTIFY\n" + std::string("\x00\x10\x00\x01", 4),
       "E_BAD_BODY IDENTIFY body too big 1048577 > 1048576"},
      {Magic() + IdentifyWithBody(""), "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {Magic() + IdentifyWithBody("{not json"), "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {Magic() + IdentifyWithBody(R"({"tcp_port":"1"})"),
       "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {Magic() + IdentifyWithBody(R"({"broadcast_address":"b","tcp_port":1,"http_port":2})"),
       "E_BAD_BODY IDENTIFY missing fields"},
      {Magic() + IdentifyWithBody("{}"), "E_BAD_BODY IDENTIFY missing fields"},
      {Magic() + std::string(5000, 'A'), "E_INVALID command line too long (over 4096 bytes)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const std::vector<std::string> whole = Decode(c.input + "PING\n");
    REQUIRE_FALSE(whole.empty());
    CHECK(whole.back() == "error: " + c.error);
    CHECK(DecodeByteByByte(c.input + "PING\n") == whole);
  }
}

TEST_CASE("a decoder stays broken after an error") {
  LookupRequestDecoder decoder;
  size_t used = 0;
  CHECK(decoder.Decode("XXXX", &used) == LookupRequestDecoder::Result::kError);
  CHECK(decoder.Decode("  V1PING\n", &used) == LookupRequestDecoder::Result::kError);
  CHECK(used == 0);
}

TEST_CASE("a line of exactly the maximum length is accepted") {
  const std::string line = "PING" + std::string(kMaxLookupLineLength - 4, ' ');
  CHECK(Decode(Magic() + line + "\n") == std::vector<std::string>{"PING"});
}

TEST_CASE("an IDENTIFY cut off by the end of input has its own error") {
  CHECK(Decode(Magic() + "IDENTIFY\n") ==
        std::vector<std::string>{"eof: E_BAD_BODY IDENTIFY failed to read body size"});
  CHECK(Decode(Magic() + "IDENTIFY\n" + std::string("\0\0", 2)) ==
        std::vector<std::string>{"eof: E_BAD_BODY IDENTIFY failed to read body size"});
  CHECK(Decode(Magic() + IdentifyWithBody("{}").substr(0, 14)) ==
        std::vector<std::string>{"eof: E_BAD_BODY IDENTIFY failed to read body"});
  CHECK(Decode(Magic() + "PI").empty());
}

TEST_CASE("the reply decoder returns each reply for any split and bounds the size") {
  std::string stream;
  AppendLookupResponse(EncodeLookupIdentifyResponse({"b", "h", 1, 2, "1.3.0"}), &stream);
  AppendLookupResponse("OK", &stream);
  AppendLookupResponse("E_INVALID client must IDENTIFY", &stream);
  AppendLookupResponse("", &stream);
  for (size_t step : {size_t{1}, size_t{3}, stream.size()}) {
    CAPTURE(step);
    LookupResponseDecoder decoder(1024);
    std::vector<std::string> replies;
    for (size_t offset = 0; offset < stream.size(); offset += step) {
      std::string_view piece = std::string_view(stream).substr(offset, step);
      for (;;) {
        size_t used = 0;
        const auto result = decoder.Decode(piece, &used);
        piece.remove_prefix(used);
        REQUIRE(result != LookupResponseDecoder::Result::kError);
        if (result == LookupResponseDecoder::Result::kNeedMore) break;
        replies.push_back(decoder.response());
      }
    }
    REQUIRE(replies.size() == 4);
    CHECK(ParseLookupIdentifyResponse(replies[0])->tcp_port == 2);
    CHECK(replies[1] == "OK");
    CHECK(IsLookupErrorResponse(replies[2]));
    CHECK_FALSE(IsLookupErrorResponse(replies[1]));
    CHECK(replies[3].empty());
  }

  LookupResponseDecoder small(4);
  size_t used = 0;
  CHECK(small.Decode(std::string("\0\0\0\5hello", 9), &used) ==
        LookupResponseDecoder::Result::kError);
  CHECK(small.error() == "response body size (5) is greater than limit (4)");
}

}  // namespace
}  // namespace nsq::protocol
