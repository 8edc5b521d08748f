// BrokerPersistence: the broker's state in the RocksDB store across restarts.
//
// - Topology (topics, channels, paused flags) is written as it changes, off the event loop
//   (the store's group-commit writer thread), as nsqd rewrites nsqd.dat.
// - A clean shutdown writes every queued, in-flight and deferred message of every durable
//   topic and channel (in-flight first, so they are redelivered first, attempts kept;
//   deferred ones keep their original due time, which Go nsqd forgets).
// - Start-up recreates all of it before the listeners open.
//
// The stored messages stay in the store until the next clean shutdown replaces them, so a
// crash after a restart redelivers them rather than losing them. Messages published since the
// last start live in memory until the next clean shutdown: overflow to the store and a
// durable mode (an OK means on disk) are the next step.
//
// Loop thread, except Open (start-up) and PersistAll (after the loop has stopped).
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nsqd/broker/broker.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

namespace storage {
class GroupCommitWriter;
class Store;
class StoreBatch;
struct Metadata;
struct StoreOptions;
}  // namespace storage

class BrokerPersistence final : public BrokerListener {
 public:
  // Opens the store in `data_path`. `post` runs write completions on the event loop.
  // `store_options` is for tests (fault injection).
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::function<void(std::function<void()>)> post,
      const storage::StoreOptions& store_options);
  static absl::StatusOr<std::unique_ptr<BrokerPersistence>> Open(
      const std::string& data_path, std::function<void(std::function<void()>)> post);
  ~BrokerPersistence() override;

  // Recreates the stored topics, channels, paused flags and messages in `broker`. Call before
  // adding other listeners (lookupd learns everything when it connects).
  absl::Status Restore(Broker* broker);
  // Writes every durable topic's and channel's messages and the topology, synced. Call once
  // the event loop has stopped: no connection is left, in-flight messages are final.
  absl::Status PersistAll();

  // Empty while healthy; the last store write error otherwise, until a write succeeds again
  // (/ping answers 500 "NOK - <error>", /stats reports it, as nsqd does for disk errors).
  const std::string& health_error() const { return health_error_; }

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
  // Writes the topology (and removes the messages of `deleted_queue`, when not 0).
  void SaveTopology(uint64_t deleted_queue);
  // Submits a topology batch; its outcome sets or clears the health error.
  void SubmitTopology(storage::StoreBatch batch, const char* what);

  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  Broker* broker_ = nullptr;
  absl::flat_hash_map<std::string, uint64_t> topic_queues_;
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> channel_queues_;
  std::string health_error_;
  // Shared with pending write callbacks, which may complete after this object is gone.
  std::shared_ptr<BrokerPersistence*> self_ = std::make_shared<BrokerPersistence*>(this);
};

}  // namespace nsq::nsqd
