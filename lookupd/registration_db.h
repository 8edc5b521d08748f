// RegistrationDb: nsqlookupd's in-memory registry of which nsqd nodes (peers) produce which
// topics and channels, with exactly the semantics of Go's nsqlookupd (NSQ-REFERENCE §7.1, §7.4):
//
// - A registration is a key (category, key, subkey): ("client", "", "") lists every identified
//   peer, ("topic", t, "") the producers of topic t, ("channel", t, c) those of channel c.
// - A key may exist with no producers (created over HTTP, or left behind when its producers
//   went away): topics and channels stay listed until deleted over HTTP.
// - Producers are never expired by time; readers filter them (FilterByActive) by the peer's
//   last PING/IDENTIFY and by per-registration tombstones.
// - "*" as key or subkey in the Find* calls matches any value, as upstream.
//
//   RegistrationDb db(&clock);
//   db.AddPeer(peer);                                      // IDENTIFY
//   db.AddProducer({"client", "", ""}, peer.id);
//   db.AddProducer({"topic", "t", ""}, peer.id);           // REGISTER t
//   auto live = db.FilterByActive(db.FindProducers("topic", "t", ""), timeout, lifetime);
//   db.RemovePeer(peer.id);                                // connection closed
//
// Pure: no I/O, no locks. Owned by the Lookupd and used on its event-loop thread only.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/protocol/lookup_v1.h"
#include "common/util/clock.h"

namespace nsq::lookupd {

inline constexpr std::string_view kClientCategory = "client";
inline constexpr std::string_view kTopicCategory = "topic";
inline constexpr std::string_view kChannelCategory = "channel";

struct Registration {
  std::string category;
  std::string key;
  std::string subkey;

  auto operator<=>(const Registration&) const = default;
  bool operator==(const Registration&) const = default;
  // "category:key:subkey", as /debug names it.
  std::string ToString() const { return category + ":" + key + ":" + subkey; }
};

// One identified nsqd connection.
struct PeerInfo {
  std::string id;              // the connection's remote ip:port; unique while connected
  std::string remote_address;  // the same, as /lookup and /nodes report it
  protocol::LookupPeerInfo info;
  int64_t last_update_ns = 0;  // the last IDENTIFY or PING
};

// A peer as a producer of one registration. Valid until the database next changes.
struct Producer {
  const PeerInfo* peer = nullptr;
  bool tombstoned = false;
  int64_t tombstoned_at_ns = 0;
};

class RegistrationDb {
 public:
  // Tombstone state of a peer within one registration.
  struct ProducerState {
    bool tombstoned = false;
    int64_t tombstoned_at_ns = 0;
  };
  using ProducerMap = std::map<std::string, ProducerState>;  // by peer id

  explicit RegistrationDb(const util::Clock* clock) : clock_(clock) {}

  // Starts tracking a peer (IDENTIFY); its last update is now. Replaces a peer with the id.
  void AddPeer(PeerInfo peer);
  // Refreshes a peer's last update (PING). Unknown ids are ignored.
  void TouchPeer(const std::string& id);
  // The peer leaves every registration and is forgotten (connection closed). Returns the
  // registrations it was removed from.
  std::vector<Registration> RemovePeer(const std::string& id);
  const PeerInfo* FindPeer(const std::string& id) const;

  // Creates the key if missing, without producers.
  void AddRegistration(const Registration& registration);
  // Deletes the key and its producers.
  void RemoveRegistration(const Registration& registration);
  // Adds a known peer to the key (created if missing). True when it was not there yet.
  bool AddProducer(const Registration& registration, const std::string& peer_id);
  // Removes a peer from the key; the key stays. Returns whether it was there and how many
  // producers the key has left.
  std::pair<bool, size_t> RemoveProducer(const Registration& registration,
                                         const std::string& peer_id);

  // Keys of `category` matching key and subkey ("*" matches anything), sorted.
  std::vector<Registration> FindRegistrations(std::string_view category, std::string_view key,
                                              std::string_view subkey) const;
  // The producers of the matching keys, each peer once (the first key's state wins).
  std::vector<Producer> FindProducers(std::string_view category, std::string_view key,
                                      std::string_view subkey) const;
  // Every key the peer is a producer of, sorted.
  std::vector<Registration> LookupRegistrations(const std::string& peer_id) const;

  // Tombstones, in every matching topic key, the producers whose broadcast_address:http_port
  // is `node`. Returns how many were tombstoned.
  int TombstoneTopicProducer(std::string_view topic, std::string_view node);

  // Whether a tombstone set less than `lifetime` ago still hides the producer.
  bool IsTombstoned(const Producer& producer, absl::Duration lifetime) const;
  // Drops producers whose peer was last updated more than `inactive_timeout` ago and those
  // tombstoned within `tombstone_lifetime`.
  std::vector<Producer> FilterByActive(std::vector<Producer> producers,
                                       absl::Duration inactive_timeout,
                                       absl::Duration tombstone_lifetime) const;

  // Every key with its producers, sorted by key (for /debug).
  const std::map<Registration, ProducerMap>& registrations() const { return registrations_; }
  int64_t NowNs() const { return clock_->NowNs(); }

 private:
  const util::Clock* clock_;
  std::map<std::string, PeerInfo> peers_;
  std::map<Registration, ProducerMap> registrations_;
};

}  // namespace nsq::lookupd
