#include "common/protocol/command_decoder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/protocol/decode_util.h"

// This test binary counts the largest single allocation, to prove that a huge declared size
// is refused before anything is reserved for it.
namespace {
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

void* operator new(std::size_t size) {
  size_t largest = g_largest_allocation.load(std::memory_order_relaxed);
  while (size > largest &&
         !g_largest_allocation.compare_exchange_weak(largest, size, std::memory_order_relaxed)) {
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC 12 warns (-Wmismatched-new-delete) when it inlines these into code it also sees calling
// the operator new above; the pair is a matched malloc/free replacement.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace nsq::protocol {
namespace {

using namespace std::string_literals;
using testing::DecodeAnySplit;
using testing::DecodeByteByByte;
using testing::DecodeOne;
using testing::DecodeRandomSplits;
using testing::DecodeWhole;

// The 4-byte big-endian size field.
std::string Size(uint32_t size) {
  return {static_cast<char>(size >> 24), static_cast<char>(size >> 16),
          static_cast<char>(size >> 8), static_cast<char>(size)};
}

std::string Pub(std::string_view topic, std::string_view body) {
  std::string out;
  EncodePub(topic, body, &out);
  return out;
}

std::string Mpub(std::string_view topic, const std::vector<std::string_view>& bodies) {
  std::string out;
  EncodeMpub(topic, bodies, &out);
  return out;
}

// An MPUB with a hand-made body (count and message sizes as given, declared size = bytes).
std::string RawMpub(std::string_view body) {
  return "MPUB t\n" + Size(static_cast<uint32_t>(body.size())) + std::string(body);
}

// The limits of upstream's TestSizeLimits.
DecoderLimits SmallLimits() {
  DecoderLimits limits;
  limits.max_msg_size = 100;
  limits.max_body_size = 1000;
  return limits;
}

TEST_CASE("upstream TestSizeLimits texts are reproduced exactly") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne(Pub("test", std::string(105, 'a')), limits) ==
        "error: E_BAD_MESSAGE PUB message too big 105 > 100");
  CHECK(DecodeOne("PUB test\n" + Size(0), limits) ==
        "error: E_BAD_MESSAGE PUB invalid message body size 0");

  const std::string hundred(100, 'a');
  const std::vector<std::string_view> eleven(11, hundred);
  CHECK(DecodeOne(Mpub("test", eleven), limits) ==
        "error: E_BAD_BODY MPUB body too big 1148 > 1000");

  CHECK(DecodeOne(Mpub("test", {"a", "a", "a", "a", "a", ""}), limits) ==
        "error: E_BAD_MESSAGE MPUB invalid message(5) body size 0");
  CHECK(DecodeOne(Mpub("test", {"a", std::string(101, 'b')}), limits) ==
        "error: E_BAD_MESSAGE MPUB message too big 101 > 100");
}

TEST_CASE("upstream TestDPUB range text is reproduced exactly") {
  CHECK(DecodeOne("DPUB test 3600100\n" + Size(2) + "hi") ==
        "error: E_INVALID DPUB timeout 3600100 out of range 0-3600000");
}

TEST_CASE("an empty line is an invalid command with an empty name") {
  CHECK(DecodeOne("\n") == "error: E_INVALID invalid command ");
  CHECK(DecodeOne("\r\n") == "error: E_INVALID invalid command ");
  CHECK(DecodeAnySplit("\n\n") == std::vector<std::string>{"error: E_INVALID invalid command "});
}

TEST_CASE("unknown and wrongly cased command names are invalid") {
  CHECK(DecodeOne("ASDF\n") == "error: E_INVALID invalid command ASDF");
  CHECK(DecodeOne("pub test\n") == "error: E_INVALID invalid command pub");
  CHECK(DecodeOne("Nop\n") == "error: E_INVALID invalid command Nop");
  CHECK(DecodeOne(" NOP\n") == "error: E_INVALID invalid command ");
  // Only one '\r' is stripped.
  CHECK(DecodeOne("NOP\r\r\n") == "error: E_INVALID invalid command NOP\r");
}

TEST_CASE("params are split on single spaces and empty tokens are kept") {
  CHECK(DecodeOne("SUB a  b\n") == "SUB [a,,b]");
  CHECK(DecodeOne("RDY\n") == "RDY []");
  CHECK(DecodeOne("REQ 0123456789abcdef 10\r\n") == "REQ [0123456789abcdef,10]");
  CHECK(DecodeOne("FIN\n") == "FIN []");
  CHECK(DecodeOne("TOUCH a b c\n") == "TOUCH [a,b,c]");
}

TEST_CASE("an empty parameter is a real token") {
  CommandDecoder decoder;
  size_t used = 0;
  REQUIRE(decoder.Decode("NOP \n", &used) == CommandDecoder::Result::kCommand);
  CHECK(decoder.command().params == std::vector<std::string>{""});
  REQUIRE(decoder.Decode("CLS\n", &used) == CommandDecoder::Result::kCommand);
  CHECK(decoder.command().params.empty());
}

TEST_CASE("line-only commands are tokenized but not validated") {
  // RDY, FIN, REQ and TOUCH parameters are checked by the session (they depend on state).
  CHECK(DecodeOne("RDY -5\n") == "RDY [-5]");
  CHECK(DecodeOne("FIN short\n") == "FIN [short]");
  CHECK(DecodeOne("SUB a:b c\n") == "SUB [a:b,c]");
  CHECK(DecodeOne("CLS extra\n") == "CLS [extra]");
}

TEST_CASE("PUB, MPUB and DPUB need their parameters") {
  CHECK(DecodeOne("PUB\n") == "error: E_INVALID PUB insufficient number of parameters");
  CHECK(DecodeOne("MPUB\n") == "error: E_INVALID MPUB insufficient number of parameters");
  CHECK(DecodeOne("DPUB t\n") == "error: E_INVALID DPUB insufficient number of parameters");
  // Extra parameters are ignored, as in nsqd.
  CHECK(DecodeOne("PUB t extra\n" + Size(1) + "x") == "PUB [t,extra] body=x");
}

TEST_CASE("an invalid topic is E_BAD_TOPIC, with MPUB's doubled code") {
  CHECK(DecodeOne("PUB a:b\n") == "error: E_BAD_TOPIC PUB topic name \"a:b\" is not valid");
  CHECK(DecodeOne("PUB \n") == "error: E_BAD_TOPIC PUB topic name \"\" is not valid");
  CHECK(DecodeOne("DPUB a:b 10\n") == "error: E_BAD_TOPIC DPUB topic name \"a:b\" is not valid");
  CHECK(DecodeOne("MPUB a:b\n") ==
        "error: E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"a:b\" is not valid");
  CHECK(DecodeOne("PUB " + std::string(65, 't') + "\n") ==
        "error: E_BAD_TOPIC PUB topic name \"" + std::string(65, 't') + "\" is not valid");
  CHECK(DecodeOne("PUB a\"b\n") == "error: E_BAD_TOPIC PUB topic name \"a\\\"b\" is not valid");
}

TEST_CASE("the topic error code and text are separate fields of the ClientError") {
  CommandDecoder decoder;
  size_t used = 0;
  REQUIRE(decoder.Decode("MPUB a:b\n", &used) == CommandDecoder::Result::kError);
  CHECK(decoder.error().code == kBadTopic);
  CHECK(decoder.error().text == "E_BAD_TOPIC MPUB topic name \"a:b\" is not valid");
  CHECK(decoder.error().fatal);
}

TEST_CASE("the DPUB topic is checked before the timeout") {
  CHECK(DecodeOne("DPUB a:b abc\n") == "error: E_BAD_TOPIC DPUB topic name \"a:b\" is not valid");
}

TEST_CASE("the DPUB timeout is digits only, and empty parses as 0") {
  CHECK(DecodeOne("DPUB t -1\n") == "error: E_INVALID DPUB could not parse timeout -1");
  CHECK(DecodeOne("DPUB t abc\n") == "error: E_INVALID DPUB could not parse timeout abc");
  CHECK(DecodeOne("DPUB t 1.5\n") == "error: E_INVALID DPUB could not parse timeout 1.5");
  CHECK(DecodeOne("DPUB t +5\n") == "error: E_INVALID DPUB could not parse timeout +5");
  CHECK(DecodeOne("DPUB t \n" + Size(1) + "x") == "DPUB [t,] defer=0 body=x");
  CHECK(DecodeOne("DPUB t 007\n" + Size(1) + "x") == "DPUB [t,007] defer=7 body=x");
}

TEST_CASE("the DPUB timeout range is 0 to max-req-timeout inclusive") {
  DecoderLimits limits;
  limits.max_req_timeout_ms = 1000;
  CHECK(DecodeOne("DPUB t 0\n" + Size(1) + "x", limits) == "DPUB [t,0] defer=0 body=x");
  CHECK(DecodeOne("DPUB t 1000\n" + Size(1) + "x", limits) == "DPUB [t,1000] defer=1000 body=x");
  CHECK(DecodeOne("DPUB t 1001\n", limits) ==
        "error: E_INVALID DPUB timeout 1001 out of range 0-1000");
  CHECK(DecodeOne("DPUB t 99999999999999999999999\n", limits) ==
        "error: E_INVALID DPUB timeout 99999999999999999999999 out of range 0-1000");
}

TEST_CASE("PUB and DPUB body sizes are E_BAD_MESSAGE") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne(Pub("t", std::string(100, 'a')), limits) ==
        "PUB [t] body=" + std::string(100, 'a'));
  CHECK(DecodeOne("PUB t\n" + Size(0xFFFFFFFF), limits) ==
        "error: E_BAD_MESSAGE PUB invalid message body size -1");
  CHECK(DecodeOne("PUB t\n" + Size(0x80000000), limits) ==
        "error: E_BAD_MESSAGE PUB invalid message body size -2147483648");
  CHECK(DecodeOne("DPUB t 5\n" + Size(0), limits) ==
        "error: E_BAD_MESSAGE DPUB invalid message body size 0");
  CHECK(DecodeOne("DPUB t 5\n" + Size(101), limits) ==
        "error: E_BAD_MESSAGE DPUB message too big 101 > 100");
}

TEST_CASE("IDENTIFY and AUTH body sizes are E_BAD_BODY against max-body-size") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne("IDENTIFY\n" + Size(0), limits) ==
        "error: E_BAD_BODY IDENTIFY invalid body size 0");
  CHECK(DecodeOne("IDENTIFY\n" + Size(0xFFFFFFFE), limits) ==
        "error: E_BAD_BODY IDENTIFY invalid body size -2");
  CHECK(DecodeOne("IDENTIFY\n" + Size(1001), limits) ==
        "error: E_BAD_BODY IDENTIFY body too big 1001 > 1000");
  CHECK(DecodeOne("IDENTIFY\n" + Size(1000) + std::string(1000, ' '), limits) ==
        "IDENTIFY [] body=" + std::string(1000, ' '));
  CHECK(DecodeOne("AUTH\n" + Size(0), limits) == "error: E_BAD_BODY AUTH invalid body size 0");
  CHECK(DecodeOne("AUTH\n" + Size(1001), limits) ==
        "error: E_BAD_BODY AUTH body too big 1001 > 1000");
}

TEST_CASE("IDENTIFY ignores parameters, AUTH takes none") {
  CHECK(DecodeOne("IDENTIFY x y\n" + Size(2) + "{}") == "IDENTIFY [x,y] body={}");
  CHECK(DecodeOne("AUTH secret\n") == "error: E_INVALID AUTH invalid number of parameters");
  CHECK(DecodeOne("AUTH \n") == "error: E_INVALID AUTH invalid number of parameters");
  CHECK(DecodeOne("AUTH\r\n" + Size(3) + "abc") == "AUTH [] body=abc");
}

TEST_CASE("MPUB body size is E_BAD_BODY") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne("MPUB t\n" + Size(0), limits) == "error: E_BAD_BODY MPUB invalid body size 0");
  CHECK(DecodeOne("MPUB t\n" + Size(0x80000000), limits) ==
        "error: E_BAD_BODY MPUB invalid body size -2147483648");
  CHECK(DecodeOne("MPUB t\n" + Size(1001), limits) ==
        "error: E_BAD_BODY MPUB body too big 1001 > 1000");
}

TEST_CASE("the MPUB message count is read and range-checked") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne(RawMpub("abc"), limits) == "error: E_BAD_BODY MPUB failed to read message count");
  CHECK(DecodeOne(RawMpub(Size(0)), limits) == "error: E_BAD_BODY MPUB invalid message count 0");
  CHECK(DecodeOne(RawMpub(Size(0xFFFFFFFF)), limits) ==
        "error: E_BAD_BODY MPUB invalid message count -1");
  // (1000 - 4) / 5 = 199 one-byte messages fit in 1000 bytes; 200 cannot.
  CHECK(DecodeOne(RawMpub(Size(200) + Size(1) + "x"), limits) ==
        "error: E_BAD_BODY MPUB invalid message count 200");
  std::vector<std::string_view> most(199, "m");
  const std::vector<std::string> outcome = DecodeAnySplit(Mpub("t", most), limits);
  REQUIRE(outcome.size() == 1);
  CHECK(outcome[0].starts_with("MPUB [t] messages=[m,m,"));
}

TEST_CASE("each MPUB message is read and checked, with a 0-based index") {
  const DecoderLimits limits = SmallLimits();
  CHECK(DecodeOne(RawMpub(Size(2) + Size(1) + "a" + "\x00\x00"s), limits) ==
        "error: E_BAD_MESSAGE MPUB failed to read message(1) body size");
  CHECK(DecodeOne(RawMpub(Size(1) + Size(0xFFFFFFFF)), limits) ==
        "error: E_BAD_MESSAGE MPUB invalid message(0) body size -1");
  CHECK(DecodeOne(RawMpub(Size(1) + Size(10) + "abc"), limits) ==
        "error: E_BAD_MESSAGE MPUB failed to read message body");
  CHECK(DecodeOne(RawMpub(Size(1) + Size(0x7FFFFFFF)), limits) ==
        "error: E_BAD_MESSAGE MPUB message too big 2147483647 > 100");
}

TEST_CASE("bytes left over after the last MPUB message are rejected") {
  CHECK(DecodeOne(RawMpub(Size(1) + Size(2) + "ab" + "zz")) ==
        "error: E_BAD_BODY MPUB invalid body size 12: 2 bytes left after message(0)");
}

TEST_CASE("a 2 GB size field is refused at once, without allocating") {
  for (const std::string& header :
       {"PUB t\n"s, "DPUB t 1\n"s, "MPUB t\n"s, "IDENTIFY\n"s, "AUTH\n"s}) {
    CAPTURE(header);
    CommandDecoder decoder;
    const std::string input = header + Size(0x7FFFFFFF);
    g_largest_allocation = 0;
    size_t used = 0;
    CHECK(decoder.Decode(input, &used) == CommandDecoder::Result::kError);
    CHECK(g_largest_allocation.load() < 4096);
    CHECK(decoder.error().text.find("too big 2147483647 > ") != std::string::npos);
  }
}

TEST_CASE("a huge MPUB message count in a small body allocates little") {
  CommandDecoder decoder;  // default limits allow 1048575 messages
  const std::string input = RawMpub(Size(1048575) + Size(1) + "a");
  g_largest_allocation = 0;
  size_t used = 0;
  CHECK(decoder.Decode(input, &used) == CommandDecoder::Result::kError);
  CHECK(decoder.error().FrameData() == "E_BAD_MESSAGE MPUB failed to read message(1) body size");
  CHECK(g_largest_allocation.load() < 4096);
}

TEST_CASE("a command line longer than the limit is refused, even before its newline") {
  DecoderLimits limits;
  limits.max_line_length = 16;
  CHECK(DecodeOne("SUB 123456 89012\n", limits) == "SUB [123456,89012]");  // 16 bytes
  CHECK(DecodeOne("SUB 123456 890123\n", limits) ==
        "error: E_INVALID command line too long (over 16 bytes)");

  CommandDecoder decoder(limits);
  size_t used = 0;
  CHECK(decoder.Decode(std::string(16, 'A'), &used) == CommandDecoder::Result::kNeedMore);
  CHECK(decoder.Decode("A", &used) == CommandDecoder::Result::kError);
  CHECK(decoder.error().FrameData() == "E_INVALID command line too long (over 16 bytes)");
}

TEST_CASE("the decoder stays broken after an error") {
  CommandDecoder decoder;
  size_t used = 0;
  REQUIRE(decoder.Decode("ASDF\nNOP\n", &used) == CommandDecoder::Result::kError);
  const ClientError first = decoder.error();
  for (std::string_view more : {"NOP\n", "", "PUB t\n"}) {
    used = 99;
    CHECK(decoder.Decode(more, &used) == CommandDecoder::Result::kError);
    CHECK(used == 0);
    CHECK(decoder.error() == first);
  }
}

TEST_CASE("pipelined commands come out one per call, each consuming only its own bytes") {
  const std::string first = "NOP\n";
  const std::string second = Pub("t", "body");
  const std::string third = "RDY 5\n";
  const std::string input = first + second + third;
  CommandDecoder decoder;
  std::string_view rest = input;
  size_t used = 0;

  REQUIRE(decoder.Decode(rest, &used) == CommandDecoder::Result::kCommand);
  CHECK(used == first.size());
  CHECK(decoder.command().name == CommandName::kNop);
  rest.remove_prefix(used);

  REQUIRE(decoder.Decode(rest, &used) == CommandDecoder::Result::kCommand);
  CHECK(used == second.size());
  CHECK(decoder.command().name == CommandName::kPub);
  CHECK(decoder.command().body == "body");
  rest.remove_prefix(used);

  REQUIRE(decoder.Decode(rest, &used) == CommandDecoder::Result::kCommand);
  CHECK(used == third.size());
  CHECK(decoder.command().params == std::vector<std::string>{"5"});
  rest.remove_prefix(used);

  CHECK(decoder.Decode(rest, &used) == CommandDecoder::Result::kNeedMore);
  CHECK(used == 0);
}

TEST_CASE("a partial command is buffered and completed by the next bytes") {
  CommandDecoder decoder;
  size_t used = 0;
  CHECK(decoder.Decode("PU", &used) == CommandDecoder::Result::kNeedMore);
  CHECK(used == 2);
  CHECK(decoder.Decode("B t\n\x00\x00"s, &used) == CommandDecoder::Result::kNeedMore);
  CHECK(used == 6);
  CHECK(decoder.Decode("\x00\x03"
                       "ab"s,
                       &used) == CommandDecoder::Result::kNeedMore);
  CHECK(used == 4);
  CHECK(decoder.Decode("cNOP\n", &used) == CommandDecoder::Result::kCommand);
  CHECK(used == 1);
  CHECK(decoder.command().body == "abc");
  CHECK(decoder.command().params == std::vector<std::string>{"t"});
}

TEST_CASE("new limits apply from the next command") {
  CommandDecoder decoder(SmallLimits());
  size_t used = 0;
  REQUIRE(decoder.Decode(Pub("t", std::string(100, 'a')), &used) ==
          CommandDecoder::Result::kCommand);
  DecoderLimits tighter = SmallLimits();
  tighter.max_msg_size = 10;
  decoder.set_limits(tighter);
  REQUIRE(decoder.Decode(Pub("t", std::string(11, 'a')), &used) == CommandDecoder::Result::kError);
  CHECK(decoder.error().FrameData() == "E_BAD_MESSAGE PUB message too big 11 > 10");
}

TEST_CASE("every split of a mixed stream ending in an error gives the same results") {
  const std::string stream = "NOP\r\n" + Pub("a", "1") + Mpub("b#ephemeral", {"x", "yz"}) +
                             "DPUB c 250\n" + Size(3) + "abc" + "SUB c d\n" + "IDENTIFY\n" +
                             Size(2) + "{}" + "\n" + "NOP\n";
  CHECK(DecodeAnySplit(stream) == std::vector<std::string>{
                                      "NOP []",
                                      "PUB [a] body=1",
                                      "MPUB [b#ephemeral] messages=[x,yz]",
                                      "DPUB [c,250] defer=250 body=abc",
                                      "SUB [c,d]",
                                      "IDENTIFY [] body={}",
                                      "error: E_INVALID invalid command ",
                                  });
}

TEST_CASE("random streams of commands and junk decode the same under any split") {
  // The first kWellFormed pieces are whole commands; the rest are junk.
  constexpr size_t kWellFormed = 8;
  const std::vector<std::string> pieces = {
      "NOP\n",
      "RDY 1\n",
      Pub("t", "hello"),
      Mpub("t", {"a", "b"}),
      "DPUB t 5\n" + Size(1) + "d",
      "IDENTIFY\n" + Size(2) + "{}",
      "SUB t c\n",
      "AUTH\n" + Size(1) + "s",
      "\r\n",
      Size(7),
      "PUB",
      " ",
      "\n",
      "\xff",
      std::string(1, '\0'),
  };
  DecoderLimits limits;
  limits.max_line_length = 64;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> any(0, pieces.size() - 1);
    std::uniform_int_distribution<size_t> well_formed(0, kWellFormed - 1);
    std::string stream;
    // Mostly whole commands, so streams get deep before junk breaks them.
    for (int i = 0; i < 30; ++i) stream += pieces[rng() % 4 == 0 ? any(rng) : well_formed(rng)];
    CAPTURE(seed);
    const std::vector<std::string> whole = DecodeWhole(stream, limits);
    CHECK(DecodeByteByByte(stream, limits) == whole);
    CHECK(DecodeRandomSplits(stream, seed, limits) == whole);
  }
}

TEST_CASE("an impossible MPUB count is refused as soon as it is read, before the body") {
  // Body size 1000 declared; only the count has arrived.
  CommandDecoder decoder;
  const std::string head = "MPUB t\n" + Size(1000) + Size(5000000);
  size_t used = 0;
  REQUIRE(decoder.Decode(head, &used) == CommandDecoder::Result::kError);
  CHECK(decoder.error().FrameData() == "E_BAD_BODY MPUB invalid message count 5000000");
  CHECK(decoder.refused_mpub_topic() == "t");  // nsqd has created it by then
}

TEST_CASE("an MPUB refused on its topic name or parameters names no topic to create") {
  CommandDecoder decoder;
  size_t used = 0;
  REQUIRE(decoder.Decode("MPUB bad:topic\n", &used) == CommandDecoder::Result::kError);
  CHECK(decoder.refused_mpub_topic().empty());
  CommandDecoder valid;
  REQUIRE(valid.Decode(Mpub("ok", {"a"}), &used) == CommandDecoder::Result::kCommand);
  CHECK(valid.refused_mpub_topic().empty());
}

TEST_CASE("a failure names the command as the client wrote it, and none for a long line") {
  size_t used = 0;
  CommandDecoder unknown;
  REQUIRE(unknown.Decode("NOP\nASDF x\n", &used) == CommandDecoder::Result::kCommand);
  REQUIRE(unknown.Decode(std::string_view("NOP\nASDF x\n").substr(used), &used) ==
          CommandDecoder::Result::kError);
  CHECK(unknown.Failure().command == "ASDF");
  CHECK(unknown.Failure().error.FrameData() == "E_INVALID invalid command ASDF");

  CommandDecoder bad_params;
  REQUIRE(bad_params.Decode("PUB\n", &used) == CommandDecoder::Result::kError);
  CHECK(bad_params.Failure().command == "PUB");

  CommandDecoder mpub;
  REQUIRE(mpub.Decode("MPUB t\n" + Size(1000) + Size(5000000), &used) ==
          CommandDecoder::Result::kError);
  CHECK(mpub.Failure().command == "MPUB");
  CHECK(mpub.Failure().refused_mpub_topic == "t");

  DecoderLimits short_lines;
  short_lines.max_line_length = 16;
  CommandDecoder long_line(short_lines);
  REQUIRE(long_line.Decode("NOP\n", &used) == CommandDecoder::Result::kCommand);
  REQUIRE(long_line.Decode(std::string(40, 'x'), &used) == CommandDecoder::Result::kError);
  CHECK(long_line.Failure().command.empty());

  CommandDecoder cut;
  REQUIRE(cut.Decode("PUB t\n" + Size(5) + "ab", &used) == CommandDecoder::Result::kNeedMore);
  std::optional<ClientError> error = cut.ErrorAtEndOfInput();
  REQUIRE(error.has_value());
  CHECK(cut.Failure(*error).command == "PUB");
}

TEST_CASE("input ending inside a command gives nsqd's read error") {
  struct Case {
    std::string input;
    std::string error;  // "" when ending there needs no answer
  };
  const std::string pub = Pub("t", "hello");
  const std::string mpub = Mpub("t", {"ab", "cd"});
  for (const Case& c : std::vector<Case>{
           {"", ""},
           {"PU", ""},
           {pub, ""},
           {"PUB t\n", "E_BAD_MESSAGE PUB failed to read message body size"},
           {"PUB t\n" + Size(5).substr(0, 2), "E_BAD_MESSAGE PUB failed to read message body size"},
           {pub.substr(0, pub.size() - 2), "E_BAD_MESSAGE PUB failed to read message body"},
           {"DPUB t 10\n" + Size(3) + "a", "E_BAD_MESSAGE DPUB failed to read message body"},
           {"IDENTIFY\n" + Size(10) + "{", "E_BAD_BODY IDENTIFY failed to read body"},
           {"MPUB t\n", "E_BAD_BODY MPUB failed to read body size"},
           {mpub.substr(0, 11 + 2), "E_BAD_BODY MPUB failed to read message count"},
           {mpub.substr(0, 11 + 4 + 2), "E_BAD_MESSAGE MPUB failed to read message(0) body size"},
           {mpub.substr(0, mpub.size() - 1), "E_BAD_MESSAGE MPUB failed to read message body"},
       }) {
    CAPTURE(c.input);
    CommandDecoder decoder;
    std::string_view input = c.input;
    while (!input.empty()) {
      size_t used = 0;
      if (decoder.Decode(input, &used) == CommandDecoder::Result::kNeedMore) break;
      input.remove_prefix(used);
    }
    std::optional<ClientError> error = decoder.ErrorAtEndOfInput();
    CHECK((error ? error->FrameData() : "") == c.error);
  }
}

}  // namespace
}  // namespace nsq::protocol
