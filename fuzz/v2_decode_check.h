// The checks v2_command_fuzz and mpub_body_fuzz share: decode a V2 client stream with
// CommandDecoder in one piece, byte by byte and in random splits, check the decoder's
// invariants on the way, and check that every split gives the same commands and errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/command_decoder.h"
#include "fuzz/fuzz_util.h"

namespace nsq::fuzz {

// What one decode of a stream produced: one line per command, then the error if any, then
// what ErrorAtEndOfInput says at the end.
struct V2Outcome {
  std::vector<std::string> events;
  std::vector<protocol::Command> commands;
  bool failed = false;

  bool operator==(const V2Outcome& other) const { return events == other.events; }
};

inline std::string DescribeV2(const protocol::Command& command) {
  std::string out(protocol::CommandNameText(command.name));
  for (const std::string& param : command.params) out += " [" + param + "]";
  out += " defer=" + std::to_string(command.defer_ms);
  out += " body=" + std::to_string(command.body.size()) + ":" + command.body;
  for (const protocol::Body& message : command.messages) {
    out += " msg=" + std::to_string(message.size()) + ":";
    out += message.view();
  }
  return out;
}

// The limits a decoded command must respect, whatever the input.
inline void CheckCommandWithinLimits(const protocol::Command& command,
                                     const protocol::DecoderLimits& limits) {
  using protocol::CommandName;
  switch (command.name) {
    case CommandName::kPub:
    case CommandName::kDpub:
      FUZZ_CHECK(static_cast<int64_t>(command.body.size()) <= limits.max_msg_size);
      FUZZ_CHECK(command.defer_ms >= 0 && command.defer_ms <= limits.max_req_timeout_ms);
      break;
    case CommandName::kIdentify:
    case CommandName::kAuth:
      FUZZ_CHECK(static_cast<int64_t>(command.body.size()) <= limits.max_body_size);
      break;
    case CommandName::kMpub:
      FUZZ_CHECK(!command.messages.empty());
      for (const protocol::Body& message : command.messages) {
        FUZZ_CHECK(!message.empty());
        FUZZ_CHECK(static_cast<int64_t>(message.size()) <= limits.max_msg_size);
      }
      break;
    default:
      FUZZ_CHECK(command.body.empty());
      FUZZ_CHECK(command.messages.empty());
  }
}

inline V2Outcome DecodeV2(const std::vector<std::string_view>& pieces,
                          const protocol::DecoderLimits& limits) {
  using Result = protocol::CommandDecoder::Result;
  protocol::CommandDecoder decoder(limits);
  V2Outcome out;
  for (std::string_view piece : pieces) {
    // Every command takes at least one byte ("\n"), so a piece cannot yield more commands
    // than it has bytes; more would be a decoder that stopped making progress.
    const size_t piece_size = piece.size();
    for (size_t round = 0;; ++round) {
      FUZZ_CHECK(round <= piece_size + 1);
      size_t used = 0;
      const Result result = decoder.Decode(piece, &used);
      FUZZ_CHECK(used <= piece.size());
      piece.remove_prefix(used);
      if (result == Result::kError) {
        out.failed = true;
        out.events.push_back("error: " + decoder.error().FrameData() +
                             " refused_mpub_topic=" + decoder.refused_mpub_topic());
        // After kError the decoder stays broken, whatever it is fed.
        for (std::string_view more : {std::string_view(), std::string_view("NOP\n"), piece}) {
          size_t more_used = 0;
          FUZZ_CHECK(decoder.Decode(more, &more_used) == Result::kError);
          FUZZ_CHECK(more_used <= more.size());
        }
        (void)decoder.ErrorAtEndOfInput();
        return out;
      }
      if (result == Result::kNeedMore) {
        // The decoder buffers what it cannot use yet, so the caller may drop the piece.
        FUZZ_CHECK(piece.empty());
        break;
      }
      CheckCommandWithinLimits(decoder.command(), limits);
      out.events.push_back(DescribeV2(decoder.command()));
      out.commands.push_back(decoder.command());
    }
  }
  std::optional<protocol::ClientError> at_end = decoder.ErrorAtEndOfInput();
  out.events.push_back(at_end ? "at end: " + at_end->FrameData() : "at end: nothing");
  return out;
}

// Decodes `input` whole, byte by byte (when short) and in random splits; all must agree.
inline V2Outcome DecodeV2AllWays(std::string_view input, const protocol::DecoderLimits& limits,
                                 Splitter& splitter) {
  V2Outcome whole = DecodeV2({input}, limits);
  for (size_t max_piece : {size_t{7}, size_t{64}, input.size() + 1}) {
    V2Outcome split = DecodeV2(splitter.Pieces(input, max_piece), limits);
    FUZZ_CHECK(split == whole);
  }
  if (input.size() <= 512) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
    FUZZ_CHECK(DecodeV2(bytes, limits) == whole);
  }
  return whole;
}

}  // namespace nsq::fuzz
