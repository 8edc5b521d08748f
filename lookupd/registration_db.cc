#include "lookupd/registration_db.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace nsq::lookupd {
namespace {

bool Matches(const Registration& r, std::string_view category, std::string_view key,
             std::string_view subkey) {
  return r.category == category && (key == "*" || r.key == key) &&
         (subkey == "*" || r.subkey == subkey);
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
  for (auto& [registration, producers] : registrations_) {
    if (producers.erase(id) > 0) left.push_back(registration);
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
  registrations_.erase(registration);
}

bool RegistrationDb::AddProducer(const Registration& registration, const std::string& peer_id) {
  return registrations_[registration].try_emplace(peer_id).second;
}

std::pair<bool, size_t> RegistrationDb::RemoveProducer(const Registration& registration,
                                                       const std::string& peer_id) {
  auto it = registrations_.find(registration);
  if (it == registrations_.end()) return {false, 0};
  const bool removed = it->second.erase(peer_id) > 0;
  return {removed, it->second.size()};
}

std::vector<Registration> RegistrationDb::FindRegistrations(std::string_view category,
                                                            std::string_view key,
                                                            std::string_view subkey) const {
  std::vector<Registration> found;
  for (const auto& [registration, producers] : registrations_) {
    if (Matches(registration, category, key, subkey)) found.push_back(registration);
  }
  return found;
}

std::vector<Producer> RegistrationDb::FindProducers(std::string_view category, std::string_view key,
                                                    std::string_view subkey) const {
  std::vector<Producer> found;
  std::set<std::string_view> seen;
  for (const auto& [registration, producers] : registrations_) {
    if (!Matches(registration, category, key, subkey)) continue;
    for (const auto& [peer_id, state] : producers) {
      const PeerInfo* peer = FindPeer(peer_id);
      if (peer == nullptr || !seen.insert(peer_id).second) continue;
      found.push_back(Producer{peer, state.tombstoned, state.tombstoned_at_ns});
    }
  }
  return found;
}

std::vector<Registration> RegistrationDb::LookupRegistrations(const std::string& peer_id) const {
  std::vector<Registration> found;
  for (const auto& [registration, producers] : registrations_) {
    if (producers.contains(peer_id)) found.push_back(registration);
  }
  return found;
}

int RegistrationDb::TombstoneTopicProducer(std::string_view topic, std::string_view node) {
  int count = 0;
  for (auto& [registration, producers] : registrations_) {
    if (!Matches(registration, kTopicCategory, topic, "")) continue;
    for (auto& [peer_id, state] : producers) {
      const PeerInfo* peer = FindPeer(peer_id);
      if (peer == nullptr) continue;
      if (absl::StrCat(peer->info.broadcast_address, ":", peer->info.http_port) != node) continue;
      state.tombstoned = true;
      state.tombstoned_at_ns = clock_->NowNs();
      ++count;
    }
  }
  return count;
}

bool RegistrationDb::IsTombstoned(const Producer& producer, absl::Duration lifetime) const {
  return producer.tombstoned &&
         clock_->NowNs() - producer.tombstoned_at_ns < absl::ToInt64Nanoseconds(lifetime);
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
