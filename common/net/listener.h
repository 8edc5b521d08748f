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

}  // namespace nsq::net
