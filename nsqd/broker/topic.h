// Topic: a named stream of messages. Publishing puts each message into every channel; a topic
// with no channel (or a paused one) keeps its messages until a channel appears / it resumes,
// and the first channel then receives all of them. Owned by the Broker; broker thread only.
//
// A durable topic (not #ephemeral, broker with a store) keeps what it holds beyond
// --mem-queue-size in its store backlog, and moves it to the channels in steps once they can
// take it. A publish that reaches the store completes when the write is committed (synced in
// durable mode), which is when the publisher hears OK.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/guid.h"
#include "common/protocol/message.h"
#include "nsqd/broker/broker_context.h"
#include "nsqd/broker/channel.h"
#include "nsqd/broker/stats.h"

namespace nsq::nsqd {

class Broker;
class StoreWrite;

namespace storage {
class BacklogCursor;
class StoreBatch;
}  // namespace storage

class Topic {
 public:
  Topic(Broker* broker, std::string name, BrokerContext* context);
  ~Topic();
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  const std::string& name() const { return name_; }
  Broker* broker() const { return broker_; }
  bool ephemeral() const { return ephemeral_; }
  bool paused() const { return paused_; }

  // The outcome of a publish: OK once every message is queued (in memory, or committed to
  // the store); Unavailable while exiting; ResourceExhausted when a queue without a store is
  // full (nothing was queued); the store's error when its write failed (channels that took
  // the messages in memory keep them: at-least-once).
  using PublishDone = std::function<void(absl::Status)>;
  // Publishes bodies as new messages (one MPUB = one call, one store write). `defer_ns` > 0
  // defers every message (DPUB). `done` runs at once when nothing had to be written, else on
  // the loop once the store answered.
  void Publish(const std::vector<protocol::Body>& bodies, int64_t defer_ns, PublishDone done);

  // The store queue of a durable topic; 0 without one.
  uint64_t queue_id() const { return queue_id_; }
  // Start-up: takes over a stored queue (backlog and deferred messages stay in the store).
  void UseStoredQueue(uint64_t queue_id);

  Channel* FindChannel(const std::string& name);
  Channel* GetOrCreateChannel(const std::string& name);
  // Closes the channel's consumers and removes it. NotFound if absent.
  absl::Status DeleteChannel(const std::string& name);
  // All channels, sorted by name.
  std::vector<Channel*> Channels() const;

  void Pause();
  void Unpause();
  // Holds messages in the topic (like a pause nobody sees) while nsqd asks lookupd which
  // channels the topic has elsewhere, so those channels do not miss the first messages.
  void HoldForChannelDiscovery() { held_ = true; }
  void ReleaseHold();
  bool held() const { return held_; }
  // Drops the topic's own queue (channels are untouched, as in nsqd).
  void Empty();
  // Closes every channel's consumers (topic delete or shutdown).
  void Close();
  // The topic is deleted: its and its channels' stored messages go too.
  void DropStoredMessages();
  // Clean shutdown: adds the topic's memory queue to `batch`, in front of its unread stored
  // backlog (deferred ones keep their due time). Returns how many messages it wrote.
  absl::StatusOr<size_t> PersistForShutdown(storage::StoreBatch* batch);

  // Messages waiting in the topic itself (memory and store), not yet in any channel.
  int64_t depth() const {
    return static_cast<int64_t>(queue_.size() + store_unread_ + stored_deferred_);
  }
  size_t channel_count() const { return channels_.size(); }
  TopicStats Stats(const std::string& channel_filter, bool include_clients) const;

 private:
  // A message waiting in the topic's memory (no channel yet, paused, or held) with its DPUB
  // delay, which starts when the message reaches the channels.
  struct Pending {
    protocol::Message message;
    int64_t defer_ns;
  };

  // Channels exist and the topic is neither paused nor held.
  bool Running() const { return !paused_ && !held_ && !channels_.empty(); }
  // Nothing waits in the topic: a publish can go straight to the channels.
  bool Idle() const {
    return queue_.empty() && store_unread_ == 0 && stored_deferred_ == 0 && pending_appends_ == 0;
  }
  // Hands what the topic holds to the channels when it runs: the memory queue and stored
  // deferred messages at once, the stored backlog in steps (DrainBacklogStep).
  void Flush();
  void DrainBacklogStep();
  void Distribute(const std::vector<protocol::Message>& messages, int64_t defer_ns,
                  StoreWrite* write);
  // Keeps a publish in the topic (memory or store) until the channels can take it.
  absl::Status Hold(std::vector<protocol::Message> messages, int64_t defer_ns, StoreWrite* write);
  void AppendsCommitted(uint64_t generation, uint64_t backlog_count, uint64_t total, bool ok);

  Broker* broker_;
  std::string name_;
  BrokerContext* context_;
  bool ephemeral_;
  bool paused_ = false;
  bool held_ = false;
  protocol::GuidGenerator guid_;
  std::deque<Pending> queue_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;

  uint64_t queue_id_ = 0;
  std::unique_ptr<storage::BacklogCursor> cursor_;  // null without a store queue
  uint64_t store_unread_ = 0;      // committed backlog messages not moved to channels yet
  uint64_t stored_deferred_ = 0;   // deferred messages in the store (moved all at once)
  uint64_t pending_appends_ = 0;   // submitted to the store, not committed yet
  uint64_t store_generation_ = 0;  // bumped by Empty: older commits no longer count
  bool drain_scheduled_ = false;
  bool store_read_failing_ = false;
  std::unique_ptr<Timer> retry_timer_;  // retries a failed backlog read
  std::shared_ptr<Topic*> alive_ = std::make_shared<Topic*>(this);
  uint64_t message_count_ = 0;
  uint64_t message_bytes_ = 0;
};

}  // namespace nsq::nsqd
