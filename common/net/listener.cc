#include "common/net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "absl/strings/str_format.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"

namespace nsq::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

absl::StatusOr<tcp::endpoint> ResolveListenAddress(const asio::any_io_executor& executor,
                                                   const std::string& address) {
  absl::StatusOr<std::pair<std::string, int>> host_port = SplitHostPort(address);
  if (!host_port.ok()) return host_port.status();
  const auto& [host, port] = *host_port;
  if (host.empty()) return tcp::endpoint(tcp::v4(), static_cast<uint16_t>(port));
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(ip, static_cast<uint16_t>(port));
  tcp::resolver resolver(executor);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot resolve %s: %s", host, ec ? ec.message() : std::string("no address")));
  }
  return results.begin()->endpoint();
}

}  // namespace

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  return JoinHostPort(endpoint.address().to_string(), endpoint.port());
}

void ConfigureAccepted(tcp::socket& socket) {
  boost::system::error_code ignored;  // best effort, as Go's: the connection works without
  socket.set_option(tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int seconds = kAcceptedKeepAliveSeconds;
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof(seconds));
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof(seconds));
}

absl::StatusOr<int> OpenListener(tcp::acceptor* acceptor, const std::string& address,
                                 std::string_view label) {
  absl::StatusOr<tcp::endpoint> endpoint = ResolveListenAddress(acceptor->get_executor(), address);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: listen (%s) failed - %s", label, address, endpoint.status().message()));
  }
  boost::system::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint bound;
  if (!ec) bound = acceptor->local_endpoint(ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor->close(ignored);
    return absl::UnavailableError(
        absl::StrFormat("%s: listen (%s) failed - %s", label, address, ec.message()));
  }
  NSQ_LOG_INFO("%s: listening on %s", label, FormatEndpoint(bound));
  return static_cast<int>(bound.port());
}

}  // namespace nsq::net
