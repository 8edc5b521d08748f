#include "tools/redis_to_nsq/rate_limiter.h"

#include <algorithm>

#include "tools/redis_to_nsq/run_state.h"

namespace nsq::redis_to_nsq {

bool RateLimiter::Acquire(int64_t jobs) {
  if (per_second_ <= 0) return true;
  // A batch larger than a second's worth may still go; it just waits for its share.
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const Clock::time_point now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min(per_second_, tokens_ + elapsed * per_second_);
    refilled_ = now;
    const double need = std::min<double>(static_cast<double>(jobs), per_second_);
    if (tokens_ >= need) {
      tokens_ -= static_cast<double>(jobs);  // may go negative: the debt delays the next one
      return true;
    }
    const double wait = (need - tokens_) / per_second_;
    lock.unlock();
    if (RunState::SleepFor(absl::Seconds(wait))) return false;
    lock.lock();
  }
}

}  // namespace nsq::redis_to_nsq
