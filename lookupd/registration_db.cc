#include "lookupd/registration_db.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace nsq::lookupd {
namespace {

constexpr std::string_view kAny = "*";

// Calls fn(iterator) for each key of `map` matching the Find* pattern, in key order. The keys
// of a category, and those of one key within it, are contiguous in the map: only a "*" key
// walks a whole category, nothing walks the rest of the map.
template <typename Map, typename Fn>
void ForEachMatch(Map& map, std::string_view category, std::string_view key,
                  std::string_view subkey, Fn fn) {
  if (key != kAny && subkey != kAny) {
    auto it = map.find(Registration{std::string(category), std::string(key), std::string(subkey)});
    if (it != map.end()) fn(it);
    return;
  }
  const bool any_key = key == kAny;
  auto it = map.lower_bound(
      Registration{std::string(category), any_key ? std::string() : std::string(key), ""});
  for (; it != map.end() && it->first.category == category; ++it) {
    if (!any_key && it->first.key != key) break;
    if (subkey == kAny || it->first.subkey == subkey) fn(it);
  }
}

}  // namespace

void RegistrationDb::AddPeer(PeerInfo peer) {
  peer.last_update_ns = clock_->NowNs();
  std::string id = peer.id;
  peers_.insert_or_assign(std::move(id), std::move(peer));
}

void RegistrationDb::TouchPeer(const std::string& id) {
  auto it = peers_.find(id);
  if (it != peers_.end()) it->second.last_update_ns = clock_->NowNs();
}

std::vector<Registration> RegistrationDb::RemovePeer(const std::string& id) {
  std::vector<Registration> left;
  auto index = peer_index_.find(id);
  if (index != peer_index_.end()) {
    left.reserve(index->second.size());
    for (const auto& [registration, state] : index->second) {
      registration->second.erase(id);
      left.push_back(registration->first);
    }
    peer_index_.erase(index);
  }
  peers_.erase(id);
  return left;
}

const PeerInfo* RegistrationDb::FindPeer(const std::string& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

void RegistrationDb::AddRegistration(const Registration& registration) {
  registrations_.try_emplace(registration);
}

void RegistrationDb::RemoveRegistration(const Registration& registration) {
  auto it = registrations_.find(registration);
  if (it == registrations_.end()) return;
  for (const auto& [peer_id, state] : it->second) IndexRemove(peer_id, it);
  registrations_.erase(it);
}

bool RegistrationDb::AddProducer(const Registration& registration, const std::string& peer_id) {
  auto it = registrations_.try_emplace(registration).first;
  auto [producer, added] = it->second.try_emplace(peer_id);
  if (added) peer_index_[peer_id].emplace(it, &producer->second);
  return added;
}

std::pair<bool, size_t> RegistrationDb::RemoveProducer(const Registration& registration,
                                                       const std::string& peer_id) {
  auto it = registrations_.find(registration);
  if (it == registrations_.end()) return {false, 0};
  const bool removed = it->second.erase(peer_id) > 0;
  if (removed) IndexRemove(peer_id, it);
  return {removed, it->second.size()};
}

void RegistrationDb::IndexRemove(const std::string& peer_id,
                                 RegistrationMap::iterator registration) {
  auto index = peer_index_.find(peer_id);
  if (index == peer_index_.end()) return;
  index->second.erase(registration);
  if (index->second.empty()) peer_index_.erase(index);
}

std::vector<Registration> RegistrationDb::FindRegistrations(std::string_view category,
                                                            std::string_view key,
                                                            std::string_view subkey) const {
  std::vector<Registration> found;
  ForEachMatch(registrations_, category, key, subkey,
               [&](RegistrationMap::const_iterator it) { found.push_back(it->first); });
  return found;
}

std::vector<Producer> RegistrationDb::FindProducers(std::string_view category, std::string_view key,
                                                    std::string_view subkey) const {
  std::vector<Producer> found;
  std::set<std::string_view> seen;
  ForEachMatch(registrations_, category, key, subkey, [&](RegistrationMap::const_iterator it) {
    for (const auto& [peer_id, state] : it->second) {
      const PeerInfo* peer = FindPeer(peer_id);
      if (peer == nullptr || !seen.insert(peer_id).second) continue;
      found.push_back(Producer{peer, state.tombstoned, state.tombstoned_at_ns});
    }
  });
  return found;
}

std::vector<Registration> RegistrationDb::LookupRegistrations(const std::string& peer_id) const {
  std::vector<Registration> found;
  auto index = peer_index_.find(peer_id);
  if (index == peer_index_.end()) return found;
  found.reserve(index->second.size());
  for (const auto& [registration, state] : index->second) found.push_back(registration->first);
  return found;
}

RegistrationDb::RegistrationMap::const_iterator RegistrationDb::CategoryStart(
    std::string_view category, const Registration& from) const {
  if (category == kAny || from.category >= category) return registrations_.lower_bound(from);
  return registrations_.lower_bound(Registration{std::string(category), "", ""});
}

bool RegistrationDb::VisitRegistrations(
    std::string_view category, const Registration& from,
    absl::FunctionRef<bool(const Registration&, const ProducerMap&)> visit) const {
  for (auto it = CategoryStart(category, from); it != registrations_.end(); ++it) {
    if (category != kAny && it->first.category != category) return true;
    if (!visit(it->first, it->second)) return false;
  }
  return true;
}

bool RegistrationDb::VisitPeerRegistrations(
    const std::string& peer_id, std::string_view category, const Registration& from,
    absl::FunctionRef<bool(const Registration&, const ProducerState&)> visit) const {
  auto index = peer_index_.find(peer_id);
  if (index == peer_index_.end()) return true;
  const PeerIndex& keys = index->second;
  auto it = category == kAny || from.category >= category
                ? keys.lower_bound(from)
                : keys.lower_bound(Registration{std::string(category), "", ""});
  for (; it != keys.end(); ++it) {
    const Registration& registration = it->first->first;
    if (category != kAny && registration.category != category) return true;
    if (!visit(registration, *it->second)) return false;
  }
  return true;
}

int RegistrationDb::TombstoneTopicProducer(std::string_view topic, std::string_view node) {
  int count = 0;
  ForEachMatch(registrations_, kTopicCategory, topic, "", [&](RegistrationMap::iterator it) {
    for (auto& [peer_id, state] : it->second) {
      const PeerInfo* peer = FindPeer(peer_id);
      if (peer == nullptr) continue;
      if (absl::StrCat(peer->info.broadcast_address, ":", peer->info.http_port) != node) continue;
      state.tombstoned = true;
      state.tombstoned_at_ns = clock_->NowNs();
      ++count;
    }
  });
  return count;
}

bool RegistrationDb::IsTombstoned(const Producer& producer, absl::Duration lifetime) const {
  return IsTombstoned(ProducerState{producer.tombstoned, producer.tombstoned_at_ns}, lifetime);
}

bool RegistrationDb::IsTombstoned(const ProducerState& state, absl::Duration lifetime) const {
  // The clock is read only for tombstoned producers: /nodes asks once per topic of a node.
  return state.tombstoned &&
         clock_->NowNs() - state.tombstoned_at_ns < absl::ToInt64Nanoseconds(lifetime);
}

std::vector<Producer> RegistrationDb::FilterByActive(std::vector<Producer> producers,
                                                     absl::Duration inactive_timeout,
                                                     absl::Duration tombstone_lifetime) const {
  const int64_t now = clock_->NowNs();
  const int64_t timeout_ns = absl::ToInt64Nanoseconds(inactive_timeout);
  std::erase_if(producers, [&](const Producer& p) {
    return now - p.peer->last_update_ns > timeout_ns || IsTombstoned(p, tombstone_lifetime);
  });
  return producers;
}

}  // namespace nsq::lookupd
