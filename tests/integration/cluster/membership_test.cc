// How cluster membership changes (issue 4): a restarted lookupd is refilled by the nsqd nodes,
// a hung node expires after --inactive-producer-timeout, tombstones hide a producer for a
// while, nsqd's lookupd list changes at run time, and a topic deleted through lookupd.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/cluster/cluster_harness.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

Cluster::Options ClusterOptions() {
  Cluster::Options options;
  options.lookupd_flags = {"--inactive-producer-timeout=30s", "--tombstone-lifetime=2s"};
  return options;
}

std::string Join(const std::vector<std::string>& items) { return absl::StrJoin(items, ","); }

void MustPost(uint16_t port, const std::string& target, const std::string& body = "") {
  absl::StatusOr<HttpResponse> response = HttpPost(port, target, body);
  NSQ_REQUIRE_OK(response);
  REQUIRE_MESSAGE(response->status == 200, "POST ", target, " → ", response->status, " ",
                  response->body);
}

// The tcp ports of the producers lookupd holds for a registration ("topic:t:"), hidden or not
// (GET /debug does not filter by activity or tombstones), comma-joined.
std::string RegisteredTcpPorts(const TestLookupd& lookupd, const std::string& registration) {
  absl::StatusOr<HttpResponse> response = HttpGet(lookupd.http_port(), "/debug");
  if (!response.ok() || response->status != 200) return "";
  boost::json::value doc = ParseJson(response->body);
  const boost::json::value* producers = doc.as_object().if_contains(registration);
  if (producers == nullptr) return "";
  std::vector<std::string> ports;
  for (const auto& producer : producers->as_array()) {
    ports.push_back(absl::StrCat(producer.at("tcp_port").to_number<int64_t>()));
  }
  std::sort(ports.begin(), ports.end());
  return Join(ports);
}

// The /nodes entry of an nsqd, or nullopt.
std::optional<LookupdPeer> FindNode(uint16_t lookupd_http_port, const TestNsqd& nsqd) {
  for (LookupdPeer& node : Nodes(lookupd_http_port)) {
    if (node.tcp_port == nsqd.tcp_port()) return node;
  }
  return std::nullopt;
}

TEST_CASE("after a lookupd restarts every nsqd registers again and /lookup is complete") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) {
    Publish(cluster->nsqd(i), "orders", "x");
    MustPost(cluster->nsqd(i).http_port(), "/channel/create?topic=orders&channel=work");
  }
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));

  NSQ_REQUIRE_OK(cluster->lookupd(0).Restart());
  // nsqd sees the closed connection at once and redials with a 1 s backoff (doubling while
  // lookupd is not up yet), then registers every topic and channel again.
  CHECK(cluster->WaitUntilListed("orders", {0, 1, 2}, 10s));
  CHECK(cluster->WaitUntilNodes({0, 1, 2}, 5s));
  CHECK(Join(Lookup(cluster->lookupd(0).http_port(), "orders").channels) == "work");
  CHECK(Join(Topics(cluster->lookupd(0).http_port())) == "orders");
}

TEST_CASE("a hung nsqd that keeps its connection is hidden after the inactive timeout") {
  // nsqd PINGs every 15 s, so the timeout has to be longer than that or every node would be
  // hidden between PINGs: 17 s, which makes this the slowest test of the binary.
  Cluster::Options options;
  options.lookupds = 1;
  options.nsqds = 2;
  options.lookupd_flags = {"--inactive-producer-timeout=17s"};
  auto cluster = Cluster::Start(options);
  TestLookupd& lookupd = cluster->lookupd(0);
  TestNsqd& hung = cluster->nsqd(0);
  MustPost(hung.http_port(), "/topic/create?topic=orders");
  MustPost(cluster->nsqd(1).http_port(), "/topic/create?topic=orders");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1}));

  REQUIRE(hung.process().Signal(SIGSTOP));
  const auto stopped_at = std::chrono::steady_clock::now();
  // The live node PINGs at 15 s and stays; the hung one has been silent since its IDENTIFY.
  CHECK(cluster->WaitUntilListed("orders", {1}, 25s));
  CHECK(cluster->WaitUntilNodes({1}, 1s));
  CHECK(std::chrono::steady_clock::now() - stopped_at > 10s);
  // Hidden, not removed: its connection is still open, so lookupd still holds the
  // registration (only a closed connection removes it).
  const std::vector<int> both = {0, 1};
  std::vector<std::string> ports;
  for (int i : both) ports.push_back(absl::StrCat(cluster->nsqd(i).tcp_port()));
  std::sort(ports.begin(), ports.end());
  CHECK(RegisteredTcpPorts(lookupd, "topic:orders:") == Join(ports));

  // Resumed, it finds its PING overdue and sends it: listed again.
  REQUIRE(hung.process().Signal(SIGCONT));
  CHECK(cluster->WaitUntilListed("orders", {0, 1}, 5s));
}

TEST_CASE("a tombstoned producer is hidden from /lookup for the tombstone lifetime only") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) Publish(cluster->nsqd(i), "orders", "x");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));
  const uint16_t tombstoning = cluster->lookupd(0).http_port();
  const uint16_t other = cluster->lookupd(1).http_port();
  TestNsqd& retired = cluster->nsqd(0);

  const auto tombstoned_at = std::chrono::steady_clock::now();
  MustPost(tombstoning,
           absl::StrCat("/topic/tombstone?topic=orders&node=127.0.0.1:", retired.http_port()));
  CHECK(Endpoints(Lookup(tombstoning, "orders").producers) == Endpoints(cluster->Nodes({1, 2})));
  // /nodes still lists it, flagging the tombstoned topic.
  std::optional<LookupdPeer> node = FindNode(tombstoning, retired);
  REQUIRE(node.has_value());
  CHECK(Join(node->topics) == "orders");
  CHECK(node->tombstones == std::vector<bool>{true});
  std::optional<LookupdPeer> untouched = FindNode(tombstoning, cluster->nsqd(1));
  REQUIRE(untouched.has_value());
  CHECK(untouched->tombstones == std::vector<bool>{false});
  // Tombstones are per lookupd (nsqadmin sends one to each).
  CHECK(Endpoints(Lookup(other, "orders").producers) == Endpoints(cluster->Nodes({0, 1, 2})));

  // After --tombstone-lifetime (2 s) it is listed again, since it is still registered.
  CHECK(cluster->WaitUntilListed("orders", {0, 1, 2}, 5s));
  CHECK(std::chrono::steady_clock::now() - tombstoned_at >= 1900ms);
  node = FindNode(tombstoning, retired);
  REQUIRE(node.has_value());
  CHECK(node->tombstones == std::vector<bool>{false});
}

TEST_CASE("PUT /config/nsqlookupd_tcp_addresses moves an nsqd to a new set of lookupds") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) Publish(cluster->nsqd(i), "orders", "x");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));
  absl::StatusOr<std::unique_ptr<TestLookupd>> added =
      TestLookupd::Start({"--broadcast-address=127.0.0.1"});
  NSQ_REQUIRE_OK(added);
  TestNsqd& moved = cluster->nsqd(0);

  // Keep lookupd 0, drop lookupd 1, add the new one.
  const std::string addresses = absl::StrCat("[\"", cluster->lookupd(0).tcp_address(), "\",\"",
                                             (*added)->tcp_address(), "\"]");
  absl::StatusOr<HttpResponse> put =
      HttpPut(moved.http_port(), "/config/nsqlookupd_tcp_addresses", addresses);
  NSQ_REQUIRE_OK(put);
  CHECK(put->status == 200);
  absl::StatusOr<HttpResponse> get = HttpGet(moved.http_port(), "/config/nsqlookupd_tcp_addresses");
  NSQ_REQUIRE_OK(get);
  CHECK(ParseJson(get->body) == ParseJson(addresses));

  const uint16_t kept = cluster->lookupd(0).http_port();
  const uint16_t dropped = cluster->lookupd(1).http_port();
  const uint16_t fresh = (*added)->http_port();
  const std::string moved_only = Endpoints(cluster->Nodes({0}));
  CHECK(WaitFor([&] { return Endpoints(Lookup(fresh, "orders").producers) == moved_only; }, 5s));
  CHECK(Endpoints(Nodes(fresh)) == moved_only);
  CHECK(WaitFor(
      [&] {
        return Endpoints(Lookup(dropped, "orders").producers) == Endpoints(cluster->Nodes({1, 2}));
      },
      5s));
  CHECK(Endpoints(Nodes(dropped)) == Endpoints(cluster->Nodes({1, 2})));
  CHECK(Endpoints(Lookup(kept, "orders").producers) == Endpoints(cluster->Nodes({0, 1, 2})));
}

TEST_CASE("deleting a topic through lookupd removes the registration but not the nsqd topic") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) {
    Publish(cluster->nsqd(i), "orders", "x");
    MustPost(cluster->nsqd(i).http_port(), "/channel/create?topic=orders&channel=work");
  }
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));
  // The channel registrations too: one that arrived after the delete would bring it back.
  std::vector<std::string> all_ports;
  for (int i = 0; i < 3; ++i) all_ports.push_back(absl::StrCat(cluster->nsqd(i).tcp_port()));
  std::sort(all_ports.begin(), all_ports.end());
  REQUIRE(WaitFor(
      [&] {
        return RegisteredTcpPorts(cluster->lookupd(0), "channel:orders:work") == Join(all_ports);
      },
      5s));
  const uint16_t deleting = cluster->lookupd(0).http_port();
  const uint16_t other = cluster->lookupd(1).http_port();

  MustPost(deleting, "/topic/delete?topic=orders");
  CHECK(Lookup(deleting, "orders").status == 404);
  CHECK(Topics(deleting).empty());
  CHECK(Channels(deleting, "orders").empty());
  // Only that lookupd forgets it.
  CHECK(Endpoints(Lookup(other, "orders").producers) == Endpoints(cluster->Nodes({0, 1, 2})));

  // NSQ's known behaviour (nsqio/nsq#1009): lookupd tells nobody, so every nsqd keeps its
  // topic, its channel and its messages; deleting a topic cluster-wide takes
  // POST /topic/delete on every nsqd too (docs/cluster.md). Publishing again does not
  // re-register the topic either; only a new REGISTER does (a new channel, or the nsqd
  // reconnecting to lookupd).
  for (int i = 0; i < 3; ++i) {
    CHECK(TopicStat(cluster->nsqd(i), "orders", "depth") >= 0);
    CHECK(
        WaitFor([&] { return ChannelStat(cluster->nsqd(i), "orders", "work", "depth") == 1; }, 5s));
    Publish(cluster->nsqd(i), "orders", "again");
  }
  // A new channel on nsqd 2 registers "orders audit", which re-creates the topic key with
  // nsqd 2 alone. (Had the publishes above made nsqd 0 or 1 register again, that would have
  // reached lookupd before this, as nsqd forwards registrations at once.)
  MustPost(cluster->nsqd(2).http_port(), "/channel/create?topic=orders&channel=audit");
  CHECK(WaitFor([&] { return Lookup(deleting, "orders").status == 200; }, 5s));
  LookupResult lookup = Lookup(deleting, "orders");
  CHECK(Endpoints(lookup.producers) == Endpoints(cluster->Nodes({2})));
  CHECK(Join(lookup.channels) == "audit");
}

}  // namespace
}  // namespace nsq::testutil
