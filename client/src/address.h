// Addresses the client accepts, checked where they are given (a bad one is an error at the
// call, not a failure at every later dial or poll). Internal.
//
//   SplitAddress("10.0.0.7:4150")          → {"10.0.0.7", "4150"}
//   SplitAddress("[::1]:4150")             → {"::1", "4150"}
//   ParseLookupdAddress("http://lookupd:4161") → {host "lookupd", port "4161", path "/lookup"}
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsq::client::internal {

// "host:port" or "[v6]:port" → host, port text. The host is a name or address of
// [A-Za-z0-9._-] (IPv6 inside brackets), empty meaning 127.0.0.1; the port 1..65535.
// InvalidArgument otherwise, naming what is wrong.
absl::StatusOr<std::pair<std::string, std::string>> SplitAddress(std::string_view address);

// An nsqd TCP address as SplitAddress accepts it; a URL is refused with a hint.
absl::Status ValidateTcpAddress(std::string_view address);

// Where an nsqlookupd answers: "host:port" or "http://host:port[/path]" (go-nsq accepts
// both); the path, "/lookup" when absent or "/", is where topic lookups go.
struct LookupdEndpoint {
  std::string host;
  std::string port;
  std::string lookup_path;
  // "host:port" for the Host header and log lines.
  std::string authority;
};
absl::StatusOr<LookupdEndpoint> ParseLookupdAddress(std::string_view address);

}  // namespace nsq::client::internal
