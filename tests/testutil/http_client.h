// A minimal blocking HTTP/1.1 client for tests of nsqd's HTTP API: one request per connection
// (Connection: close), the whole response read until the server closes (or Content-Length /
// chunked end), no redirects, no TLS.
//
//   absl::StatusOr<HttpResponse> r = HttpPost(port, "/pub?topic=t", "hello");
//   CHECK(r->status == 200);
//   CHECK(r->body == "OK");
//   CHECK(r->Header("X-NSQ-Content-Type") == "nsq; version=1.0");
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::testutil {

struct HttpResponse {
  int status = 0;
  std::string reason;
  // In the order received, names as the server wrote them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked

  // The first value of a header (name compared case-insensitively); nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Sends `method target` to 127.0.0.1:port with Host, Connection: close and, for a non-empty
// body or for POST/PUT, Content-Length. Fails on connection errors, a timeout, or a response
// that does not parse.
absl::StatusOr<HttpResponse> HttpRequest(
    uint16_t port, std::string_view method, std::string_view target, std::string_view body = "",
    const HttpHeaders& extra_headers = {},
    std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

absl::StatusOr<HttpResponse> HttpGet(uint16_t port, std::string_view target);
absl::StatusOr<HttpResponse> HttpPost(uint16_t port, std::string_view target,
                                      std::string_view body = "");
absl::StatusOr<HttpResponse> HttpPut(uint16_t port, std::string_view target,
                                     std::string_view body = "");

// Parses a complete HTTP/1.x response (exposed for the client's own tests).
absl::StatusOr<HttpResponse> ParseHttpResponse(std::string_view raw);

}  // namespace nsq::testutil
