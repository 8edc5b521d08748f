// Opening a listening socket the way every server here does it: "host:port" as NSQ's flags
// spell it (empty host = all IPv4 interfaces, port 0 = a free port), SO_REUSEADDR, and the
// log line the tests and operators read ("TCP: listening on 127.0.0.1:4150").
//
//   absl::StatusOr<int> port = net::OpenListener(&acceptor, "127.0.0.1:0", "TCP");
//
// Included only by the servers' .cc files, which use Asio anyway.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsq::net {

// Opens, binds and listens `acceptor` (closed again on failure) and logs
// "<label>: listening on <ip:port>". Returns the bound port.
absl::StatusOr<int> OpenListener(boost::asio::ip::tcp::acceptor* acceptor,
                                 const std::string& address, std::string_view label);

// "ip:port", with brackets around an IPv6 address.
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Sets up an accepted connection as Go's net package does for nsqd and nsqlookupd: TCP_NODELAY,
// and TCP keepalive probes after kAcceptedKeepAlive idle, every kAcceptedKeepAlive (the
// kernel's probe count, 9 on Linux). A peer whose host vanished is then closed after about
// 2.5 minutes even when nothing else would notice: a client that turned heartbeats off in
// IDENTIFY (the C++ client's blocking-call connection does), or an idle HTTP keep-alive.
inline constexpr int kAcceptedKeepAliveSeconds = 15;
void ConfigureAccepted(boost::asio::ip::tcp::socket& socket);

}  // namespace nsq::net
