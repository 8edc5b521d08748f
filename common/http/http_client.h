// An outbound HTTP/1.1 request on the daemon's event loop (nsqd asks its auth servers with it):
// one connection per request, plain or HTTPS, bounded by a connect timeout and a whole-request
// timeout (nsqd's --http-client-connect-timeout / --http-client-request-timeout), with the
// response body capped so a misbehaving server cannot grow our memory.
//
//   FetchOptions options{.connect_timeout = absl::Seconds(2), .request_timeout = absl::Seconds(5)};
//   HttpFetch(&io, "GET", "http://127.0.0.1:4181/auth?secret=s", "", {}, options,
//             [](absl::StatusOr<FetchResponse> r) { ... });   // on the io_context's thread
//
// Asio and Beast stay in the .cc file.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace nsq::http {

struct FetchOptions {
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration request_timeout = absl::Seconds(5);
  size_t max_body_size = 1 << 20;
  // For https:// URLs: verifies the server with it (null: https:// is refused).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

struct FetchResponse {
  int status = 0;
  std::string body;
};

// Performs `method url` with `body` and `headers` and calls `done` once, on `io`'s thread.
// Errors: InvalidArgument (a URL it cannot use), Unavailable (connect/transport),
// DeadlineExceeded, ResourceExhausted (a body over max_body_size).
void HttpFetch(boost::asio::io_context* io, std::string method, std::string url,
               std::string body, std::vector<std::pair<std::string, std::string>> headers,
               const FetchOptions& options,
               std::function<void(absl::StatusOr<FetchResponse>)> done);

}  // namespace nsq::http
