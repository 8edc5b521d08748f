// Topic: a named stream of messages. Publishing puts each message into every channel; a topic
// with no channel (or a paused one) keeps its messages until a channel appears / it resumes,
// and the first channel then receives all of them. Owned by the Broker; broker thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/protocol/guid.h"
#include "common/protocol/message.h"
#include "nsqd/broker/broker_context.h"
#include "nsqd/broker/channel.h"
#include "nsqd/broker/stats.h"

namespace nsq::nsqd {

class Broker;

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

  // Publishes bodies as new messages (one MPUB = one call). All or nothing: when any
  // non-ephemeral queue would exceed --mem-queue-size nothing is queued and the error says so.
  // `defer_ns` > 0 defers every message (DPUB).
  absl::Status Publish(const std::vector<protocol::Body>& bodies, int64_t defer_ns = 0);

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

  // A message waiting in the topic (no channel yet, paused, or held) with its DPUB delay,
  // which starts when the message reaches the channels.
  struct Pending {
    protocol::Message message;
    int64_t defer_ns;
  };
  // Shutdown persistence and start-up restore of the topic's own queue.
  const std::deque<Pending>& queued() const { return queue_; }
  void Restore(std::vector<Pending> messages);

  int64_t depth() const { return static_cast<int64_t>(queue_.size()); }
  size_t channel_count() const { return channels_.size(); }
  TopicStats Stats(const std::string& channel_filter, bool include_clients) const;

 private:
  // Hands queued messages to the channels when there are channels and the topic runs.
  void Flush();
  void Distribute(const protocol::Message& message, int64_t defer_ns);

  Broker* broker_;
  std::string name_;
  BrokerContext* context_;
  bool ephemeral_;
  bool paused_ = false;
  bool held_ = false;
  protocol::GuidGenerator guid_;
  std::deque<Pending> queue_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  uint64_t message_count_ = 0;
  uint64_t message_bytes_ = 0;
};

}  // namespace nsq::nsqd
