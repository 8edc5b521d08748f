// The event loop's post() for unit tests with a real store: the store's writer thread hands
// completions here, and the test runs them on its own thread, as the loop would.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace nsq::nsqd::testing {

class PostQueue {
 public:
  std::function<void(std::function<void()>)> Poster() {
    return [this](std::function<void()> fn) {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
      cv_.notify_all();
    };
  }
  // Runs the next posted completion; false if none came within the deadline.
  bool RunNext(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, deadline, [&] { return !queue_.empty(); })) return false;
      fn = std::move(queue_.front());
      queue_.erase(queue_.begin());
    }
    fn();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> queue_;
};

}  // namespace nsq::nsqd::testing
