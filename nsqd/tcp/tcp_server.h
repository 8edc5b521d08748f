// TcpServer: accepts protocol V2 connections and runs one Session per connection (a reader
// coroutine feeding the command decoder, a writer coroutine batching frames, and a heartbeat
// loop), spread over the shards in turn. Asio stays in tcp_server.cc; this header
// forward-declares the io_context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/net/tls_context.h"
#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/shard/shard_set.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class TcpServer {
 public:
  // `io` is shard 0's loop, where connections are accepted; each is then served on the next
  // shard of `shards` in turn, with its ClientConn on that shard (until a SUB moves it to the
  // topic's owner). `tls` is the server's TLS context, null when nsqd has no
  // --tls-cert/--tls-key: IDENTIFY then never grants tls_v1. `auths` has each shard's
  // authenticator for AUTH (empty: no --auth-http-address).
  TcpServer(boost::asio::io_context* io, BrokerSet* brokers, std::string version,
            std::shared_ptr<net::TlsServerContext> tls, std::vector<Authenticator*> auths,
            ShardSet* shards);
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
