// The cluster as its clients see it (2 nsqlookupd + 3 nsqd, issue 4): every nsqd is listed by
// every lookupd with the ports a client must dial, a consumer that finds the nsqd nodes through
// lookupd gets every message published anywhere, and losing a node loses nothing for the
// consumer but that node's own messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/cluster/cluster_harness.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

// The inactive timeout is longer than nsqd's 15 s PING interval, or live nodes would vanish
// too; the tests show that a dead node leaves long before it.
Cluster::Options ClusterOptions() {
  Cluster::Options options;
  options.lookupd_flags = {"--inactive-producer-timeout=30s"};
  return options;
}

std::string Join(const std::vector<std::string>& items) { return absl::StrJoin(items, ","); }

// Bodies that say which node they were published to: "n<node>-<batch>-<i>".
std::vector<std::string> Bodies(int node, const std::string& batch, int count) {
  std::vector<std::string> bodies;
  for (int i = 0; i < count; ++i) bodies.push_back(absl::StrCat("n", node, "-", batch, "-", i));
  return bodies;
}

void CreateTopic(TestNsqd& nsqd, const std::string& topic) {
  absl::StatusOr<HttpResponse> response =
      HttpPost(nsqd.http_port(), "/topic/create?topic=" + topic);
  NSQ_REQUIRE_OK(response);
  REQUIRE(response->status == 200);
}

// True when every body was received exactly once (and nothing else arrived).
bool ReceivedExactly(const DiscoveryConsumer& consumer, const std::vector<std::string>& bodies) {
  if (consumer.received().size() != bodies.size()) return false;
  for (const std::string& body : bodies) {
    auto it = consumer.received().find(body);
    if (it == consumer.received().end() || it->second != 1) return false;
  }
  return true;
}

TEST_CASE("both lookupds list every nsqd with its broadcast address, ports, topics and channels") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) Publish(cluster->nsqd(i), "orders", "x");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));

  const std::string all = Endpoints(cluster->Nodes({0, 1, 2}));
  for (uint16_t port : cluster->LookupdHttpPorts()) {
    CAPTURE(port);
    LookupResult lookup = Lookup(port, "orders");
    CHECK(Endpoints(lookup.producers) == all);
    for (const LookupdPeer& producer : lookup.producers) {
      // What clients dial is broadcast_address:tcp_port; the rest is informational.
      CHECK(producer.broadcast_address == "127.0.0.1");
      CHECK(producer.remote_address.rfind("127.0.0.1:", 0) == 0);
      CHECK(!producer.hostname.empty());
      CHECK(!producer.version.empty());
    }
    std::vector<LookupdPeer> nodes = Nodes(port);
    CHECK(Endpoints(nodes) == all);
    for (const LookupdPeer& node : nodes) {
      CHECK(Join(node.topics) == "orders");
      CHECK(node.tombstones == std::vector<bool>{false});
    }
    CHECK(Join(Topics(port)) == "orders");
  }

  // Channels registered on any node are known to every lookupd, as /lookup and /channels.
  for (int i = 0; i < 3; ++i) {
    NSQ_REQUIRE_OK(
        HttpPost(cluster->nsqd(i).http_port(), "/channel/create?topic=orders&channel=work"));
  }
  NSQ_REQUIRE_OK(
      HttpPost(cluster->nsqd(2).http_port(), "/channel/create?topic=orders&channel=audit"));
  for (uint16_t port : cluster->LookupdHttpPorts()) {
    CAPTURE(port);
    CHECK(WaitFor([&] { return Join(Channels(port, "orders")) == "audit,work"; }, 5s));
    CHECK(Join(Lookup(port, "orders").channels) == "audit,work");
  }
}

TEST_CASE("a consumer that discovers nsqd through lookupd receives every message of every node") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) CreateTopic(cluster->nsqd(i), "orders");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));

  // Published before any channel exists: each topic keeps them for its first channel.
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> bodies = Bodies(i, "early", 10);
    PublishMany(cluster->nsqd(i), "orders", bodies);
    expected.insert(expected.end(), bodies.begin(), bodies.end());
  }

  DiscoveryConsumer consumer(cluster->LookupdHttpPorts(), "orders", "work");
  consumer.Discover();
  CHECK(consumer.Connected().size() == 3);
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> bodies = Bodies(i, "late", 20);
    PublishMany(cluster->nsqd(i), "orders", bodies);
    expected.insert(expected.end(), bodies.begin(), bodies.end());
  }
  CHECK_MESSAGE(consumer.ReceiveUntil([&] { return ReceivedExactly(consumer, expected); }, 10s),
                "received ", consumer.received().size(), " distinct bodies of ", expected.size());
  CHECK(consumer.connections_lost() == 0);
}

TEST_CASE("a killed nsqd leaves lookupd when its connection drops; consumers keep the others") {
  auto cluster = Cluster::Start(ClusterOptions());
  for (int i = 0; i < 3; ++i) CreateTopic(cluster->nsqd(i), "orders");
  REQUIRE(cluster->WaitUntilListed("orders", {0, 1, 2}));
  DiscoveryConsumer consumer(cluster->LookupdHttpPorts(), "orders", "work");
  consumer.Discover();
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> bodies = Bodies(i, "before", 5);
    PublishMany(cluster->nsqd(i), "orders", bodies);
    expected.insert(expected.end(), bodies.begin(), bodies.end());
  }
  REQUIRE(consumer.ReceiveUntil([&] { return ReceivedExactly(consumer, expected); }, 10s));

  const auto killed_at = std::chrono::steady_clock::now();
  cluster->nsqd(1).Kill9();
  // The kernel closes the dead process's lookupd connections, and lookupd forgets a peer whose
  // connection closes: it is gone from /lookup and /nodes at once, not after the 30 s inactive
  // timeout (which is for nodes that hang without closing, see membership_test.cc).
  CHECK(cluster->WaitUntilListed("orders", {0, 2}, 5s));
  CHECK(cluster->WaitUntilNodes({0, 2}, 5s));
  CHECK(std::chrono::steady_clock::now() - killed_at < 10s);

  for (int i : {0, 2}) {
    std::vector<std::string> bodies = Bodies(i, "after", 5);
    PublishMany(cluster->nsqd(i), "orders", bodies);
    expected.insert(expected.end(), bodies.begin(), bodies.end());
  }
  CHECK_MESSAGE(consumer.ReceiveUntil([&] { return ReceivedExactly(consumer, expected); }, 10s),
                "received ", consumer.received().size(), " distinct bodies of ", expected.size());
  // Rediscovery (every 200 ms while receiving) does not bring the dead node back.
  consumer.Discover();
  CHECK(consumer.connections_lost() == 1);
  std::vector<std::string> survivors = {absl::StrCat("127.0.0.1:", cluster->nsqd(0).tcp_port()),
                                        absl::StrCat("127.0.0.1:", cluster->nsqd(2).tcp_port())};
  std::sort(survivors.begin(), survivors.end());
  CHECK(Join(consumer.Connected()) == Join(survivors));
}

}  // namespace
}  // namespace nsq::testutil
