// Channel: one named subscription of a topic. Every message of the topic gets a copy in each
// channel (sharing the body); within a channel each message goes to one consumer.
//
// Holds the ready queue (memory, bounded by --mem-queue-size for new messages), the in-flight
// queue with per-message deadlines, the deferred queue, and the subscribed consumers. Owned by
// its Topic; lives on the broker thread.
//
// A durable channel (not #ephemeral, broker with a store) has a backlog in the store: a new
// message goes there when memory is full or anything older is still in the store (so order is
// kept), and always with --mem-queue-size=0. Consumers get store messages through a read-ahead
// window in the ready queue. A message read from the store stays there until it is finished
// (FIN, or sampled out), so a crash redelivers it; a delayed requeue moves it to the store's
// deferred set. `store_refs_` remembers where each such message lives.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/message.h"
#include "nsqd/broker/broker_context.h"
#include "nsqd/broker/consumer.h"
#include "nsqd/storage/keys.h"
#include "nsqd/broker/deferred_queue.h"
#include "nsqd/broker/in_flight_queue.h"
#include "nsqd/broker/latency_window.h"
#include "nsqd/broker/stats.h"

namespace nsq::nsqd {

class StoreWrite;
class Topic;

namespace storage {
class BacklogCursor;
class StoreBatch;
}  // namespace storage

// The count and the configured percentiles (ns) of `histogram`, for /stats.
LatencySummary SummarizeLatency(const LatencyHistogram& histogram,
                                const std::vector<double>& quantiles);

class Channel {
 public:
  Channel(Topic* topic, std::string name, BrokerContext* context);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& name() const { return name_; }
  Topic* topic() const { return topic_; }
  bool ephemeral() const { return ephemeral_; }
  bool paused() const { return paused_; }

  // The store queue of a durable channel; 0 when it has none (ephemeral, no store).
  uint64_t queue_id() const { return queue_id_; }
  // Start-up: takes over a stored queue (its backlog stays in the store; its deferred
  // messages are loaded). Call right after creation.
  absl::Status UseStoredQueue(uint64_t queue_id);

  // Room for `count` more new messages: always for channels with a store (they overflow to it)
  // and ephemeral ones (they drop what does not fit, as nsqd does).
  bool HasRoomFor(size_t count) const;
  // New messages from the topic (one publish). `defer_ns` > 0 defers them. What goes to the
  // store is added to `write`, which the caller submits.
  void PutFromTopic(const std::vector<protocol::Message>& messages, int64_t defer_ns,
                    StoreWrite* write);

  // Subscriptions. AddConsumer fails with the text of E_SUB_FAILED when over
  // --max-channel-consumers or when the channel is closing.
  absl::Status AddConsumer(Consumer* consumer);
  // Requeues the consumer's in-flight messages at once (a vanished consumer does not make
  // its messages wait for the timeout). An ephemeral channel left without consumers deletes
  // itself (later, on the broker thread).
  void RemoveConsumer(Consumer* consumer);
  // The consumer can take more messages now (RDY raised, a slot freed).
  void ConsumerReady();

  // FIN/REQ/TOUCH from `consumer`. Errors carry the reason text nsqd uses
  // ("ID not in flight", "client does not own message").
  absl::Status Finish(Consumer* consumer, const protocol::MessageId& id);
  absl::Status Requeue(Consumer* consumer, const protocol::MessageId& id, int64_t delay_ns);
  absl::Status Touch(Consumer* consumer, const protocol::MessageId& id);

  void Pause();
  void Unpause();
  // Drops ready, in-flight and deferred messages; consumers' in-flight counts reset.
  void Empty();
  // Closes every consumer connection; the channel stops taking messages.
  void Close();
  // The channel is deleted: its stored messages go too (after the topology says so).
  void DropStoredMessages();

  // Moves due deferred messages to the ready queue and expired in-flight messages back too.
  void ProcessTimers();

  // Clean shutdown (no consumer left): adds to `batch` what the channel holds in memory:
  // in-flight (oldest delivery first, redelivered with their attempts) and ready messages go
  // in front of the unread stored backlog, deferred ones keep their due time. Returns how
  // many messages it wrote.
  absl::StatusOr<size_t> PersistForShutdown(storage::StoreBatch* batch);

  // Messages waiting for a consumer: in memory plus in the store.
  int64_t depth() const { return static_cast<int64_t>(ready_.size() + store_unread_); }
  int64_t backend_depth() const { return static_cast<int64_t>(store_unread_); }
  size_t in_flight_count() const { return in_flight_.size(); }
  size_t deferred_count() const { return deferred_.size(); }
  size_t consumer_count() const { return consumers_.size(); }
  ChannelStats Stats(bool include_clients) const;
  // The e2e processing latencies of the window (empty without --e2e-processing-latency-*).
  LatencyHistogram E2eLatency() const;

 private:
  // Where a message read from the store lives there: a backlog sequence or a deferred key.
  using StoreRef = std::variant<uint64_t, storage::DeferredKey>;

  void Pump();
  // Reads the next store messages into the ready queue, up to the read-ahead window.
  void FillFromStore();
  // A batch of appends for this channel was committed (or failed).
  void AppendsCommitted(uint64_t generation, uint64_t count, bool ok);
  // The message is done in this channel: its store copy can go.
  void ReleaseStoreRef(const protocol::MessageId& id, StoreWrite* write);
  void ReleaseStoreRefNow(const protocol::MessageId& id);
  Consumer* NextReadyConsumer();
  // The next ready consumer of `wanted` locality (any when nullopt), round-robin.
  Consumer* NextReadyConsumer(std::optional<Locality> wanted);
  int64_t NextSample();
  void ArmTimer();

  Topic* topic_;
  std::string name_;
  BrokerContext* context_;
  bool ephemeral_;
  bool paused_ = false;
  bool closing_ = false;
  bool pumping_ = false;

  std::deque<protocol::Message> ready_;
  InFlightQueue in_flight_;
  DeferredQueue deferred_;
  std::vector<Consumer*> consumers_;
  size_t next_consumer_ = 0;

  uint64_t queue_id_ = 0;
  std::unique_ptr<storage::BacklogCursor> cursor_;  // null without a store queue
  uint64_t store_unread_ = 0;      // committed to the store, not read into memory yet
  uint64_t pending_appends_ = 0;   // submitted to the store, not committed yet
  uint64_t store_generation_ = 0;  // bumped by Empty: older commits no longer count
  bool store_read_failing_ = false;
  int64_t store_retry_ns_ = 0;  // after a failed read: when the timer retries (0: none due)
  absl::flat_hash_map<protocol::MessageId, StoreRef> store_refs_;
  // Pending store callbacks hold this; the destructor clears it.
  std::shared_ptr<Channel*> alive_ = std::make_shared<Channel*>(this);

  std::unique_ptr<Timer> timer_;
  int64_t armed_deadline_ns_ = 0;  // 0: not armed
  uint64_t sample_state_;

  uint64_t message_count_ = 0;
  uint64_t requeue_count_ = 0;  // REQ, and in-flight messages of a consumer that went away
  uint64_t disconnect_requeue_count_ = 0;  // the latter alone
  uint64_t timeout_count_ = 0;
  // Publish-to-FIN latencies, with --e2e-processing-latency-percentile (Stats advances it).
  mutable std::optional<LatencyWindow> e2e_;
  // Deliveries (redeliveries too) by the consumer's locality (nsqd's HEAD counters).
  uint64_t zone_local_msg_count_ = 0;
  uint64_t region_local_msg_count_ = 0;
  uint64_t global_msg_count_ = 0;
  uint64_t dropped_count_ = 0;  // ephemeral overflow
};

}  // namespace nsq::nsqd
