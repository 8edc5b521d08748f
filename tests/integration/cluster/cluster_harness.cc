#include "tests/integration/cluster/cluster_harness.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

std::string String(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : std::string();
}

std::vector<std::string> Strings(const boost::json::value& list) {
  std::vector<std::string> out;
  for (const auto& item : list.as_array()) out.push_back(String(item));
  return out;
}

LookupdPeer ParsePeer(const boost::json::object& object) {
  LookupdPeer peer;
  peer.remote_address = String(object.at("remote_address"));
  peer.hostname = String(object.at("hostname"));
  peer.broadcast_address = String(object.at("broadcast_address"));
  peer.tcp_port = object.at("tcp_port").to_number<int64_t>();
  peer.http_port = object.at("http_port").to_number<int64_t>();
  peer.version = String(object.at("version"));
  if (const auto* topics = object.if_contains("topics")) peer.topics = Strings(*topics);
  if (const auto* tombstones = object.if_contains("tombstones")) {
    for (const auto& flag : tombstones->as_array()) peer.tombstones.push_back(flag.as_bool());
  }
  return peer;
}

std::vector<LookupdPeer> ParsePeers(const boost::json::value& list) {
  std::vector<LookupdPeer> peers;
  for (const auto& item : list.as_array()) peers.push_back(ParsePeer(item.as_object()));
  return peers;
}

// The JSON body of a 200 answer to GET target, or null when lookupd is down or said otherwise.
boost::json::value GetJson(uint16_t port, const std::string& target) {
  absl::StatusOr<HttpResponse> response = HttpGet(port, target);
  if (!response.ok() || response->status != 200) return nullptr;
  return ParseJson(response->body);
}

std::string Endpoint(const std::string& host, int64_t tcp_port, int64_t http_port) {
  return absl::StrCat(host, ":", tcp_port, "/", http_port);
}

std::string JoinSorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return absl::StrJoin(items, ",");
}

}  // namespace

LookupResult Lookup(uint16_t lookupd_http_port, const std::string& topic) {
  LookupResult result;
  absl::StatusOr<HttpResponse> response = HttpGet(lookupd_http_port, "/lookup?topic=" + topic);
  if (!response.ok()) return result;
  result.status = response->status;
  if (response->status != 200) return result;
  boost::json::value doc = ParseJson(response->body);
  result.producers = ParsePeers(doc.at("producers"));
  result.channels = Strings(doc.at("channels"));
  return result;
}

std::vector<LookupdPeer> Nodes(uint16_t lookupd_http_port) {
  boost::json::value doc = GetJson(lookupd_http_port, "/nodes");
  if (doc.is_null()) return {};
  return ParsePeers(doc.at("producers"));
}

std::vector<std::string> Topics(uint16_t lookupd_http_port) {
  boost::json::value doc = GetJson(lookupd_http_port, "/topics");
  if (doc.is_null()) return {};
  return Strings(doc.at("topics"));
}

std::vector<std::string> Channels(uint16_t lookupd_http_port, const std::string& topic) {
  boost::json::value doc = GetJson(lookupd_http_port, "/channels?topic=" + topic);
  if (doc.is_null()) return {};
  return Strings(doc.at("channels"));
}

std::string Endpoints(const std::vector<LookupdPeer>& peers) {
  std::vector<std::string> items;
  for (const LookupdPeer& peer : peers) {
    items.push_back(Endpoint(peer.broadcast_address, peer.tcp_port, peer.http_port));
  }
  return JoinSorted(std::move(items));
}

std::string Endpoints(const std::vector<const TestNsqd*>& nodes) {
  std::vector<std::string> items;
  for (const TestNsqd* node : nodes) {
    items.push_back(Endpoint("127.0.0.1", node->tcp_port(), node->http_port()));
  }
  return JoinSorted(std::move(items));
}

std::unique_ptr<Cluster> Cluster::Start(Options options) {
  std::unique_ptr<Cluster> cluster(new Cluster());
  std::vector<std::string> nsqd_flags = {"--broadcast-address=127.0.0.1"};
  for (int i = 0; i < options.lookupds; ++i) {
    std::vector<std::string> flags = {"--broadcast-address=127.0.0.1"};
    flags.insert(flags.end(), options.lookupd_flags.begin(), options.lookupd_flags.end());
    absl::StatusOr<std::unique_ptr<TestLookupd>> lookupd = TestLookupd::Start(std::move(flags));
    NSQ_REQUIRE_OK(lookupd);
    nsqd_flags.push_back("--lookupd-tcp-address=" + (*lookupd)->tcp_address());
    cluster->lookupds_.push_back(*std::move(lookupd));
  }
  std::vector<int> all;
  for (int i = 0; i < options.nsqds; ++i) {
    cluster->nsqds_.push_back(StartNsqd(nsqd_flags));
    all.push_back(i);
  }
  REQUIRE(cluster->WaitUntilNodes(all));
  return cluster;
}

std::vector<uint16_t> Cluster::LookupdHttpPorts() const {
  std::vector<uint16_t> ports;
  for (const auto& lookupd : lookupds_) ports.push_back(lookupd->http_port());
  return ports;
}

std::vector<const TestNsqd*> Cluster::Nodes(const std::vector<int>& indices) const {
  std::vector<const TestNsqd*> nodes;
  for (int i : indices) nodes.push_back(nsqds_.at(i).get());
  return nodes;
}

bool Cluster::WaitUntilListed(const std::string& topic, const std::vector<int>& nsqds,
                              std::chrono::milliseconds deadline) {
  const std::string expected = Endpoints(Nodes(nsqds));
  auto listed = [&](const TestLookupd& lookupd) {
    return Endpoints(Lookup(lookupd.http_port(), topic).producers);
  };
  const bool ok = WaitFor(
      [&] {
        return std::all_of(lookupds_.begin(), lookupds_.end(),
                           [&](const auto& lookupd) { return listed(*lookupd) == expected; });
      },
      deadline);
  if (!ok) {
    for (const auto& lookupd : lookupds_) {
      MESSAGE("lookupd :", lookupd->http_port(), " /lookup?topic=", topic, " lists [",
              listed(*lookupd), "], expected [", expected, "]");
    }
  }
  return ok;
}

bool Cluster::WaitUntilNodes(const std::vector<int>& nsqds, std::chrono::milliseconds deadline) {
  const std::string expected = Endpoints(Nodes(nsqds));
  auto listed = [&](const TestLookupd& lookupd) {
    return Endpoints(testutil::Nodes(lookupd.http_port()));
  };
  const bool ok = WaitFor(
      [&] {
        return std::all_of(lookupds_.begin(), lookupds_.end(),
                           [&](const auto& lookupd) { return listed(*lookupd) == expected; });
      },
      deadline);
  if (!ok) {
    for (const auto& lookupd : lookupds_) {
      MESSAGE("lookupd :", lookupd->http_port(), " /nodes lists [", listed(*lookupd),
              "], expected [", expected, "]");
    }
  }
  return ok;
}

DiscoveryConsumer::DiscoveryConsumer(std::vector<uint16_t> lookupd_http_ports, std::string topic,
                                     std::string channel, int64_t rdy)
    : lookupd_http_ports_(std::move(lookupd_http_ports)),
      topic_(std::move(topic)),
      channel_(std::move(channel)),
      rdy_(rdy) {}

void DiscoveryConsumer::Discover() {
  for (uint16_t port : lookupd_http_ports_) {
    LookupResult lookup = Lookup(port, topic_);
    if (lookup.status != 200) continue;
    for (const LookupdPeer& producer : lookup.producers) {
      const std::string key = absl::StrCat(producer.broadcast_address, ":", producer.tcp_port);
      if (connections_.count(key) != 0) continue;
      // RawConn dials 127.0.0.1 only; the cluster broadcasts that address.
      REQUIRE(producer.broadcast_address == "127.0.0.1");
      absl::StatusOr<std::unique_ptr<RawConn>> conn =
          RawConn::Connect(static_cast<uint16_t>(producer.tcp_port));
      NSQ_REQUIRE_OK(conn);
      RawConn& c = **conn;
      c.set_heartbeat_policy(HeartbeatPolicy::kAnswer);
      NSQ_REQUIRE_OK(c.SendMagic());
      NSQ_REQUIRE_OK(c.Sub(topic_, channel_));
      NSQ_REQUIRE_OK(c.ExpectOk());
      NSQ_REQUIRE_OK(c.Rdy(rdy_));
      connections_[key] = *std::move(conn);
    }
  }
}

void DiscoveryConsumer::Drain(std::chrono::milliseconds quiet) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    RawConn& conn = *it->second;
    bool closed = false;
    while (true) {
      absl::StatusOr<protocol::Frame> frame = conn.ReadFrame(quiet);
      if (absl::IsDeadlineExceeded(frame.status())) break;
      if (absl::IsUnavailable(frame.status())) {
        closed = true;
        break;
      }
      NSQ_REQUIRE_OK(frame);
      REQUIRE_MESSAGE(frame->type == protocol::FrameType::kMessage, "consumer of ", it->first,
                      " got ", DescribeFrame(*frame));
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame->data);
      NSQ_REQUIRE_OK(message);
      ++received_[std::string(message->body.view())];
      NSQ_REQUIRE_OK(conn.Fin(message->id.view()));
    }
    if (closed) {
      ++connections_lost_;
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

bool DiscoveryConsumer::ReceiveUntil(const std::function<bool()>& done,
                                     std::chrono::milliseconds deadline) {
  auto last_discovery = std::chrono::steady_clock::now();
  return WaitFor(
      [&] {
        Drain();
        if (done()) return true;
        if (std::chrono::steady_clock::now() - last_discovery > std::chrono::milliseconds(200)) {
          Discover();
          last_discovery = std::chrono::steady_clock::now();
        }
        return false;
      },
      deadline);
}

std::vector<std::string> DiscoveryConsumer::Connected() const {
  std::vector<std::string> keys;
  for (const auto& [key, conn] : connections_) keys.push_back(key);
  return keys;
}

}  // namespace nsq::testutil
