// Listen and connect addresses as NSQ's flags spell them: "host:port", "[v6]:port" or ":port"
// (all interfaces), and this machine's hostname. Shared by nsqd and nsqlookupd.
//
//   absl::StatusOr<std::pair<std::string, int>> hp = SplitHostPort("127.0.0.1:4150");
//   // hp->first == "127.0.0.1", hp->second == 4150
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace nsq::net {

// Splits at the last ':' and strips IPv6 brackets; the host may be empty, the port must be a
// number in [0, 65535]. Nothing is resolved.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address);

// Go's net.JoinHostPort: "host:port", with the host in brackets when it contains a ':' (IPv6),
// as the daemons log and report the endpoints they use.
std::string JoinHostPort(std::string_view host, int64_t port);

// This machine's hostname (the default broadcast address and what IDENTIFY and /info report);
// "localhost" when it cannot be read.
std::string Hostname();

}  // namespace nsq::net
