// nsqd registering with the real nsqlookupd (NSQ-REFERENCE §7.2, §3.2): topics and channels
// appear in /lookup, deletions leave it, and a topic created on a second nsqd first creates
// the channels lookupd knows, so they do not miss its first messages.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "tests/integration/integration_util.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/test_lookupd.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

// The producers' tcp ports listed by /lookup?topic=..., or nothing on 404.
std::vector<int64_t> LookupTcpPorts(const TestLookupd& lookupd, const std::string& topic) {
  auto response = HttpGet(lookupd.http_port(), "/lookup?topic=" + topic);
  std::vector<int64_t> ports;
  if (!response.ok() || response->status != 200) return ports;
  boost::json::value doc = ParseJson(response->body);
  for (const auto& producer : doc.at("producers").as_array()) {
    ports.push_back(producer.at("tcp_port").as_int64());
  }
  return ports;
}

std::vector<std::string> LookupChannels(const TestLookupd& lookupd, const std::string& topic) {
  auto response = HttpGet(lookupd.http_port(), "/lookup?topic=" + topic);
  std::vector<std::string> channels;
  if (!response.ok() || response->status != 200) return channels;
  boost::json::value doc = ParseJson(response->body);
  for (const auto& channel : doc.at("channels").as_array()) {
    channels.emplace_back(channel.as_string());
  }
  return channels;
}

std::unique_ptr<TestLookupd> StartLookupd() {
  auto lookupd = TestLookupd::Start({"--broadcast-address=127.0.0.1"});
  REQUIRE_MESSAGE(lookupd.ok(), lookupd.status().ToString());
  return std::move(*lookupd);
}

TEST_CASE("nsqd registers its topics and channels with lookupd and unregisters deletions") {
  auto lookupd = StartLookupd();
  auto nsqd = StartNsqd({"--lookupd-tcp-address=" + lookupd->tcp_address(),
                         "--broadcast-address=127.0.0.1"});
  Publish(*nsqd, "jobs", "x");
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/channel/create?topic=jobs&channel=work"));
  CHECK(WaitFor([&] { return LookupChannels(*lookupd, "jobs") == std::vector<std::string>{"work"}; },
                5s));
  CHECK(LookupTcpPorts(*lookupd, "jobs") == std::vector<int64_t>{nsqd->tcp_port()});

  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/channel/delete?topic=jobs&channel=work"));
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/topic/delete?topic=jobs"));
  CHECK(WaitFor([&] { return LookupTcpPorts(*lookupd, "jobs").empty(); }, 5s));
}

TEST_CASE("nsqd re-registers everything after lookupd restarts") {
  auto lookupd = StartLookupd();
  auto nsqd = StartNsqd({"--lookupd-tcp-address=" + lookupd->tcp_address(),
                         "--broadcast-address=127.0.0.1"});
  Publish(*nsqd, "a", "x");
  Publish(*nsqd, "b", "x");
  REQUIRE(WaitFor([&] { return LookupTcpPorts(*lookupd, "b").size() == 1; }, 5s));
  NSQ_REQUIRE_OK(lookupd->Restart());
  CHECK(WaitFor([&] {
    return LookupTcpPorts(*lookupd, "a").size() == 1 && LookupTcpPorts(*lookupd, "b").size() == 1;
  }, 10s));
}

TEST_CASE("a topic new to one nsqd first creates the channels lookupd knows from another") {
  auto lookupd = StartLookupd();
  const std::string lookupd_flag = "--lookupd-tcp-address=" + lookupd->tcp_address();
  auto first = StartNsqd({lookupd_flag, "--broadcast-address=127.0.0.1"});
  auto second = StartNsqd({lookupd_flag, "--broadcast-address=127.0.0.1"});
  NSQ_REQUIRE_OK(HttpPost(first->http_port(), "/topic/create?topic=jobs"));
  NSQ_REQUIRE_OK(HttpPost(first->http_port(), "/channel/create?topic=jobs&channel=work"));
  NSQ_REQUIRE_OK(
      HttpPost(first->http_port(), "/channel/create?topic=jobs&channel=tail%23ephemeral"));
  REQUIRE(WaitFor([&] { return LookupChannels(*lookupd, "jobs").size() == 2; }, 5s));
  // The second nsqd must also be registered before its topic is created, or it has nobody to
  // ask: wait until lookupd lists it as a node.
  REQUIRE(WaitFor([&] {
    auto nodes = HttpGet(lookupd->http_port(), "/nodes");
    return nodes.ok() && ParseJson(nodes->body).at("producers").as_array().size() == 2;
  }, 5s));

  Publish(*second, "jobs", "first message");
  // The durable channel was created before the message moved; the ephemeral one was not.
  CHECK(WaitFor([&] { return ChannelStat(*second, "jobs", "work", "depth") == 1; }, 5s));
  CHECK(ChannelStat(*second, "jobs", "tail#ephemeral", "depth") == -1);
}

}  // namespace
}  // namespace nsq::testutil
