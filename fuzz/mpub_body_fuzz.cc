// Fuzzes the MPUB body parser through the V2 decoder: the input is the body of
// "MPUB <topic>\n" [int32 size]. A body the decoder accepts must re-encode (EncodeMpub) to the
// very same bytes, since nsqd's MPUB framing leaves no freedom; any split gives the same
// outcome; and a body cut short is never a command.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/command.h"
#include "fuzz/v2_decode_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  namespace protocol = nsq::protocol;
  const std::string_view body = AsView(data, size);
  Splitter splitter(body);

  protocol::DecoderLimits limits;
  if (splitter.Next() % 2 == 0) {
    limits.max_msg_size = static_cast<int64_t>(splitter.Size(64));
    limits.max_body_size = static_cast<int64_t>(splitter.Size(4096));
  }

  std::string stream = "MPUB fuzz\n";
  char size_bytes[4];
  const uint32_t declared = static_cast<uint32_t>(body.size());
  size_bytes[0] = static_cast<char>(declared >> 24);
  size_bytes[1] = static_cast<char>(declared >> 16);
  size_bytes[2] = static_cast<char>(declared >> 8);
  size_bytes[3] = static_cast<char>(declared);
  stream.append(size_bytes, 4);
  const size_t header_size = stream.size();
  stream.append(body);

  const V2Outcome outcome = DecodeV2AllWays(stream, limits, splitter);
  if (!outcome.failed) {
    FUZZ_CHECK(outcome.commands.size() == 1);
    const protocol::Command& command = outcome.commands[0];
    FUZZ_CHECK(command.name == protocol::CommandName::kMpub);
    std::string encoded;
    protocol::EncodeMpub("fuzz", protocol::ViewsOf(command.messages), &encoded);
    FUZZ_CHECK(encoded == stream);
  }

  // The same stream cut short somewhere in the body: never a command (what ErrorAtEndOfInput
  // answers is checked to be split-independent; nothing is owed once all messages are in).
  if (!body.empty()) {
    const size_t cut = header_size + splitter.Next() % body.size();
    const V2Outcome truncated =
        DecodeV2AllWays(std::string_view(stream).substr(0, cut), limits, splitter);
    FUZZ_CHECK(truncated.commands.empty());
  }
  return 0;
}
