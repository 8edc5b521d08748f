// nsqlookupd's TCP protocol "V1" (NSQ-REFERENCE §7.1), both directions, as pure functions over
// bytes: what nsqd sends (magic, IDENTIFY, REGISTER, UNREGISTER, PING) and what lookupd answers
// ([uint32 size][data], no frame type). nsqlookupd decodes requests and encodes replies; nsqd
// encodes requests and decodes replies with the same code.
//
//   LookupRequestDecoder decoder;                       // lookupd side, magic included
//   size_t used = 0;
//   switch (decoder.Decode(input, &used)) {
//     case LookupRequestDecoder::Result::kNeedMore: ...  // wait for bytes
//     case LookupRequestDecoder::Result::kCommand: Apply(decoder.command()); ...
//     case LookupRequestDecoder::Result::kError:         // every V1 error is fatal
//       AppendLookupResponse(LookupErrorData(decoder.error()), &out); close after writing;
//   }
//
//   std::string bytes = std::string(kMagicV1) + EncodeLookupIdentify(peer) +
//                       EncodeLookupRegister("topic", "channel");  // nsqd side
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/protocol/errors.h"

namespace nsq::protocol {

inline constexpr std::string_view kMagicV1 = "  V1";
// Upstream reads any IDENTIFY body size (a negative one crashes it); we refuse more than this.
// nsqd's IDENTIFY body is a few hundred bytes.
inline constexpr int32_t kMaxLookupIdentifySize = 1 << 20;
// The longest command line: REGISTER with two 64-byte names needs under 150 bytes.
inline constexpr size_t kMaxLookupLineLength = 4096;

// What nsqd says about itself in IDENTIFY (and lookupd reports in /lookup and /nodes).
struct LookupPeerInfo {
  std::string broadcast_address;
  std::string hostname;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
  std::string topology_zone;
  std::string topology_region;

  bool operator==(const LookupPeerInfo&) const = default;
};

// What lookupd answers to IDENTIFY.
struct LookupdInfo {
  std::string broadcast_address;
  std::string hostname;
  int64_t http_port = 0;
  int64_t tcp_port = 0;
  std::string version;

  bool operator==(const LookupdInfo&) const = default;
};

enum class LookupCommandType { kPing, kIdentify, kRegister, kUnregister };

struct LookupCommand {
  LookupCommandType type = LookupCommandType::kPing;
  std::string topic;    // REGISTER / UNREGISTER
  std::string channel;  // REGISTER / UNREGISTER; empty: the topic itself
  LookupPeerInfo peer;  // IDENTIFY

  bool operator==(const LookupCommand&) const = default;
};

// --- nsqd -> lookupd ---

std::string EncodeLookupPing();  // "PING\n"
// "IDENTIFY\n" [int32 size] EncodeLookupPeerInfo(peer)
std::string EncodeLookupIdentify(const LookupPeerInfo& peer);
// "REGISTER topic[ channel]\n"; an empty channel registers the topic alone.
std::string EncodeLookupRegister(std::string_view topic, std::string_view channel = {});
std::string EncodeLookupUnregister(std::string_view topic, std::string_view channel = {});

// The IDENTIFY JSON body, keys sorted as Go nsqd sends them (it marshals a map).
std::string EncodeLookupPeerInfo(const LookupPeerInfo& peer);
// As lookupd's json.Unmarshal into its PeerInfo: keys match case-insensitively, unknown keys
// are ignored, null leaves a field empty, a value of the wrong type (e.g. 4150.0 for a port)
// is an error. Does not check that the required fields are there.
absl::StatusOr<LookupPeerInfo> ParseLookupPeerInfo(std::string_view json);

// Decodes the byte stream a lookupd receives, starting with the 4-byte magic. Push-fed and
// resumable: any split of the same input gives the same commands and errors. It also keeps the
// one piece of protocol state, whether the peer has identified: IDENTIFY is allowed once and
// REGISTER/UNREGISTER only after it. Every error is fatal; afterwards every call returns
// kError again.
class LookupRequestDecoder {
 public:
  enum class Result { kNeedMore, kCommand, kError };

  // Consumes bytes from `input` (sets *consumed) and stops after at most one command.
  // kCommand: command() holds it until the next call. kError: error() says why.
  Result Decode(std::string_view input, size_t* consumed);

  // The error to send when the peer's input ends here (lookupd answers a cut-off IDENTIFY
  // before closing); nullopt when ending here needs no answer.
  std::optional<ClientError> ErrorAtEndOfInput() const;

  const LookupCommand& command() const { return command_; }
  const ClientError& error() const { return error_; }
  bool identified() const { return identified_; }

 private:
  enum class State { kMagic, kLine, kBodySize, kBody, kBroken };

  Result Fail(std::string_view code, std::string text);
  Result OnLine(std::string_view line);
  Result OnBody();

  State state_ = State::kMagic;
  std::string pending_;  // partial magic, line, size or body
  size_t body_size_ = 0;
  bool identified_ = false;
  LookupCommand command_;
  ClientError error_;
};

// --- lookupd -> nsqd ---

// Appends one reply: [uint32 size][data].
void AppendLookupResponse(std::string_view data, std::string* out);
// The data of an error reply: "E_CODE description", or the bare code when there is no
// description (E_BAD_PROTOCOL).
std::string LookupErrorData(const ClientError& error);

// lookupd's IDENTIFY reply, keys sorted as Go marshals its map.
std::string EncodeLookupIdentifyResponse(const LookupdInfo& info);
absl::StatusOr<LookupdInfo> ParseLookupIdentifyResponse(std::string_view json);

// Decodes the replies an nsqd receives. Push-fed and resumable like the request decoder; a
// declared size over `max_size` is an error (nsqd bounds replies by --max-body-size).
class LookupResponseDecoder {
 public:
  enum class Result { kNeedMore, kResponse, kError };

  explicit LookupResponseDecoder(uint32_t max_size) : max_size_(max_size) {}

  Result Decode(std::string_view input, size_t* consumed);

  // The reply data ("OK", a JSON document, or "E_CODE description").
  const std::string& response() const { return response_; }
  const std::string& error() const { return error_; }

 private:
  uint32_t max_size_;
  std::string pending_;
  std::optional<uint32_t> size_;
  std::string response_;
  std::string error_;
  bool broken_ = false;
};

// True for an error reply ("E_...").
bool IsLookupErrorResponse(std::string_view data);

}  // namespace nsq::protocol
