// Client-to-server commands of protocol V2: the parsed form, and encoders that produce the
// exact bytes a client sends (used by our client, the bench tool and the tests).
//
// Wire form: NAME[ param]*\n, then for IDENTIFY/AUTH/PUB/DPUB [int32 size][body], and for
// MPUB [int32 body size][int32 count] count x ([int32 size][bytes]).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/body.h"

namespace nsq::protocol {

enum class CommandName {
  kIdentify,
  kAuth,
  kSub,
  kPub,
  kMpub,
  kDpub,
  kRdy,
  kFin,
  kReq,
  kTouch,
  kCls,
  kNop,
};

std::string_view CommandNameText(CommandName name);

// Parses a numeric parameter (RDY count, REQ/DPUB milliseconds) as nsqd does: decimal digits
// only, no sign; an empty string is 0 (quirk). Overflow saturates so it fails range checks.
std::optional<uint64_t> ParseDecimal(std::string_view text);

// One decoded command. For body commands the decoder has already checked what does not
// depend on connection state (parameter count, topic name, sizes, DPUB range), in nsqd's order.
struct Command {
  CommandName name = CommandName::kNop;
  // Tokens after the command name, split on single spaces (empty tokens kept).
  std::vector<std::string> params;
  // IDENTIFY/AUTH: the raw body. PUB/DPUB: the message body.
  std::string body;
  // MPUB: the message bodies, in order (each non-empty, within --max-msg-size), each already
  // in the one allocation a published message keeps (a handler may move them away).
  std::vector<Body> messages;
  // DPUB: the defer time in milliseconds (already range-checked).
  int64_t defer_ms = 0;
};

// Encoders: append the exact client bytes to *out.
void EncodeIdentify(std::string_view json, std::string* out);
void EncodeAuth(std::string_view secret, std::string* out);
void EncodeSub(std::string_view topic, std::string_view channel, std::string* out);
void EncodePub(std::string_view topic, std::string_view body, std::string* out);
void EncodeMpub(std::string_view topic, const std::vector<std::string_view>& bodies,
                std::string* out);
void EncodeDpub(std::string_view topic, int64_t defer_ms, std::string_view body, std::string* out);
void EncodeRdy(int64_t count, std::string* out);
void EncodeFin(std::string_view id, std::string* out);
void EncodeReq(std::string_view id, int64_t delay_ms, std::string* out);
void EncodeTouch(std::string_view id, std::string* out);
void EncodeCls(std::string* out);
void EncodeNop(std::string* out);

}  // namespace nsq::protocol
