#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/net/listener.h"

namespace nsq::net {
namespace {

using tcp = boost::asio::ip::tcp;

int IntOption(tcp::socket& socket, int level, int name) {
  int value = -1;
  socklen_t size = sizeof(value);
  REQUIRE(getsockopt(socket.native_handle(), level, name, &value, &size) == 0);
  return value;
}

TEST_CASE("an accepted connection gets TCP_NODELAY and Go's 15 s keepalive probes") {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io);
  absl::StatusOr<int> port = OpenListener(&acceptor, "127.0.0.1:0", "TEST");
  REQUIRE(port.ok());
  tcp::socket client(io);
  client.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(*port)));
  tcp::socket accepted = acceptor.accept();
  CHECK(IntOption(accepted, SOL_SOCKET, SO_KEEPALIVE) == 0);  // the kernel's default: off

  ConfigureAccepted(accepted);
  CHECK(IntOption(accepted, IPPROTO_TCP, TCP_NODELAY) == 1);
  CHECK(IntOption(accepted, SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(IntOption(accepted, IPPROTO_TCP, TCP_KEEPIDLE) == kAcceptedKeepAliveSeconds);
  CHECK(IntOption(accepted, IPPROTO_TCP, TCP_KEEPINTVL) == kAcceptedKeepAliveSeconds);
}

}  // namespace
}  // namespace nsq::net
