// LookupdClient: nsqd's side of discovery. Keeps one connection per nsqlookupd address
// (--lookupd-tcp-address, or PUT /config/nsqlookupd_tcp_addresses at run time): IDENTIFY, then
// REGISTER every topic and channel; REGISTER/UNREGISTER as they come and go; PING every 15 s;
// reconnect with backoff and re-register everything after a lookupd restart. A topic created
// here is held until every registered lookupd said which channels it has elsewhere
// (GET /channels), and those are created first, as nsqd does.
//
// Shard 0's loop, except what each shard's relay does on its own loop. Asio stays in the .cc
// file.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/protocol/lookup_v1.h"
#include "nsqd/broker/broker_set.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class LookupdClient final {
 public:
  // `self` is what nsqd tells lookupd about itself (broadcast address and ports). Made at
  // start-up, after the brokers were restored: it registers what they have when it connects.
  LookupdClient(boost::asio::io_context* io, BrokerSet* brokers, protocol::LookupPeerInfo self);
  ~LookupdClient();

  // What shard `shard`'s broker tells it (Broker::AddListener): topic and channel changes,
  // relayed to this client on shard 0, which registers them with every lookupd.
  BrokerListener* listener(size_t shard);

  // Connects to new addresses and drops connections to removed ones.
  void SetAddresses(const std::vector<std::string>& addresses);
  const std::vector<std::string>& addresses() const { return addresses_; }
  // Closes every connection (shutdown).
  void Stop();

 private:
  class Peer;
  class ShardRelay;
  // Every topic and its channels, as lookupd is told about them (a reconnect re-registers all).
  using Registry = std::map<std::string, std::set<std::string>>;

  // On shard 0, from the relays. A new durable topic is held on its owner (`held`) until the
  // lookupds said which channels it has elsewhere.
  void TopicCreated(const std::string& topic, bool held);
  void TopicDeleted(const std::string& topic);
  void ChannelCreated(const std::string& topic, const std::string& channel);
  void ChannelDeleted(const std::string& topic, const std::string& channel);

  void Broadcast(const std::string& command);
  // HTTP addresses of the lookupds we are registered with right now.
  std::vector<std::string> ConnectedHttpAddresses() const;

  boost::asio::io_context* io_;
  BrokerSet* brokers_;
  protocol::LookupPeerInfo self_;
  std::shared_ptr<Registry> registry_ = std::make_shared<Registry>();  // shared with peers
  std::vector<std::unique_ptr<ShardRelay>> relays_;  // one per shard
  std::vector<std::string> addresses_;
  std::vector<std::shared_ptr<Peer>> peers_;
  // Shared with running channel-discovery requests: false once stopped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nsq::nsqd
