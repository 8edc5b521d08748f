// TcpServer: accepts protocol V2 connections and runs one Session per connection (a reader
// coroutine feeding the command decoder, a writer coroutine batching frames, and a heartbeat
// loop), on shard 0 or, with several shards, on each in turn. Asio stays in tcp_server.cc;
// this header forward-declares the io_context.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/net/tls_context.h"
#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker.h"
#include "nsqd/shard/shard_set.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class TcpServer {
 public:
  // `tls` is the server's TLS context, null when nsqd has no --tls-cert/--tls-key: IDENTIFY
  // then never grants tls_v1. `auth` answers AUTH (null: no --auth-http-address). With
  // `shards`, accepted connections are spread over them in turn (`io` is shard 0's loop, where
  // the broker and every ClientConn live); without, all are served on `io`.
  TcpServer(boost::asio::io_context* io, Broker* broker, std::string version,
            std::shared_ptr<net::TlsServerContext> tls = nullptr, Authenticator* auth = nullptr,
            ShardSet* shards = nullptr);
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
