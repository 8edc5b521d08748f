// A local NSQ cluster for integration tests: several real nsqlookupd and nsqd processes on free
// loopback ports, every nsqd registered with every lookupd, plus readers of lookupd's HTTP API
// and a consumer that finds its nsqd nodes through lookupd, as go-nsq and nsqjs do.
//
//   auto cluster = Cluster::Start();                  // 2 lookupd + 3 nsqd
//   Publish(cluster->nsqd(0), "t", "x");
//   REQUIRE(cluster->WaitUntilListed("t", {0, 1, 2}));
//   DiscoveryConsumer consumer(cluster->LookupdHttpPorts(), "t", "ch");
//   consumer.Discover();
//   REQUIRE(consumer.ReceiveUntil([&] { return consumer.received().size() == 1; }, 5s));
//
// Everything REQUIREs success (doctest), like integration_util.h. One test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/raw_conn.h"
#include "tests/testutil/test_lookupd.h"
#include "tests/testutil/test_nsqd.h"

namespace nsq::testutil {

// A producer as lookupd's /lookup lists it, or a node as /nodes does (topics and tombstones
// are only filled for /nodes).
struct LookupdPeer {
  std::string remote_address;
  std::string hostname;
  std::string broadcast_address;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
  std::vector<std::string> topics;
  std::vector<bool> tombstones;
};

// GET /lookup?topic=...: the HTTP status (0 when lookupd did not answer) and, on 200, the lists.
struct LookupResult {
  int status = 0;
  std::vector<LookupdPeer> producers;
  std::vector<std::string> channels;
};

LookupResult Lookup(uint16_t lookupd_http_port, const std::string& topic);
// GET /nodes; empty when lookupd did not answer 200.
std::vector<LookupdPeer> Nodes(uint16_t lookupd_http_port);
// GET /topics and GET /channels?topic=...; empty when lookupd did not answer 200.
std::vector<std::string> Topics(uint16_t lookupd_http_port);
std::vector<std::string> Channels(uint16_t lookupd_http_port, const std::string& topic);

// Peers as one comparable, printable string: "broadcast:tcp/http" each, sorted, comma-joined.
std::string Endpoints(const std::vector<LookupdPeer>& peers);
// The same string for nsqd processes (127.0.0.1 and their listening ports).
std::string Endpoints(const std::vector<const TestNsqd*>& nodes);

class Cluster {
 public:
  struct Options {
    int lookupds = 2;
    int nsqds = 3;
    // Added to every nsqlookupd's command line (after --broadcast-address=127.0.0.1).
    std::vector<std::string> lookupd_flags;
  };

  // Starts the lookupds, then the nsqds with --broadcast-address=127.0.0.1 and one
  // --lookupd-tcp-address per lookupd, and waits until every lookupd lists every nsqd in
  // /nodes (so nothing a test does is lost to a registration still in progress).
  static std::unique_ptr<Cluster> Start(Options options);
  static std::unique_ptr<Cluster> Start() { return Start(Options{}); }

  TestLookupd& lookupd(int i) { return *lookupds_.at(i); }
  TestNsqd& nsqd(int i) { return *nsqds_.at(i); }
  std::vector<uint16_t> LookupdHttpPorts() const;
  // The nsqds whose indices are given, for Endpoints().
  std::vector<const TestNsqd*> Nodes(const std::vector<int>& indices) const;

  // True once every lookupd's /lookup?topic= lists exactly the given nsqds as producers
  // (waits up to `deadline`). On failure, logs what each lookupd listed last.
  bool WaitUntilListed(const std::string& topic, const std::vector<int>& nsqds,
                       std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // The same for /nodes.
  bool WaitUntilNodes(const std::vector<int>& nsqds,
                      std::chrono::milliseconds deadline = std::chrono::seconds(5));

 private:
  Cluster() = default;
  std::vector<std::unique_ptr<TestLookupd>> lookupds_;
  std::vector<std::unique_ptr<TestNsqd>> nsqds_;
};

// A consumer that discovers the producers of a topic through lookupd: it polls /lookup on every
// lookupd it knows, unions the producers by broadcast_address:tcp_port, and keeps one protocol
// V2 connection per producer (SUB topic channel, RDY). Messages are FINished as they are read;
// heartbeats are answered. A connection the peer closes is dropped; the next Discover() only
// reconnects if some lookupd still lists that producer.
class DiscoveryConsumer {
 public:
  DiscoveryConsumer(std::vector<uint16_t> lookupd_http_ports, std::string topic,
                    std::string channel, int64_t rdy = 100);

  // One lookupd poll round: connects to every listed producer not connected yet. Lookupds that
  // do not answer (restarting) are skipped, as clients do.
  void Discover();
  // Reads and FINs what has arrived on every connection, until each has been quiet for
  // `quiet`.
  void Drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(10));
  // Drain, and Discover about every 200 ms, until `done` holds or `deadline` passes.
  bool ReceiveUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline);

  // Every body received, with how many times it arrived.
  const std::map<std::string, int>& received() const { return received_; }
  // The producers connected right now ("127.0.0.1:<tcp port>"), sorted.
  std::vector<std::string> Connected() const;
  // How many connections the nsqd side closed.
  int connections_lost() const { return connections_lost_; }

 private:
  std::vector<uint16_t> lookupd_http_ports_;
  std::string topic_;
  std::string channel_;
  int64_t rdy_;
  std::map<std::string, std::unique_ptr<RawConn>> connections_;  // by broadcast:tcp_port
  std::map<std::string, int> received_;
  int connections_lost_ = 0;
};

}  // namespace nsq::testutil
