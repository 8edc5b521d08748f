// Listen and connect addresses as NSQ's flags spell them: "host:port", "[v6]:port" or ":port"
// (all interfaces). Shared by the TCP and HTTP listeners of nsqd and nsqlookupd.
//
//   absl::StatusOr<std::pair<std::string, int>> hp = SplitHostPort("127.0.0.1:4150");
//   // hp->first == "127.0.0.1", hp->second == 4150
#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace nsq::net {

// Splits at the last ':' and strips IPv6 brackets; the host may be empty, the port must be a
// number in [0, 65535]. Nothing is resolved.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address);

}  // namespace nsq::net
