// Asking nsqlookupd's HTTP API which nsqd nodes there are: GET /lookup?topic=X (the nsqd that
// have a topic) and GET /nodes (every nsqd). Shared by the Consumer's discovery and the public
// synchronous functions of nsq/lookupd.h. Internal: only .cc files that use Asio include it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "absl/status/statusor.h"

namespace nsq::client::internal {

// A request (connect, send, read to EOF) gets this long.
inline constexpr std::chrono::seconds kLookupdTimeout(5);

// The producers' "broadcast_address:tcp_port" that lookupd at `address` ("host:port" or
// "http://host:port[/path]") lists for
// `topic`, or every producer it knows when `topic` is empty (GET /nodes). An error when lookupd
// cannot be asked or does not know the topic (HTTP 404 is NotFound).
boost::asio::awaitable<absl::StatusOr<std::vector<std::string>>> FetchProducers(
    std::string address, std::string topic);

}  // namespace nsq::client::internal
