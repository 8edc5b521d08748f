// Channel: one named subscription of a topic. Every message of the topic gets a copy in each
// channel (sharing the body); within a channel each message goes to one consumer.
//
// Holds the ready queue (memory, bounded by --mem-queue-size for new messages), the in-flight
// queue with per-message deadlines, the deferred queue, and the subscribed consumers. Owned by
// its Topic; lives on the broker thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/protocol/message.h"
#include "nsqd/broker/broker_context.h"
#include "nsqd/broker/deferred_queue.h"
#include "nsqd/broker/in_flight_queue.h"
#include "nsqd/broker/stats.h"

namespace nsq::nsqd {

class Consumer;
class Topic;

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

  // Room for `count` more new messages in memory (ephemeral channels always say yes: they
  // drop what does not fit, as nsqd does).
  bool HasRoomFor(size_t count) const;
  // A new message from the topic. `defer_ns` > 0 puts it in the deferred queue.
  void PutFromTopic(const protocol::Message& message, int64_t defer_ns);

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

  // Moves due deferred messages to the ready queue and expired in-flight messages back too.
  void ProcessTimers();

  // What a clean shutdown keeps and a start-up gives back: in-flight messages (oldest
  // delivery first, to be redelivered with their attempts) followed by the ready queue, and
  // the deferred messages with their original due times.
  struct Snapshot {
    std::vector<protocol::Message> ready;
    std::vector<std::pair<int64_t, protocol::Message>> deferred;  // (due ns, message)
  };
  Snapshot TakeSnapshot() const;
  // Appends a snapshot's messages (start-up: nothing is refused, memory bounds do not apply).
  void Restore(Snapshot snapshot);

  int64_t depth() const { return static_cast<int64_t>(ready_.size()); }
  size_t in_flight_count() const { return in_flight_.size(); }
  size_t deferred_count() const { return deferred_.size(); }
  size_t consumer_count() const { return consumers_.size(); }
  ChannelStats Stats(bool include_clients) const;

 private:
  void Pump();
  Consumer* NextReadyConsumer();
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

  std::unique_ptr<Timer> timer_;
  int64_t armed_deadline_ns_ = 0;  // 0: not armed
  uint64_t sample_state_;

  uint64_t message_count_ = 0;
  uint64_t requeue_count_ = 0;
  uint64_t timeout_count_ = 0;
  uint64_t dropped_count_ = 0;  // ephemeral overflow
};

}  // namespace nsq::nsqd
