// The jids a Worker ran recently, for WorkerOptions::dedupe_window: a job whose jid is running
// or finished within the window is a duplicate (at-least-once delivery, a migration that
// republished a batch after a crash) and is not run again. Bounded: at most `capacity` jids,
// the oldest forgotten first. Thread-safe (the handler threads share one).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace nsq::jobs::internal {

class RecentJids {
 public:
  using Clock = std::chrono::steady_clock;

  RecentJids(std::chrono::milliseconds window, size_t capacity)
      : window_(window), capacity_(capacity) {}

  // True when `jid` may run now (and it is marked running); false for a duplicate.
  bool Claim(const std::string& jid, Clock::time_point now);
  // The run succeeded: further copies within the window are duplicates.
  void Done(const std::string& jid, Clock::time_point now);
  // The run failed: its retry (the same message, requeued) must run.
  void Release(const std::string& jid);

 private:
  void Expire(Clock::time_point now);

  const std::chrono::milliseconds window_;
  const size_t capacity_;
  std::mutex mu_;
  // jid -> when it finished; Clock::time_point::max() while it runs.
  std::map<std::string, Clock::time_point> seen_;
  std::deque<std::pair<Clock::time_point, std::string>> finished_;  // oldest first
};

}  // namespace nsq::jobs::internal
