// LookupdClient: nsqd's side of discovery. Keeps one connection per nsqlookupd address
// (--lookupd-tcp-address, or PUT /config/nsqlookupd_tcp_addresses at run time): IDENTIFY, then
// REGISTER every topic and channel; REGISTER/UNREGISTER as they come and go; PING every 15 s;
// reconnect with backoff and re-register everything after a lookupd restart. A topic created
// here is held until every registered lookupd said which channels it has elsewhere
// (GET /channels), and those are created first, as nsqd does.
//
// Loop thread only. Asio stays in the .cc file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/protocol/lookup_v1.h"
#include "nsqd/broker/broker.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class LookupdClient final : public BrokerListener {
 public:
  // `self` is what nsqd tells lookupd about itself (broadcast address and ports).
  LookupdClient(boost::asio::io_context* io, Broker* broker, protocol::LookupPeerInfo self);
  ~LookupdClient() override;

  // Connects to new addresses and drops connections to removed ones.
  void SetAddresses(const std::vector<std::string>& addresses);
  const std::vector<std::string>& addresses() const { return addresses_; }
  // Closes every connection (shutdown).
  void Stop();

  // BrokerListener: forwards to every lookupd.
  void TopicCreated(const std::string& topic) override;
  void TopicDeleted(const std::string& topic) override;
  void ChannelCreated(const std::string& topic, const std::string& channel) override;
  void ChannelDeleted(const std::string& topic, const std::string& channel) override;

 private:
  class Peer;
  void Broadcast(const std::string& command);
  // HTTP addresses of the lookupds we are registered with right now.
  std::vector<std::string> ConnectedHttpAddresses() const;

  boost::asio::io_context* io_;
  Broker* broker_;
  protocol::LookupPeerInfo self_;
  std::vector<std::string> addresses_;
  std::vector<std::shared_ptr<Peer>> peers_;
  // Shared with running channel-discovery requests: false once stopped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nsq::nsqd
