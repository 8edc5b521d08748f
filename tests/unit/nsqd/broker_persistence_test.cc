// BrokerPersistence over a real RocksDB in a temp dir: topology writes happen off the caller's
// thread, a failing disk marks nsqd unhealthy until a write succeeds again, and each shard's
// broker keeps the topics it owns, also across a restart with another number of shards.
#include "nsqd/broker_persistence.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "nsqd/shard/topic_owner.h"
#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/post_queue.h"

namespace nsq::nsqd {
namespace {

TEST_CASE("a failing store write makes nsqd unhealthy until a write succeeds again") {
  testutil::TempDir dir("persistence");
  auto faults = std::make_shared<storage::FaultInjector>();
  storage::StoreOptions options;
  options.fault_injector = faults;
  testing::PostQueue loop;
  auto persistence = BrokerPersistence::Open(dir.path(), {loop.Poster()}, {}, options);
  REQUIRE(persistence.ok());
  testing::FakeEnv env;
  env.context.store = (*persistence)->broker_store(0);
  Broker broker(env.context);
  REQUIRE((*persistence)->Restore({&broker}).ok());
  broker.AddListener((*persistence)->listener(0));

  broker.GetOrCreateTopic("first");
  REQUIRE(loop.RunNext());
  CHECK((*persistence)->health_error().empty());

  faults->FailWrites(storage::FaultKind::kIoError);
  broker.GetOrCreateTopic("second");
  REQUIRE(loop.RunNext());
  CHECK_FALSE((*persistence)->health_error().empty());

  faults->Heal();
  broker.GetOrCreateTopic("third");
  REQUIRE(loop.RunNext());
  CHECK((*persistence)->health_error().empty());
}

// One nsqd's brokers, one per shard, over the store at `path`, wired as nsqd wires them: shard
// k's store completions arrive on loops[k]. Destroying it is a clean shutdown.
class ShardedNode {
 public:
  ShardedNode(const std::string& path, size_t shards) : loops_(shards), envs_(shards) {
    std::vector<BrokerPersistence::Post> posts;
    for (testing::PostQueue& loop : loops_) posts.push_back(loop.Poster());
    auto opened = BrokerPersistence::Open(path, std::move(posts), {});
    REQUIRE(opened.ok());
    persistence_ = *std::move(opened);
    std::vector<Broker*> brokers;
    for (size_t shard = 0; shard < shards; ++shard) {
      envs_[shard].options.mem_queue_size = 0;  // every message goes to the store
      envs_[shard].context.store = persistence_->broker_store(shard);
      brokers_.push_back(std::make_unique<Broker>(envs_[shard].context));
      brokers.push_back(brokers_.back().get());
    }
    REQUIRE(persistence_->Restore(brokers).ok());
    for (size_t shard = 0; shard < shards; ++shard) {
      brokers_[shard]->AddListener(persistence_->listener(shard));
    }
  }
  ~ShardedNode() {
    CHECK(persistence_->PersistAll().ok());
    brokers_.clear();
  }

  size_t shards() const { return brokers_.size(); }
  Broker& broker(size_t shard) { return *brokers_[shard]; }
  testing::PostQueue& loop(size_t shard) { return loops_[shard]; }
  Broker& owner(const std::string& topic) { return *brokers_[TopicOwner(topic, shards())]; }
  // Runs shard `shard`'s next store completion.
  bool RunNext(size_t shard) { return loops_[shard].RunNext(); }

 private:
  std::vector<testing::PostQueue> loops_;
  std::vector<testing::FakeEnv> envs_;
  std::unique_ptr<BrokerPersistence> persistence_;
  std::vector<std::unique_ptr<Broker>> brokers_;
};

std::vector<std::string> TopicNames(Broker& broker) {
  std::vector<std::string> names;
  for (Topic* topic : broker.Topics()) names.push_back(topic->name());
  return names;
}

TEST_CASE("each shard keeps its own topology, and a restart with another shard count moves "
          "every topic to its new owner with its channels, paused flags and messages") {
  testutil::TempDir dir("persistence");
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("topic" + std::to_string(i));
  {
    ShardedNode node(dir.path(), 2);
    for (const std::string& name : names) {
      const size_t shard = TopicOwner(name, 2);
      Topic* topic = node.broker(shard).GetOrCreateTopic(name);
      REQUIRE(node.RunNext(shard));  // the topology write completes on the owner's loop
      topic->GetOrCreateChannel("ch");
      REQUIRE(node.RunNext(shard));
      std::optional<absl::Status> published;
      topic->Publish({protocol::Body::Copy(name)}, 0, [&](absl::Status s) { published = s; });
      while (!published) REQUIRE(node.RunNext(shard));
      REQUIRE(published->ok());
    }
    node.broker(TopicOwner("topic3", 2)).FindTopic("topic3")->Pause();
    REQUIRE(node.RunNext(TopicOwner("topic3", 2)));
    // The owner function spread the names: both shards own some.
    CHECK_FALSE(TopicNames(node.broker(0)).empty());
    CHECK_FALSE(TopicNames(node.broker(1)).empty());
  }
  for (size_t shards : {size_t{3}, size_t{1}}) {
    CAPTURE(shards);
    ShardedNode node(dir.path(), shards);
    size_t found = 0;
    for (size_t shard = 0; shard < shards; ++shard) {
      for (const std::string& name : TopicNames(node.broker(shard))) {
        CHECK(TopicOwner(name, shards) == shard);
        ++found;
      }
    }
    CHECK(found == names.size());
    for (const std::string& name : names) {
      Topic* topic = node.owner(name).FindTopic(name);
      REQUIRE(topic != nullptr);
      CHECK(topic->paused() == (name == "topic3"));
      Channel* channel = topic->FindChannel("ch");
      REQUIRE(channel != nullptr);
      CHECK(channel->depth() == 1);
    }
  }
  // Only the one shard's key is left.
  auto store = storage::Store::Open(dir.path(), {});
  REQUIRE(store.ok());
  std::vector<size_t> stored_shards;
  auto metadata = (*store)->LoadMetadata(&stored_shards);
  REQUIRE(metadata.ok());
  CHECK(metadata->topics.size() == names.size());
  CHECK(stored_shards == std::vector<size_t>{0});
}

}  // namespace
}  // namespace nsq::nsqd
