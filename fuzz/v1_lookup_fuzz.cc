// Fuzzes nsqlookupd's V1 codec (common/protocol/lookup_v1.h): LookupRequestDecoder on what a
// peer sends (the input as is, and after the magic so most inputs get past it) and
// LookupResponseDecoder on what a lookupd answers. Any split gives the same result, consumed
// never exceeds what was offered, an error is final, REGISTER/UNREGISTER only come after one
// IDENTIFY, and decoded commands and IDENTIFY replies re-encode to the same values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/lookup_v1.h"
#include "fuzz/fuzz_util.h"

namespace nsq::fuzz {
namespace {

using protocol::LookupCommand;
using protocol::LookupCommandType;
using protocol::LookupRequestDecoder;
using protocol::LookupResponseDecoder;

struct RequestOutcome {
  std::vector<std::string> events;
  std::vector<LookupCommand> commands;
  bool operator==(const RequestOutcome& other) const {
    return events == other.events && commands == other.commands;
  }
};

RequestOutcome DecodeRequests(const std::vector<std::string_view>& pieces) {
  LookupRequestDecoder decoder;
  RequestOutcome out;
  bool identified = false;
  for (std::string_view piece : pieces) {
    const size_t piece_size = piece.size();
    for (size_t round = 0;; ++round) {
      FUZZ_CHECK(round <= piece_size + 1);
      size_t used = 0;
      const LookupRequestDecoder::Result result = decoder.Decode(piece, &used);
      FUZZ_CHECK(used <= piece.size());
      piece.remove_prefix(used);
      if (result == LookupRequestDecoder::Result::kError) {
        out.events.push_back("error: " + protocol::LookupErrorData(decoder.error()));
        for (std::string_view more : {std::string_view(), std::string_view("PING\n"), piece}) {
          size_t more_used = 0;
          FUZZ_CHECK(decoder.Decode(more, &more_used) == LookupRequestDecoder::Result::kError);
        }
        (void)decoder.ErrorAtEndOfInput();
        return out;
      }
      if (result == LookupRequestDecoder::Result::kNeedMore) {
        FUZZ_CHECK(piece.empty());
        break;
      }
      const LookupCommand& command = decoder.command();
      if (command.type == LookupCommandType::kIdentify) {
        FUZZ_CHECK(!identified);  // IDENTIFY is allowed once
        identified = true;
      }
      if (command.type == LookupCommandType::kRegister ||
          command.type == LookupCommandType::kUnregister) {
        FUZZ_CHECK(identified);
        FUZZ_CHECK(!command.topic.empty());
      }
      FUZZ_CHECK(decoder.identified() == identified);
      out.commands.push_back(command);
    }
  }
  const std::optional<protocol::ClientError> at_end = decoder.ErrorAtEndOfInput();
  out.events.push_back(at_end ? "eof: " + protocol::LookupErrorData(*at_end) : "eof");
  return out;
}

RequestOutcome DecodeRequestsAllWays(std::string_view input, Splitter& splitter) {
  RequestOutcome whole = DecodeRequests({input});
  FUZZ_CHECK(DecodeRequests(splitter.Pieces(input, 9)) == whole);
  FUZZ_CHECK(DecodeRequests(splitter.Pieces(input, 300)) == whole);
  return whole;
}

// Re-encodes the commands (as nsqd would send them) and decodes them again.
void CheckRequestRoundTrip(const std::vector<LookupCommand>& commands) {
  std::string stream(protocol::kMagicV1);
  for (const LookupCommand& command : commands) {
    switch (command.type) {
      case LookupCommandType::kPing:
        stream += protocol::EncodeLookupPing();
        break;
      case LookupCommandType::kIdentify:
        stream += protocol::EncodeLookupIdentify(command.peer);
        break;
      case LookupCommandType::kRegister:
        stream += protocol::EncodeLookupRegister(command.topic, command.channel);
        break;
      case LookupCommandType::kUnregister:
        stream += protocol::EncodeLookupUnregister(command.topic, command.channel);
        break;
    }
  }
  const RequestOutcome again = DecodeRequests({stream});
  FUZZ_CHECK(again.commands == commands);
  FUZZ_CHECK(again.events.size() == 1 && again.events[0] == "eof");
}

struct ResponseOutcome {
  std::vector<std::string> events;
  bool operator==(const ResponseOutcome&) const = default;
};

ResponseOutcome DecodeResponses(const std::vector<std::string_view>& pieces, uint32_t max_size) {
  LookupResponseDecoder decoder(max_size);
  ResponseOutcome out;
  for (std::string_view piece : pieces) {
    const size_t piece_size = piece.size();
    for (size_t round = 0;; ++round) {
      FUZZ_CHECK(round <= piece_size + 1);
      size_t used = 0;
      const LookupResponseDecoder::Result result = decoder.Decode(piece, &used);
      FUZZ_CHECK(used <= piece.size());
      piece.remove_prefix(used);
      if (result == LookupResponseDecoder::Result::kError) {
        FUZZ_CHECK(!decoder.error().empty());
        out.events.push_back("error: " + decoder.error());
        size_t more_used = 0;
        FUZZ_CHECK(decoder.Decode(piece, &more_used) == LookupResponseDecoder::Result::kError);
        return out;
      }
      if (result == LookupResponseDecoder::Result::kNeedMore) {
        FUZZ_CHECK(piece.empty());
        break;
      }
      const std::string& data = decoder.response();
      FUZZ_CHECK(data.size() <= max_size);
      out.events.push_back((protocol::IsLookupErrorResponse(data) ? "E " : "R ") + data);
      if (absl::StatusOr<protocol::LookupdInfo> info = protocol::ParseLookupIdentifyResponse(data);
          info.ok()) {
        const std::string encoded = protocol::EncodeLookupIdentifyResponse(*info);
        absl::StatusOr<protocol::LookupdInfo> again =
            protocol::ParseLookupIdentifyResponse(encoded);
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(*again == *info);
      }
      // A response takes at least its 4-byte size, so an empty piece cannot yield one.
      FUZZ_CHECK(used > 0);
    }
  }
  return out;
}

}  // namespace
}  // namespace nsq::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  const std::string_view input = AsView(data, size);
  Splitter splitter(input);

  DecodeRequestsAllWays(input, splitter);
  const std::string with_magic = std::string(nsq::protocol::kMagicV1) + std::string(input);
  const RequestOutcome outcome = DecodeRequestsAllWays(with_magic, splitter);
  CheckRequestRoundTrip(outcome.commands);

  const uint32_t max_size = splitter.Next() % 2 == 0 ? 1u << 20 : splitter.Size(64);
  const ResponseOutcome whole = DecodeResponses({input}, max_size);
  FUZZ_CHECK(DecodeResponses(splitter.Pieces(input, 5), max_size) == whole);
  FUZZ_CHECK(DecodeResponses(splitter.Pieces(input, 200), max_size) == whole);
  return 0;
}
