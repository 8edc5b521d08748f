// Topic and channel name rules, shared by nsqd, nsqlookupd and the client.
//
// A valid name is 1..64 bytes of [.a-zA-Z0-9_-], optionally ending in the literal "#ephemeral"
// (the suffix counts toward the 64 bytes). Topics and channels follow the same rule.
//
//   if (!IsValidTopicName(t)) text = "PUB topic name " + QuoteName(t) + " is not valid";
#pragma once

#include <string>
#include <string_view>

namespace nsq::protocol {

inline constexpr std::string_view kEphemeralSuffix = "#ephemeral";
inline constexpr size_t kMaxNameLength = 64;

bool IsValidTopicName(std::string_view name);
bool IsValidChannelName(std::string_view name);

// True when the name ends in "#ephemeral" (does not check validity).
bool IsEphemeralName(std::string_view name);

// Quotes a (possibly invalid) name the way nsqd's error texts do (Go's %q): surrounding double
// quotes, `"` and `\` escaped, control bytes as \n, \t, ... or \xNN, invalid UTF-8 bytes as
// \xNN. Valid multi-byte UTF-8 is kept as is (Go would also escape the rare non-printable
// code points; no client depends on that).
std::string QuoteName(std::string_view name);

}  // namespace nsq::protocol
