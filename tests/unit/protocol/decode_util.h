// Test helpers: feed a byte stream to a fresh CommandDecoder in chosen pieces and describe
// what came out, one readable string per command or error, so splits can be compared.
#pragma once

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/protocol/command_decoder.h"

namespace nsq::protocol::testing {

// "PUB [test] body=hi", "MPUB [t] messages=[a,bc]", "DPUB [t,10] defer=10 body=x" ...
inline std::string Describe(const Command& command) {
  std::string out(CommandNameText(command.name));
  out += " [" + absl::StrJoin(command.params, ",") + "]";
  if (command.name == CommandName::kDpub) out += " defer=" + std::to_string(command.defer_ms);
  if (!command.body.empty()) out += " body=" + command.body;
  if (!command.messages.empty()) {
    out += " messages=[";
    for (size_t i = 0; i < command.messages.size(); ++i) {
      if (i > 0) out += ",";
      out += command.messages[i].view();
    }
    out += "]";
  }
  return out;
}

// Feeds `input` in pieces of the given sizes (the rest in one final piece). Every command is
// described; an error ends the list as "error: <frame data>".
inline std::vector<std::string> DecodePieces(std::string_view input,
                                             const std::vector<size_t>& sizes,
                                             DecoderLimits limits = {}) {
  CommandDecoder decoder(limits);
  std::vector<std::string> out;
  std::vector<std::string_view> pieces;
  for (size_t size : sizes) {
    size = std::min(size, input.size());
    pieces.push_back(input.substr(0, size));
    input.remove_prefix(size);
  }
  pieces.push_back(input);
  for (std::string_view piece : pieces) {
    while (true) {
      size_t used = 0;
      const CommandDecoder::Result result = decoder.Decode(piece, &used);
      REQUIRE(used <= piece.size());
      piece.remove_prefix(used);
      if (result == CommandDecoder::Result::kError) {
        out.push_back("error: " + decoder.error().FrameData());
        return out;
      }
      if (result == CommandDecoder::Result::kNeedMore) {
        // The decoder buffers what it cannot use yet, so the caller may drop the piece.
        REQUIRE(piece.empty());
        break;
      }
      out.push_back(Describe(decoder.command()));
    }
  }
  return out;
}

inline std::vector<std::string> DecodeWhole(std::string_view input, DecoderLimits limits = {}) {
  return DecodePieces(input, {}, limits);
}

inline std::vector<std::string> DecodeByteByByte(std::string_view input,
                                                 DecoderLimits limits = {}) {
  return DecodePieces(input, std::vector<size_t>(input.size(), 1), limits);
}

// Random piece sizes from a fixed seed (empty pieces included), so failures reproduce.
inline std::vector<std::string> DecodeRandomSplits(std::string_view input, uint32_t seed,
                                                   DecoderLimits limits = {}) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> piece(0, 12);
  std::vector<size_t> sizes;
  for (size_t total = 0; total < input.size();) {
    sizes.push_back(piece(rng));
    total += sizes.back();
  }
  return DecodePieces(input, sizes, limits);
}

// Decodes the input whole, byte by byte and with several random splits, checks they agree,
// and returns the common result.
inline std::vector<std::string> DecodeAnySplit(std::string_view input, DecoderLimits limits = {}) {
  const std::vector<std::string> whole = DecodeWhole(input, limits);
  CHECK(DecodeByteByByte(input, limits) == whole);
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    CHECK(DecodeRandomSplits(input, seed, limits) == whole);
  }
  return whole;
}

// The single outcome of decoding `input` (a command description or "error: ...").
inline std::string DecodeOne(std::string_view input, DecoderLimits limits = {}) {
  const std::vector<std::string> outcomes = DecodeAnySplit(input, limits);
  REQUIRE(outcomes.size() == 1);
  return outcomes.front();
}

}  // namespace nsq::protocol::testing
