// ScanModel: the registration database as it was before it had indexes — one ordered map that
// every query scans from end to end — and the HTTP answers computed from it the way the
// handlers used to compute them. Too slow for a daemon (/nodes was quadratic), obviously right
// for a test: the indexed RegistrationDb and the sliced answers must return exactly what this
// returns, byte for byte.
#pragma once

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/util/clock.h"
#include "lookupd/options.h"
#include "lookupd/registration_db.h"

namespace nsq::lookupd::testing {

class ScanModel {
 public:
  using ProducerMap = RegistrationDb::ProducerMap;

  explicit ScanModel(const util::Clock* clock) : clock_(clock) {}

  void AddPeer(PeerInfo peer) {
    peer.last_update_ns = clock_->NowNs();
    std::string id = peer.id;
    peers_.insert_or_assign(std::move(id), std::move(peer));
  }
  void TouchPeer(const std::string& id) {
    auto it = peers_.find(id);
    if (it != peers_.end()) it->second.last_update_ns = clock_->NowNs();
  }
  std::vector<Registration> RemovePeer(const std::string& id) {
    std::vector<Registration> left;
    for (auto& [registration, producers] : registrations_) {
      if (producers.erase(id) > 0) left.push_back(registration);
    }
    peers_.erase(id);
    return left;
  }
  const PeerInfo* FindPeer(const std::string& id) const {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : &it->second;
  }
  void AddRegistration(const Registration& r) { registrations_.try_emplace(r); }
  void RemoveRegistration(const Registration& r) { registrations_.erase(r); }
  bool AddProducer(const Registration& r, const std::string& id) {
    return registrations_[r].try_emplace(id).second;
  }
  std::pair<bool, size_t> RemoveProducer(const Registration& r, const std::string& id) {
    auto it = registrations_.find(r);
    if (it == registrations_.end()) return {false, 0};
    const bool removed = it->second.erase(id) > 0;
    return {removed, it->second.size()};
  }

  static bool Matches(const Registration& r, std::string_view category, std::string_view key,
                      std::string_view subkey) {
    return r.category == category && (key == "*" || r.key == key) &&
           (subkey == "*" || r.subkey == subkey);
  }
  std::vector<Registration> FindRegistrations(std::string_view category, std::string_view key,
                                              std::string_view subkey) const {
    std::vector<Registration> found;
    for (const auto& [r, producers] : registrations_) {
      if (Matches(r, category, key, subkey)) found.push_back(r);
    }
    return found;
  }
  std::vector<Producer> FindProducers(std::string_view category, std::string_view key,
                                      std::string_view subkey) const {
    std::vector<Producer> found;
    std::set<std::string_view> seen;
    for (const auto& [r, producers] : registrations_) {
      if (!Matches(r, category, key, subkey)) continue;
      for (const auto& [id, state] : producers) {
        const PeerInfo* peer = FindPeer(id);
        if (peer == nullptr || !seen.insert(id).second) continue;
        found.push_back(Producer{peer, state.tombstoned, state.tombstoned_at_ns});
      }
    }
    return found;
  }
  std::vector<Registration> LookupRegistrations(const std::string& id) const {
    std::vector<Registration> found;
    for (const auto& [r, producers] : registrations_) {
      if (producers.contains(id)) found.push_back(r);
    }
    return found;
  }
  int TombstoneTopicProducer(std::string_view topic, std::string_view node) {
    int count = 0;
    for (auto& [r, producers] : registrations_) {
      if (!Matches(r, kTopicCategory, topic, "")) continue;
      for (auto& [id, state] : producers) {
        const PeerInfo* peer = FindPeer(id);
        if (peer == nullptr) continue;
        if (absl::StrCat(peer->info.broadcast_address, ":", peer->info.http_port) != node) {
          continue;
        }
        state.tombstoned = true;
        state.tombstoned_at_ns = clock_->NowNs();
        ++count;
      }
    }
    return count;
  }
  bool IsTombstoned(const Producer& p, absl::Duration lifetime) const {
    return p.tombstoned &&
           clock_->NowNs() - p.tombstoned_at_ns < absl::ToInt64Nanoseconds(lifetime);
  }
  std::vector<Producer> FilterByActive(std::vector<Producer> producers, absl::Duration timeout,
                                       absl::Duration lifetime) const {
    const int64_t now = clock_->NowNs();
    std::erase_if(producers, [&](const Producer& p) {
      return now - p.peer->last_update_ns > absl::ToInt64Nanoseconds(timeout) ||
             IsTombstoned(p, lifetime);
    });
    return producers;
  }
  const std::map<Registration, ProducerMap>& registrations() const { return registrations_; }
  const std::map<std::string, PeerInfo>& peers() const { return peers_; }

  // The answers, computed as the handlers did before they were sliced.
  std::string Topics() const {
    boost::json::object body;
    body["topics"] = Strings(FindRegistrations(kTopicCategory, "*", ""), &Registration::key);
    return boost::json::serialize(body);
  }
  std::string Channels(const std::string& topic) const {
    boost::json::object body;
    body["channels"] =
        Strings(FindRegistrations(kChannelCategory, topic, "*"), &Registration::subkey);
    return boost::json::serialize(body);
  }
  // Empty when /lookup answers 404.
  std::string Lookup(const std::string& topic, const LookupdOptions& options) const {
    if (FindRegistrations(kTopicCategory, topic, "").empty()) return "";
    boost::json::array producers;
    for (const Producer& p :
         FilterByActive(FindProducers(kTopicCategory, topic, ""), options.inactive_producer_timeout,
                        options.tombstone_lifetime)) {
      producers.emplace_back(PeerObject(*p.peer));
    }
    boost::json::object body;
    body["channels"] =
        Strings(FindRegistrations(kChannelCategory, topic, "*"), &Registration::subkey);
    body["producers"] = std::move(producers);
    return boost::json::serialize(body);
  }
  std::string Nodes(const LookupdOptions& options) const {
    boost::json::array nodes;
    for (const Producer& client :
         FilterByActive(FindProducers(kClientCategory, "", ""), options.inactive_producer_timeout,
                        absl::ZeroDuration())) {
      std::vector<std::string> topics;
      for (const Registration& r : LookupRegistrations(client.peer->id)) {
        if (r.category == kTopicCategory && r.subkey.empty()) topics.push_back(r.key);
      }
      boost::json::array tombstones;
      boost::json::array topic_names;
      for (const std::string& topic : topics) {
        bool tombstoned = false;
        for (const Producer& p : FindProducers(kTopicCategory, topic, "")) {
          if (p.peer == client.peer) tombstoned = IsTombstoned(p, options.tombstone_lifetime);
        }
        tombstones.emplace_back(tombstoned);
        topic_names.emplace_back(topic);
      }
      boost::json::object node = PeerObject(*client.peer);
      node["tombstones"] = std::move(tombstones);
      node["topics"] = std::move(topic_names);
      nodes.emplace_back(std::move(node));
    }
    boost::json::object body;
    body["producers"] = std::move(nodes);
    return boost::json::serialize(body);
  }
  std::string Debug() const {
    boost::json::object body;
    for (const auto& [r, producers] : registrations_) {
      boost::json::array list;
      for (const auto& [id, state] : producers) {
        const PeerInfo* peer = FindPeer(id);
        if (peer == nullptr) continue;
        boost::json::object p;
        p["broadcast_address"] = peer->info.broadcast_address;
        p["hostname"] = peer->info.hostname;
        p["http_port"] = peer->info.http_port;
        p["id"] = peer->id;
        p["last_update"] = peer->last_update_ns;
        p["tcp_port"] = peer->info.tcp_port;
        p["tombstoned"] = state.tombstoned;
        p["tombstoned_at"] = state.tombstoned ? state.tombstoned_at_ns : -6795364578871345152;
        p["topology_region"] = peer->info.topology_region;
        p["topology_zone"] = peer->info.topology_zone;
        p["version"] = peer->info.version;
        list.emplace_back(std::move(p));
      }
      if (!list.empty()) body[r.ToString()] = std::move(list);
    }
    return boost::json::serialize(body);
  }

 private:
  static boost::json::array Strings(const std::vector<Registration>& registrations,
                                    std::string Registration::*field) {
    boost::json::array array;
    for (const Registration& r : registrations) array.emplace_back(r.*field);
    return array;
  }
  static boost::json::object PeerObject(const PeerInfo& peer) {
    boost::json::object object;
    object["remote_address"] = peer.remote_address;
    object["hostname"] = peer.info.hostname;
    object["broadcast_address"] = peer.info.broadcast_address;
    object["tcp_port"] = peer.info.tcp_port;
    object["http_port"] = peer.info.http_port;
    object["version"] = peer.info.version;
    object["topology_zone"] = peer.info.topology_zone;
    object["topology_region"] = peer.info.topology_region;
    return object;
  }

  const util::Clock* clock_;
  std::map<std::string, PeerInfo> peers_;
  std::map<Registration, ProducerMap> registrations_;
};

}  // namespace nsq::lookupd::testing
