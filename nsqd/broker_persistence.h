// BrokerPersistence: the broker's store (nsqd/storage) from start-up to shutdown.
//
// - Opens the RocksDB store under --data-path and its group-commit writer thread (with the
//   --sync-every / --sync-timeout policy), and hands the broker its BrokerStore: durable topics
//   and channels then keep their overflow (everything with --mem-queue-size=0) in it.
// - Topology (topics, channels, their queue ids, paused flags) is written as it changes, off
//   the event loop, as nsqd rewrites nsqd.dat.
// - Start-up recreates the topology before the listeners open; backlogs stay in the store and
//   are read as consumers need them (only deferred messages are loaded).
// - A clean shutdown adds what lives only in memory: queued and in-flight messages go in front
//   of each stored backlog (in-flight first, attempts kept), deferred ones keep their original
//   due time (which Go nsqd forgets).
//
// Loop thread, except Open (start-up) and PersistAll (after the loop has stopped).
#pragma once

#include <functional>
#include <memory>
#include <string>

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

class BrokerPersistence final : public BrokerListener {
 public:
  // Opens the store in `data_path`. `post` runs write completions on the event loop.
  // `store_options` is for tests (fault injection).
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::function<void(std::function<void()>)> post,
      const storage::SyncPolicy& sync_policy, const storage::StoreOptions& store_options);
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::function<void(std::function<void()>)> post,
      const storage::SyncPolicy& sync_policy);
  ~BrokerPersistence() override;

  // What the broker's context points to (BrokerContext::store) before Restore.
  BrokerStore* broker_store() { return broker_store_.get(); }

  // Recreates the stored topics, channels and paused flags in `broker` over their stored
  // queues. Call before adding other listeners (lookupd learns everything when it connects).
  absl::Status Restore(Broker* broker);
  // Writes what lives only in memory and the topology, synced. Call once the event loop has
  // stopped: no connection is left, in-flight messages are back in their channels.
  absl::Status PersistAll();

  // Empty while healthy; the last store write error otherwise, until a write succeeds again
  // (/ping answers 500 "NOK - <error>", /stats reports it, as nsqd does for disk errors).
  const std::string& health_error() const { return broker_store_->health_error(); }

  // The store's figures for /metrics, cheap enough for the event loop: the writer's counters
  // and write-group histogram, and what RocksDB keeps in memory (no WAL size).
  storage::GroupCommitStats writer_stats() const;
  storage::StoreStats store_stats() const;

  // BrokerListener: each change rewrites the topology.
  void TopicCreated(const std::string& topic) override;
  void TopicDeleted(const std::string& topic) override;
  void ChannelCreated(const std::string& topic, const std::string& channel) override;
  void ChannelDeleted(const std::string& topic, const std::string& channel) override;
  void PauseChanged(const std::string& topic, const std::string& channel) override;

 private:
  BrokerPersistence(std::unique_ptr<storage::Store> store,
                    std::unique_ptr<storage::GroupCommitWriter> writer);
  storage::Metadata CurrentMetadata() const;
  void SaveTopology(const char* what);

  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  std::unique_ptr<BrokerStore> broker_store_;
  Broker* broker_ = nullptr;
};

}  // namespace nsq::nsqd
