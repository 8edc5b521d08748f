// TcpServer: accepts protocol V2 connections and runs one Session per connection (a reader
// coroutine feeding the command decoder, a writer coroutine batching frames, and a heartbeat
// loop). Asio stays in tcp_server.cc; this header forward-declares the io_context.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/net/tls_context.h"
#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class TcpServer {
 public:
  // `tls` is the server's TLS context, null when nsqd has no --tls-cert/--tls-key: IDENTIFY
  // then never grants tls_v1. `auth` answers AUTH (null: no --auth-http-address).
  TcpServer(boost::asio::io_context* io, Broker* broker, std::string version,
            std::shared_ptr<net::TlsServerContext> tls = nullptr, Authenticator* auth = nullptr);
  ~TcpServer();

  // Binds `address` (host:port, port may be 0) and starts accepting. Returns the bound port.
  absl::StatusOr<int> Listen(const std::string& address);
  // Stops accepting new connections (open ones are closed through the broker).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::nsqd
