#include "nsqd/broker_persistence.h"

#include <set>

#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "common/util/status_macros.h"
#include "nsqd/shard/topic_owner.h"
#include "nsqd/storage/group_commit_writer.h"
#include "nsqd/storage/metadata.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_batch.h"

namespace nsq::nsqd {

// Tells the persistence about one shard's topology changes, on that shard's loop.
class BrokerPersistence::ShardListener final : public BrokerListener {
 public:
  ShardListener(BrokerPersistence* persistence, size_t shard)
      : persistence_(persistence), shard_(shard) {}

  void TopicCreated(const std::string& topic) override {
    if (!protocol::IsEphemeralName(topic)) Save("saving topology");
  }
  void TopicDeleted(const std::string& topic) override {
    if (!protocol::IsEphemeralName(topic)) Save("deleting a topic");
  }
  void ChannelCreated(const std::string& topic, const std::string& channel) override {
    if (!protocol::IsEphemeralName(topic) && !protocol::IsEphemeralName(channel)) {
      Save("saving topology");
    }
  }
  void ChannelDeleted(const std::string& topic, const std::string& channel) override {
    if (!protocol::IsEphemeralName(topic) && !protocol::IsEphemeralName(channel)) {
      Save("deleting a channel");
    }
  }
  void PauseChanged(const std::string& topic, const std::string& channel) override {
    Save("saving topology");
  }

 private:
  void Save(const char* what) { persistence_->SaveTopology(shard_, what); }

  BrokerPersistence* persistence_;
  size_t shard_;
};

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::vector<Post> posts,
    const storage::SyncPolicy& sync_policy) {
  return Open(data_path, std::move(posts), sync_policy, storage::StoreOptions{});
}

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::vector<Post> posts,
    const storage::SyncPolicy& sync_policy, const storage::StoreOptions& store_options) {
  if (posts.empty()) return absl::InvalidArgumentError("the store needs at least one shard");
  NSQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                       storage::Store::Open(data_path, store_options));
  const size_t shards = posts.size();
  storage::GroupCommitOptions options;
  options.sync_policy = sync_policy;
  options.posts = std::move(posts);
  auto writer = std::make_unique<storage::GroupCommitWriter>(store.get(), options);
  return std::unique_ptr<BrokerPersistence>(
      new BrokerPersistence(std::move(store), std::move(writer), shards));
}

BrokerPersistence::BrokerPersistence(std::unique_ptr<storage::Store> store,
                                     std::unique_ptr<storage::GroupCommitWriter> writer,
                                     size_t shards)
    : store_(std::move(store)), writer_(std::move(writer)) {
  for (size_t shard = 0; shard < shards; ++shard) {
    broker_stores_.push_back(
        std::make_unique<BrokerStore>(store_.get(), writer_.get(), health_, shard));
    listeners_.push_back(std::make_unique<ShardListener>(this, shard));
  }
}

BrokerListener* BrokerPersistence::listener(size_t shard) { return listeners_[shard].get(); }

BrokerPersistence::~BrokerPersistence() {
  writer_.reset();  // before the store it writes to; completes what is pending
  broker_stores_.clear();
}

storage::GroupCommitStats BrokerPersistence::writer_stats() const { return writer_->stats(); }

storage::StoreStats BrokerPersistence::store_stats() const { return store_->GetInMemoryStats(); }

absl::Status BrokerPersistence::Restore(std::vector<Broker*> brokers) {
  if (brokers.size() != broker_stores_.size()) {
    return absl::InvalidArgumentError("one broker per shard is needed to restore");
  }
  brokers_ = std::move(brokers);
  const size_t shards = brokers_.size();
  std::vector<size_t> stored_shards;
  NSQ_ASSIGN_OR_RETURN(storage::Metadata metadata, store_->LoadMetadata(&stored_shards));
  std::set<uint64_t> referenced;
  std::set<std::string> restored;
  for (const storage::TopicMetadata& stored : metadata.topics) {
    if (!protocol::IsValidTopicName(stored.name) || protocol::IsEphemeralName(stored.name)) {
      NSQ_LOG_WARN("store: skipping topic %s (invalid name)", stored.name);
      continue;
    }
    if (!restored.insert(stored.name).second) {
      NSQ_LOG_WARN("store: skipping topic %s (stored by two shards)", stored.name);
      continue;
    }
    Topic* topic = brokers_[TopicOwner(stored.name, shards)]->GetOrCreateTopic(stored.name);
    // Held until every channel is back, so the topic's backlog reaches all of them.
    topic->HoldForChannelDiscovery();
    topic->UseStoredQueue(stored.queue_id);
    referenced.insert(stored.queue_id);
    if (stored.paused) topic->Pause();
    for (const storage::ChannelMetadata& channel_meta : stored.channels) {
      if (!protocol::IsValidChannelName(channel_meta.name) ||
          protocol::IsEphemeralName(channel_meta.name)) {
        continue;
      }
      Channel* channel = topic->GetOrCreateChannel(channel_meta.name);
      NSQ_RETURN_IF_ERROR(channel->UseStoredQueue(channel_meta.queue_id));
      referenced.insert(channel_meta.queue_id);
      if (channel_meta.paused) channel->Pause();
    }
    topic->ReleaseHold();
  }

  storage::StoreBatch cleanup = store_->NewBatch();
  // Data no topology refers to: a deletion that crashed half-way. Remove it.
  for (uint64_t queue : store_->KnownQueueIds()) {
    if (!referenced.contains(queue)) cleanup.DeleteQueue(queue);
  }
  // Saved with another number of shards (a topic's owner depends on it): each shard's
  // topology is written again and the keys of shards that no longer exist go, in one write.
  const bool relayout = (shards > 1 && !metadata.topics.empty()) ||
                        (!stored_shards.empty() && stored_shards.back() >= shards);
  if (relayout) {
    for (size_t shard = 0; shard < shards; ++shard) {
      cleanup.PutMetadata(CurrentMetadata(shard), shard);
    }
    for (size_t shard : stored_shards) {
      if (shard >= shards) cleanup.DeleteMetadata(shard);
    }
  }
  if (!cleanup.empty()) NSQ_RETURN_IF_ERROR(store_->Write(cleanup, /*sync=*/true));

  int64_t waiting = 0;
  for (Broker* broker : brokers_) {
    for (Topic* topic : broker->Topics()) {
      waiting += topic->depth();
      for (Channel* channel : topic->Channels()) {
        waiting += channel->depth() + static_cast<int64_t>(channel->deferred_count());
      }
    }
  }
  NSQ_LOG_INFO("store: restored %d topics, %d messages waiting, from %s", restored.size(),
               waiting, store_->path());
  return absl::OkStatus();
}

storage::Metadata BrokerPersistence::CurrentMetadata(size_t shard) const {
  storage::Metadata metadata;
  for (Topic* topic : brokers_[shard]->Topics()) {
    if (topic->queue_id() == 0) continue;  // ephemeral
    storage::TopicMetadata stored{topic->name(), topic->paused(), topic->queue_id(), {}};
    for (Channel* channel : topic->Channels()) {
      if (channel->queue_id() == 0) continue;
      stored.channels.push_back({channel->name(), channel->paused(), channel->queue_id()});
    }
    metadata.topics.push_back(std::move(stored));
  }
  return metadata;
}

void BrokerPersistence::SaveTopology(size_t shard, const char* what) {
  storage::StoreBatch batch = store_->NewBatch();
  batch.PutMetadata(CurrentMetadata(shard), shard);
  broker_stores_[shard]->Submit(std::move(batch), /*sync=*/true, what, nullptr);
}

absl::Status BrokerPersistence::PersistAll() {
  writer_->Stop();  // writes still queued go first; from here on this thread writes alone
  store_->StopCompactions();
  size_t persisted = 0;
  storage::StoreBatch topology = store_->NewBatch();
  for (size_t shard = 0; shard < brokers_.size(); ++shard) {
    for (Topic* topic : brokers_[shard]->Topics()) {
      storage::StoreBatch batch = store_->NewBatch();
      NSQ_ASSIGN_OR_RETURN(const size_t from_topic, topic->PersistForShutdown(&batch));
      persisted += from_topic;
      for (Channel* channel : topic->Channels()) {
        NSQ_ASSIGN_OR_RETURN(const size_t from_channel, channel->PersistForShutdown(&batch));
        persisted += from_channel;
      }
      if (!batch.empty()) NSQ_RETURN_IF_ERROR(store_->Write(batch, /*sync=*/false));
    }
    topology.PutMetadata(CurrentMetadata(shard), shard);
  }
  NSQ_RETURN_IF_ERROR(store_->Write(topology, /*sync=*/true));
  NSQ_LOG_INFO("store: persisted %d messages held in memory", persisted);
  return absl::OkStatus();
}

}  // namespace nsq::nsqd
