// common/net/host_port.h: the "host:port" forms NSQ's flags and logs use, both directions.
#include "common/net/host_port.h"

#include <doctest/doctest.h>

namespace nsq::net {
namespace {

TEST_CASE("JoinHostPort brackets IPv6 hosts only, as Go's net.JoinHostPort") {
  CHECK(JoinHostPort("127.0.0.1", 4150) == "127.0.0.1:4150");
  CHECK(JoinHostPort("host.example", 4161) == "host.example:4161");
  CHECK(JoinHostPort("::1", 4151) == "[::1]:4151");
  CHECK(JoinHostPort("", 0) == ":0");
}

TEST_CASE("SplitHostPort undoes JoinHostPort") {
  for (const char* host : {"127.0.0.1", "::1", "fe80::1", ""}) {
    absl::StatusOr<std::pair<std::string, int>> split = SplitHostPort(JoinHostPort(host, 4150));
    REQUIRE(split.ok());
    CHECK(split->first == host);
    CHECK(split->second == 4150);
  }
}

TEST_CASE("Hostname is never empty") { CHECK_FALSE(Hostname().empty()); }

}  // namespace
}  // namespace nsq::net
