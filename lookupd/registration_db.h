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
// Cost: Go keeps one flat map and scans all of it for every lookup; with 100 k topics /nodes
// then did one scan per topic (quadratic). Here the keys are one ordered map, so the keys of a
// category, or of a topic's channels, are one contiguous range, and every peer has an index of
// the keys it produces. Every call is O(log n) plus what it returns or changes: /lookup, a
// topic's channels, REGISTER/UNREGISTER, a peer's topics (/nodes) and RemovePeer never look at
// keys they do not return or touch. Only "*" as key (a Go quirk) walks a whole category.
//
// Pure: no I/O, no locks. Owned by the Lookupd and used on its event-loop thread only.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>  // std::less<>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/function_ref.h"
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
  // The smallest key greater than this one: where a walk that stopped after this key resumes
  // (no string lies between s and s + '\0').
  Registration Successor() const { return {category, key, subkey + '\0'}; }
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

    bool operator==(const ProducerState&) const = default;
  };
  using ProducerMap = std::map<std::string, ProducerState>;  // by peer id

  explicit RegistrationDb(const util::Clock* clock) : clock_(clock) {}
  RegistrationDb(const RegistrationDb&) = delete;  // the peer index points into registrations_
  RegistrationDb& operator=(const RegistrationDb&) = delete;

  // Starts tracking a peer (IDENTIFY); its last update is now. Replaces a peer with the id.
  void AddPeer(PeerInfo peer);
  // Refreshes a peer's last update (PING). Unknown ids are ignored.
  void TouchPeer(const std::string& id);
  // The peer leaves every registration and is forgotten (connection closed). Returns the
  // registrations it was removed from, sorted. O(its registrations × log n).
  std::vector<Registration> RemovePeer(const std::string& id);
  const PeerInfo* FindPeer(const std::string& id) const;
  // Peers identified and connected.
  size_t peer_count() const { return peers_.size(); }

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
  // The producers of the matching keys, each peer once (the first key's state wins), in key
  // order then peer id order.
  std::vector<Producer> FindProducers(std::string_view category, std::string_view key,
                                      std::string_view subkey) const;
  // Every key the peer is a producer of, sorted.
  std::vector<Registration> LookupRegistrations(const std::string& peer_id) const;

  // Walks, in order, the keys of `category` ("*": every category) from `from` on (inclusive),
  // calling `visit` until it returns false. True when the walk reached the end. For responses
  // built a slice at a time: a walk stopped after key r resumes from r.Successor(), and sees
  // the database as it is then (keys added or removed meanwhile are or are not visited
  // depending on which side of r they sort).
  bool VisitRegistrations(
      std::string_view category, const Registration& from,
      absl::FunctionRef<bool(const Registration&, const ProducerMap&)> visit) const;
  // The same walk over the keys of `category` that `peer_id` is a producer of, with its state
  // in each. Costs O(log n + visited), whatever else the database holds.
  bool VisitPeerRegistrations(
      const std::string& peer_id, std::string_view category, const Registration& from,
      absl::FunctionRef<bool(const Registration&, const ProducerState&)> visit) const;

  // Tombstones, in every matching topic key, the producers whose broadcast_address:http_port
  // is `node`. Returns how many were tombstoned.
  int TombstoneTopicProducer(std::string_view topic, std::string_view node);

  // Whether a tombstone set less than `lifetime` ago still hides the producer.
  bool IsTombstoned(const Producer& producer, absl::Duration lifetime) const;
  bool IsTombstoned(const ProducerState& state, absl::Duration lifetime) const;
  // Drops producers whose peer was last updated more than `inactive_timeout` ago and those
  // tombstoned within `tombstone_lifetime`.
  std::vector<Producer> FilterByActive(std::vector<Producer> producers,
                                       absl::Duration inactive_timeout,
                                       absl::Duration tombstone_lifetime) const;

  // Every key with its producers, sorted by key (for /debug).
  const std::map<Registration, ProducerMap>& registrations() const { return registrations_; }
  int64_t NowNs() const { return clock_->NowNs(); }

 private:
  using RegistrationMap = std::map<Registration, ProducerMap>;
  // Orders a peer's index by the registrations its iterators point at, and finds by value.
  struct ByRegistration {
    using is_transparent = void;
    bool operator()(RegistrationMap::iterator a, RegistrationMap::iterator b) const {
      return a->first < b->first;
    }
    bool operator()(RegistrationMap::iterator a, const Registration& b) const {
      return a->first < b;
    }
    bool operator()(const Registration& a, RegistrationMap::iterator b) const {
      return a < b->first;
    }
  };
  // The keys one peer produces, each with the peer's entry in that key's ProducerMap. Both
  // are std::map nodes, stable until erased, and every erasure of either updates this index
  // (the invariant: p in registrations_[r] <=> r in peer_index_[p], pointing at that entry).
  using PeerIndex = absl::btree_map<RegistrationMap::iterator, ProducerState*, ByRegistration>;

  // The first key of `category` not before `from` ("*": the first key not before `from`).
  RegistrationMap::const_iterator CategoryStart(std::string_view category,
                                                const Registration& from) const;
  // Drops `registration` from the peer's index (and the index once empty).
  void IndexRemove(const std::string& peer_id, RegistrationMap::iterator registration);

  const util::Clock* clock_;
  std::map<std::string, PeerInfo, std::less<>> peers_;
  RegistrationMap registrations_;
  // By peer id, every peer that produces something (also ids AddProducer got without a
  // PeerInfo: they stay invisible to readers, as before, but RemovePeer still finds them).
  std::map<std::string, PeerIndex, std::less<>> peer_index_;
};

}  // namespace nsq::lookupd
