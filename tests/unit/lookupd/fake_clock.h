// A clock the test moves by hand, for the registration database and the HTTP API.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "lookupd/clock.h"
#include "lookupd/registration_db.h"

namespace nsq::lookupd::testing {

class FakeClock final : public Clock {
 public:
  int64_t NowNs() const override { return now_ns_; }
  void Advance(absl::Duration d) { now_ns_ += absl::ToInt64Nanoseconds(d); }

 private:
  int64_t now_ns_ = 1'700'000'000'000'000'000;
};

// An identified peer as the TCP server records it.
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
