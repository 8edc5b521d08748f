// HttpServer: accepts HTTP/1.1 connections with Boost.Beast and hands requests to HttpApi.
// Keeps Asio/Beast out of this header: the io_context is forward-declared.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nsqd/http/http_api.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context* io, HttpApi* api, int64_t max_body_size);
  ~HttpServer();

  // Binds and starts accepting on the loop; returns the actual port (address may use port 0).
  absl::StatusOr<int> Listen(const std::string& address);
  // Stops accepting and closes open connections.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::nsqd
