// Two shards' brokers on the test's thread, for code that works across shards: shard 0 is the
// caller's, and work posted to the other shard waits until the test runs it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nsqd/broker/broker_set.h"
#include "nsqd/shard/topic_owner.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd::testing {

class TwoShards final : public BrokerSet {
 public:
  TwoShards() : first_(env_.context), second_(env_.context) {}
  size_t size() const override { return 2; }
  size_t current() const override { return running_ ? 1 : 0; }
  Broker& broker(size_t shard) override { return shard == 0 ? first_ : second_; }
  void Post(size_t shard, Task task) override {
    if (shard == current()) {
      std::move(task)();
    } else {
      tasks_.push_back({shard, std::move(task)});
    }
  }
  // Runs what was posted to either shard, in order, until nothing is left.
  void RunPosted() {
    while (!tasks_.empty()) {
      auto [shard, task] = std::move(tasks_.front());
      tasks_.erase(tasks_.begin());
      running_ = shard == 1;
      std::move(task)();
      running_ = false;
    }
  }
  // A topic name shard `shard` owns.
  static std::string TopicOf(size_t shard, const std::string& prefix) {
    for (int i = 0;; ++i) {
      std::string name = prefix + std::to_string(i);
      if (TopicOwner(name, 2) == shard) return name;
    }
  }

 private:
  testing::FakeEnv env_;
  Broker first_;
  Broker second_;
  bool running_ = false;
  std::vector<std::pair<size_t, Task>> tasks_;
};

}  // namespace nsq::nsqd::testing
