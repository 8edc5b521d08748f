// Fuzzes the protocol V2 command decoder (common/protocol/command_decoder.h) with arbitrary
// client byte streams: any split gives the same commands and errors, consumed never exceeds
// what was offered, an error is final, decoded commands respect the limits, and every decoded
// command re-encodes (common/protocol/command.h) to bytes that decode to the same command.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/protocol/command.h"
#include "fuzz/v2_decode_check.h"

namespace nsq::fuzz {
namespace {

// Small limits now and then, so the size checks are reached with short inputs too.
protocol::DecoderLimits PickLimits(Splitter& splitter) {
  protocol::DecoderLimits limits;
  if (splitter.Next() % 2 == 0) {
    limits.max_msg_size = static_cast<int64_t>(splitter.Size(64));
    limits.max_body_size = static_cast<int64_t>(splitter.Size(256));
    limits.max_req_timeout_ms = static_cast<int64_t>(splitter.Size(100000));
    limits.max_line_length = splitter.Size(64);
  }
  return limits;
}

// The bytes a client sends for `command`, when the decoder's output determines them exactly.
bool Reencode(const protocol::Command& command, std::string* out) {
  using protocol::CommandName;
  switch (command.name) {
    case CommandName::kIdentify:
      protocol::EncodeIdentify(command.body, out);
      return true;
    case CommandName::kAuth:
      protocol::EncodeAuth(command.body, out);
      return true;
    case CommandName::kPub:
      if (command.params.size() != 1) return false;
      protocol::EncodePub(command.params[0], command.body, out);
      return true;
    case CommandName::kDpub:
      if (command.params.empty()) return false;
      protocol::EncodeDpub(command.params[0], command.defer_ms, command.body, out);
      return true;
    case CommandName::kMpub: {
      if (command.params.size() != 1) return false;
      protocol::EncodeMpub(command.params[0], protocol::ViewsOf(command.messages), out);
      return true;
    }
    case CommandName::kSub:
      if (command.params.size() != 2) return false;
      protocol::EncodeSub(command.params[0], command.params[1], out);
      return true;
    case CommandName::kCls:
      protocol::EncodeCls(out);
      return true;
    case CommandName::kNop:
      protocol::EncodeNop(out);
      return true;
    default:
      return false;
  }
}

}  // namespace
}  // namespace nsq::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  const std::string_view input = AsView(data, size);
  Splitter splitter(input);
  const nsq::protocol::DecoderLimits limits = PickLimits(splitter);
  const V2Outcome outcome = DecodeV2AllWays(input, limits, splitter);

  for (const nsq::protocol::Command& command : outcome.commands) {
    std::string encoded;
    if (!Reencode(command, &encoded)) continue;
    // The re-encoded line may be longer than the one decoded ("DPUB t \n" has defer "" = 0
    // and re-encodes as "DPUB t 0\n"), so the line limit must not refuse it.
    nsq::protocol::DecoderLimits again_limits = limits;
    again_limits.max_line_length = std::max<size_t>(limits.max_line_length, 4096);
    const V2Outcome again = DecodeV2({encoded}, again_limits);
    FUZZ_CHECK(!again.failed);
    FUZZ_CHECK(again.commands.size() == 1);
    const nsq::protocol::Command& decoded = again.commands[0];
    FUZZ_CHECK(decoded.name == command.name);
    FUZZ_CHECK(decoded.body == command.body);
    FUZZ_CHECK(nsq::protocol::ViewsOf(decoded.messages) ==
               nsq::protocol::ViewsOf(command.messages));
    FUZZ_CHECK(decoded.defer_ms == command.defer_ms);
  }
  return 0;
}
