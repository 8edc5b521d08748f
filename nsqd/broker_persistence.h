// BrokerPersistence: the broker's store (nsqd/storage) from start-up to shutdown.
//
// - Opens the RocksDB store under --data-path and its group-commit writer thread (with the
//   --sync-every / --sync-timeout policy), and hands the broker its BrokerStore: durable topics
//   and channels then keep their overflow (everything with --mem-queue-size=0) in it.
// - Topology (topics, channels, their queue ids, paused flags) is written as it changes, off
//   the event loop, as nsqd rewrites nsqd.dat. Each shard's broker writes the topology of
//   the topics it owns under a key of its own, from its own loop.
// - Start-up recreates the topology before the listeners open; backlogs stay in the store and
//   are read as consumers need them (only deferred messages are loaded).
// - A clean shutdown adds what lives only in memory: queued and in-flight messages go in front
//   of each stored backlog (in-flight first, attempts kept), deferred ones keep their original
//   due time (which Go nsqd forgets).
//
// Each shard's parts on that shard's loop; Open, Restore (start-up) and PersistAll (after the
// loops have stopped) on the thread that runs nsqd.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/broker_store.h"
#include "nsqd/storage/sync_policy.h"

namespace nsq::nsqd {

namespace storage {
class GroupCommitWriter;
class Store;
struct GroupCommitStats;
struct Metadata;
struct StoreStats;
struct StoreOptions;
}  // namespace storage

class BrokerPersistence {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // Opens the store in `data_path`. `posts` has one poster per shard: posts[k] runs the
  // completions of shard k's writes on its loop. `store_options` is for tests (fault
  // injection).
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::vector<Post> posts,
      const storage::SyncPolicy& sync_policy, const storage::StoreOptions& store_options);
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::vector<Post> posts,
      const storage::SyncPolicy& sync_policy);
  ~BrokerPersistence();

  // What the context of shard `shard`'s broker points to (BrokerContext::store) before
  // Restore.
  BrokerStore* broker_store(size_t shard) { return broker_stores_[shard].get(); }
  // What shard `shard`'s broker tells about topology changes (Broker::AddListener), after
  // Restore: it saves that shard's topology (storage::TopologyKey), on that shard's loop.
  BrokerListener* listener(size_t shard);

  // Recreates the stored topics, channels and paused flags over their stored queues, each
  // topic in the broker of the shard that owns it (TopicOwner; `brokers[k]` is shard k's, one
  // per poster). A store saved with another number of shards is rewritten for this one. Call
  // before adding other listeners (lookupd learns everything when it connects).
  absl::Status Restore(std::vector<Broker*> brokers);
  // Writes what lives only in memory and the topology, synced. Call once every event loop has
  // stopped: no connection is left, in-flight messages are back in their channels.
  absl::Status PersistAll();

  // Empty while healthy; the last store write error otherwise, until a write succeeds again
  // (/ping answers 500 "NOK - <error>", /stats reports it, as nsqd does for disk errors).
  std::string health_error() const { return health_->error(); }

  // The store's figures for /metrics, cheap enough for the event loop: the writer's counters
  // and write-group histogram, and what RocksDB keeps in memory (no WAL size).
  storage::GroupCommitStats writer_stats() const;
  storage::StoreStats store_stats() const;

 private:
  class ShardListener;

  BrokerPersistence(std::unique_ptr<storage::Store> store,
                    std::unique_ptr<storage::GroupCommitWriter> writer, size_t shards);
  // The topology of shard `shard`'s topics. On its loop (or once the loops have stopped).
  storage::Metadata CurrentMetadata(size_t shard) const;
  void SaveTopology(size_t shard, const char* what);

  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  std::shared_ptr<StoreHealth> health_ = std::make_shared<StoreHealth>();
  std::vector<std::unique_ptr<BrokerStore>> broker_stores_;    // one per shard
  std::vector<std::unique_ptr<ShardListener>> listeners_;      // one per shard
  std::vector<Broker*> brokers_;                               // one per shard, from Restore
};

}  // namespace nsq::nsqd
