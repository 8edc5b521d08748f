// LookupdTcpServer: accepts nsqd's registration connections (protocol V1) and applies their
// IDENTIFY / REGISTER / UNREGISTER / PING to the RegistrationDb. One coroutine per connection
// reads, decodes (common/protocol/lookup_v1.h), applies and writes the replies; when the
// connection ends the peer leaves every registration. Asio stays in tcp_server.cc.
//
// Lifecycle: owned by the Lookupd, used on its io_context thread; the database and `self`
// (what IDENTIFY answers) must outlive it. Stop() closes the listener and every connection.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/protocol/lookup_v1.h"
#include "lookupd/registration_db.h"

namespace boost::asio {
class io_context;
}

namespace nsq::lookupd {

class LookupdTcpServer {
 public:
  LookupdTcpServer(boost::asio::io_context* io, RegistrationDb* db,
                   const protocol::LookupdInfo* self);
  ~LookupdTcpServer();

  // Binds `address` (host:port, port may be 0) and starts accepting. Returns the bound port.
  absl::StatusOr<int> Listen(const std::string& address);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::lookupd
