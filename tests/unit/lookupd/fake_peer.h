// An identified peer as lookupd's TCP server records it, for the registration database and
// HTTP API tests.
#pragma once

#include <cstdint>
#include <string>

#include "lookupd/registration_db.h"

namespace nsq::lookupd::testing {

inline PeerInfo MakePeer(const std::string& id, const std::string& broadcast_address,
                         int64_t http_port = 4151) {
  PeerInfo peer;
  peer.id = id;
  peer.remote_address = id;
  peer.info.broadcast_address = broadcast_address;
  peer.info.hostname = broadcast_address + ".host";
  peer.info.tcp_port = 4150;
  peer.info.http_port = http_port;
  peer.info.version = "1.3.0";
  return peer;
}

}  // namespace nsq::lookupd::testing
