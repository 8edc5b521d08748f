#include "client/src/address.h"

#include "absl/strings/str_format.h"

namespace nsq::client::internal {

namespace {

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == '_';
}

bool IsV6Char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
         c == ':' || c == '.' || c == '%';
}

absl::Status Bad(std::string_view address, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("address \"%s\" %s", address, why));
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> SplitAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size()) {
    return Bad(address, "is not host:port");
  }
  std::string host(address.substr(0, colon));
  const std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      if (!IsV6Char(c)) return Bad(address, "has a bad IPv6 host");
    }
    if (host.empty()) return Bad(address, "has an empty IPv6 host");
  } else {
    for (char c : host) {
      if (!IsHostChar(c)) {
        return Bad(address, host.find(':') != std::string::npos
                                ? "has a bad host (an IPv6 address goes in brackets: [::1]:4150)"
                                : "has a bad host (expected host:port)");
      }
    }
  }
  if (host.empty()) host = "127.0.0.1";
  if (port.size() > 5) return Bad(address, "has a bad port");
  int number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Bad(address, "has a bad port");
    number = number * 10 + (c - '0');
  }
  if (number < 1 || number > 65535) return Bad(address, "has a port outside 1..65535");
  return std::make_pair(std::move(host), port);
}

absl::Status ValidateTcpAddress(std::string_view address) {
  if (address.find("://") != std::string_view::npos) {
    return Bad(address, "is a URL; an nsqd TCP address is host:port (e.g. 127.0.0.1:4150)");
  }
  return SplitAddress(address).status();
}

absl::StatusOr<LookupdEndpoint> ParseLookupdAddress(std::string_view address) {
  std::string_view rest = address;
  LookupdEndpoint endpoint;
  endpoint.lookup_path = "/lookup";
  const size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme == "https") {
      return Bad(address, "uses https, which this client does not speak to nsqlookupd (use http)");
    }
    if (scheme != "http") return Bad(address, "has a scheme other than http");
    rest.remove_prefix(scheme_end + 3);
    const size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
      const std::string_view path = rest.substr(slash);
      rest = rest.substr(0, slash);
      if (path.find_first_of("?#") != std::string_view::npos) {
        return Bad(address, "has a query or fragment; give only http://host:port[/path]");
      }
      if (path != "/") endpoint.lookup_path = std::string(path);
    }
  } else if (rest.find('/') != std::string_view::npos) {
    return Bad(address, "has a path without a scheme (use http://host:port/path)");
  }
  absl::StatusOr<std::pair<std::string, std::string>> host_port = SplitAddress(rest);
  if (!host_port.ok()) return Bad(address, "is not host:port or http://host:port");
  endpoint.host = host_port->first;
  endpoint.port = host_port->second;
  endpoint.authority = std::string(rest);
  return endpoint;
}

}  // namespace nsq::client::internal
