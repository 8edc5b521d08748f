// A broker over a real store (RocksDB in a temp dir), wired as nsqd wires it, with the store's
// completions run on the test thread: for unit tests of topics, channels and connections that
// need the store path.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nsqd/broker/broker.h"
#include "nsqd/broker_persistence.h"
#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/store.h"
#include "tests/unit/nsqd/fake_consumer.h"
#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/post_queue.h"

namespace nsq::nsqd::testing {

// A broker whose durable topics and channels use a store at `path`, as nsqd wires it, with
// store completions run on the test thread. Destroying it is a clean shutdown.
class StoredBroker {
 public:
  StoredBroker(const std::string& path, int64_t mem_queue_size,
               std::shared_ptr<storage::FaultInjector> faults = nullptr) {
    env_.options.mem_queue_size = mem_queue_size;
    storage::StoreOptions store_options;
    store_options.fault_injector = std::move(faults);
    auto opened = BrokerPersistence::Open(path, {loop_.Poster()}, {}, store_options);
    REQUIRE(opened.ok());
    persistence_ = *std::move(opened);
    env_.context.store = persistence_->broker_store(0);
    broker_ = std::make_unique<Broker>(env_.context);
    REQUIRE(persistence_->Restore({broker_.get()}).ok());
    broker_->AddListener(persistence_->listener(0));
  }
  ~StoredBroker() {
    // As nsqd exits: consumers leave (in-flight messages go back), then memory is persisted.
    for (auto& [consumer, channel] : subscriptions_) channel->RemoveConsumer(consumer);
    CHECK(persistence_->PersistAll().ok());
    broker_.reset();
  }

  Broker& broker() { return *broker_; }
  FakeEnv& env() { return env_; }
  Topic* topic(const std::string& name) { return broker_->GetOrCreateTopic(name); }
  Channel* channel(const std::string& topic_name, const std::string& name) {
    return topic(topic_name)->GetOrCreateChannel(name);
  }
  void Subscribe(Channel* channel, FakeConsumer* consumer) {
    REQUIRE(channel->AddConsumer(consumer).ok());
    subscriptions_.emplace_back(consumer, channel);
    channel->ConsumerReady();
  }

  // Publishes and waits for the outcome, running store completions and posted work as the
  // event loop would.
  absl::Status Publish(Topic* topic, const std::vector<protocol::Body>& bodies,
                       int64_t defer_ns = 0) {
    std::optional<absl::Status> outcome;
    topic->Publish(bodies, defer_ns, [&outcome](absl::Status status) { outcome = status; });
    while (!outcome) REQUIRE(loop_.RunNext());
    env_.RunPosted();
    return *outcome;
  }
  // Runs posted work (topic backlog steps) until there is none.
  void RunPosted() { env_.RunPosted(); }
  // Runs the next store completion (false when none came within 10 s).
  bool RunNextCompletion() { return loop_.RunNext(); }

 private:
  PostQueue loop_;
  FakeEnv env_;
  std::unique_ptr<BrokerPersistence> persistence_;
  std::unique_ptr<Broker> broker_;
  std::vector<std::pair<Consumer*, Channel*>> subscriptions_;
};

}  // namespace nsq::nsqd::testing
