// HttpServer: accepts HTTP/1.1 connections (or HTTPS, given a TLS context) with Boost.Beast and hands each request to an
// HttpHandler (nsqd's or nsqlookupd's API), answering unparsable bytes as Go's net/http does.
// Keeps Asio/Beast out of this header: the io_context is forward-declared.
//
// Lifecycle: owned by the daemon, used on the io_context's thread only; the handler must
// outlive it. Stop() (also run by the destructor) closes the listener and open connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_message.h"
#include "common/net/tls_context.h"

namespace boost::asio {
class io_context;
}

namespace nsq::http {

// How long a client may take. Go's nsqd sets none of these, so a client that trickles a
// header byte by byte (slowloris) holds its connection for as long as it likes; here the whole
// header block must arrive within `header` of its first byte.
struct HttpServerTimeouts {
  // Waiting for a request (between keep-alive requests too), reading a body, writing an answer.
  std::chrono::milliseconds idle = std::chrono::seconds(60);
  // From the first byte of a request to the end of its header block.
  std::chrono::milliseconds header = std::chrono::seconds(10);
};

class HttpServer {
 public:
  // Bodies up to max(max_body_size, handler->MaxRequestBodySize()) are read. With `tls`, every
  // connection is HTTPS (a TLS handshake first).
  HttpServer(boost::asio::io_context* io, HttpHandler* handler, int64_t max_body_size,
             std::shared_ptr<net::TlsServerContext> tls = nullptr,
             HttpServerTimeouts timeouts = {});
  ~HttpServer();

  // Binds and starts accepting on the loop; returns the actual port (address may use port 0).
  absl::StatusOr<int> Listen(const std::string& address);
  // Stops accepting and closes open connections.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::http
