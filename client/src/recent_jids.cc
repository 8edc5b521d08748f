#include "client/src/recent_jids.h"

namespace nsq::jobs::internal {

void RecentJids::Expire(Clock::time_point now) {
  while (!finished_.empty() &&
         (now - finished_.front().first >= window_ || finished_.size() > capacity_)) {
    auto it = seen_.find(finished_.front().second);
    // A later run of the same jid owns the entry now.
    if (it != seen_.end() && it->second == finished_.front().first) seen_.erase(it);
    finished_.pop_front();
  }
}

bool RecentJids::Claim(const std::string& jid, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  return seen_.emplace(jid, Clock::time_point::max()).second;
}

void RecentJids::Done(const std::string& jid, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  seen_[jid] = now;
  finished_.emplace_back(now, jid);
  Expire(now);
}

void RecentJids::Release(const std::string& jid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(jid);
  if (it != seen_.end() && it->second == Clock::time_point::max()) seen_.erase(it);
}

}  // namespace nsq::jobs::internal
