// BrokerSet: nsqd's brokers, one per shard, each owning the topics TopicOwner gives its shard
// (their channels, queues, timers and store writes), and the one way to reach a topic from
// anywhere: run the work on its owner's loop. The TCP connections, the HTTP API, lookupd and
// statsd reach topics only through it.
//
//   brokers.OnOwner(topic, [](Broker& broker) { broker.GetOrCreateTopic(topic)->Pause(); });
//   brokers.Post(home, [] { ... });     // back to the shard that asked
//   GatherStats(brokers, "", "", false, [](BrokerStats stats) { ... });  // every shard's
//
// With one shard everything runs at once, on the caller's stack (tests, --worker-threads=1).
// Every call is made on a shard's loop thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "nsqd/broker/broker.h"

namespace nsq::nsqd {

class BrokerSet {
 public:
  using Task = absl::AnyInvocable<void() &&>;
  using BrokerTask = absl::AnyInvocable<void(Broker&) &&>;

  virtual ~BrokerSet() = default;

  virtual size_t size() const = 0;
  // The shard whose loop is calling.
  virtual size_t current() const = 0;
  // Shard `shard`'s broker: use it only on that shard's loop.
  virtual Broker& broker(size_t shard) = 0;
  Broker& local() { return broker(current()); }
  size_t OwnerOf(std::string_view topic) const;

  // Runs `task` on shard `shard`'s loop: at once when that is the caller's, else after what
  // the caller posted there before.
  virtual void Post(size_t shard, Task task) = 0;
  // Runs `task` with the broker of the shard that owns `topic`, on its loop.
  void OnOwner(std::string_view topic, BrokerTask task);
  // Runs `task` with each shard's broker on its loop (the caller's own at once).
  void OnEach(std::function<void(Broker&)> task);
};

// One broker: every call runs at once.
class SingleBroker final : public BrokerSet {
 public:
  explicit SingleBroker(Broker* broker) : broker_(broker) {}
  size_t size() const override { return 1; }
  size_t current() const override { return 0; }
  Broker& broker(size_t shard) override { return *broker_; }
  void Post(size_t shard, Task task) override { std::move(task)(); }

 private:
  Broker* broker_;
};

// Broker::Stats of every shard, merged as one broker would give them (topics by name), handed
// to `done` on the calling shard once every shard has answered. With a topic filter only the
// owner is asked.
void GatherStats(BrokerSet& brokers, const std::string& topic_filter,
                 const std::string& channel_filter, bool include_clients,
                 std::function<void(BrokerStats)> done);

}  // namespace nsq::nsqd
