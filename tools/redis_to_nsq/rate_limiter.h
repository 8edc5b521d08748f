// --rate: at most `per_second` jobs a second across all of the migrator's threads, so a
// production Redis is not hammered. A token bucket holding one second's worth.
//
//   RateLimiter limiter(1000);   // 0: no limit
//   limiter.Acquire(500);        // blocks until 500 jobs may go (or a stop is requested)
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace nsq::redis_to_nsq {

class RateLimiter {
 public:
  explicit RateLimiter(double per_second) : per_second_(per_second) {}

  // Returns false when a stop was requested while waiting.
  bool Acquire(int64_t jobs);

 private:
  using Clock = std::chrono::steady_clock;
  const double per_second_;
  std::mutex mu_;
  double tokens_ = 0;
  Clock::time_point refilled_ = Clock::now();
};

}  // namespace nsq::redis_to_nsq
