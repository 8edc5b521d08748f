// Topic and channel name rules, shared by nsqd, nsqlookupd and the client.
//
// A valid name is 1..64 bytes of [.a-zA-Z0-9_-], optionally ending in the literal "#ephemeral"
// (the suffix counts toward the 64 bytes). Topics and channels follow the same rule.
#pragma once

#include <string_view>

namespace nsq::protocol {

inline constexpr std::string_view kEphemeralSuffix = "#ephemeral";
inline constexpr size_t kMaxNameLength = 64;

bool IsValidTopicName(std::string_view name);
bool IsValidChannelName(std::string_view name);

// True when the name ends in "#ephemeral" (does not check validity).
bool IsEphemeralName(std::string_view name);

}  // namespace nsq::protocol
