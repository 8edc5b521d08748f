// Asking nsqlookupd which nsqd nodes there are, synchronously (each call opens its own HTTP
// connection and waits at most 5 s):
//
//   absl::StatusOr<std::vector<std::string>> nodes =
//       nsq::client::LookupTopicProducers("127.0.0.1:4161", "events");  // {"10.0.0.7:4150", ...}
//   nodes = nsq::client::LookupAllProducers("127.0.0.1:4161");           // every nsqd
//
// The addresses are each nsqd's broadcast address and TCP port, ready for a Producer.
// Thread-safe; do not call from a Producer's callback or a Consumer's handler in a hot loop.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::client {

// The nsqd that `lookupd_http_address` ("host:port") lists for `topic` (GET /lookup).
// NotFound when lookupd does not know the topic; Unavailable/DeadlineExceeded when it cannot
// be asked.
absl::StatusOr<std::vector<std::string>> LookupTopicProducers(
    const std::string& lookupd_http_address, const std::string& topic);

// Every nsqd that `lookupd_http_address` knows (GET /nodes).
absl::StatusOr<std::vector<std::string>> LookupAllProducers(
    const std::string& lookupd_http_address);

}  // namespace nsq::client
