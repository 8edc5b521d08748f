#include "common/net/host_port.h"

#include <unistd.h>

#include <climits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nsq::net {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address ", address, ": missing port"));
  }
  std::string host = address.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("address ", address, ": invalid port"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

std::string JoinHostPort(std::string_view host, int64_t port) {
  const absl::string_view h(host.data(), host.size());
  if (host.find(':') != std::string_view::npos) return absl::StrCat("[", h, "]:", port);
  return absl::StrCat(h, ":", port);
}

std::string Hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  // gethostname only fails for a too-small buffer, which HOST_NAME_MAX rules out.
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace nsq::net
