// Broker: the topics of one shard (all of them with --worker-threads=1). The TCP and HTTP layers
// reach topics and channels only through a BrokerSet of these (broker_set.h).
// Single-threaded: every call happens on its shard's event-loop thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "nsqd/broker/broker_context.h"
#include "nsqd/broker/stats.h"
#include "nsqd/broker/topic.h"

namespace nsq::nsqd {

// A connection known to the broker, for /stats "producers" and shutdown.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  virtual ClientStats Stats() const = 0;
  // True once the connection has published at least once.
  virtual bool IsProducer() const = 0;
  // Close the connection after its pending output is written (shutdown).
  virtual void CloseConnection() = 0;
  // Close the connection now, dropping pending output (shutdown deadline passed).
  virtual void CloseConnectionNow() = 0;
};

// Told about topics and channels coming and going (lookupd registration, metadata).
// Called on the broker thread, after the change.
class BrokerListener {
 public:
  virtual ~BrokerListener() = default;
  virtual void TopicCreated(const std::string& topic) = 0;
  virtual void TopicDeleted(const std::string& topic) = 0;
  virtual void ChannelCreated(const std::string& topic, const std::string& channel) = 0;
  virtual void ChannelDeleted(const std::string& topic, const std::string& channel) = 0;
  // A topic (empty `channel`) or channel was paused or unpaused.
  virtual void PauseChanged(const std::string& topic, const std::string& channel) {}
};

struct BrokerStats {
  // Sorted by name. `topic_found` is false when a topic filter matched nothing.
  std::vector<TopicStats> topics;
  bool topic_found = true;
  std::vector<ClientStats> producers;
};

class Broker {
 public:
  explicit Broker(BrokerContext context);
  ~Broker();

  const NsqdOptions& options() const { return *context_.options; }
  BrokerContext* context() { return &context_; }

  Topic* FindTopic(const std::string& name);
  Topic* GetOrCreateTopic(const std::string& name);
  // Closes all of the topic's channels and removes it. NotFound if absent.
  absl::Status DeleteTopic(const std::string& name);
  std::vector<Topic*> Topics() const;
  // Deletes an ephemeral channel whose last consumer left (unless one came back meanwhile),
  // and then its topic if that is ephemeral and has no channel left.
  void DeleteEphemeralChannelIfUnused(const std::string& topic, const std::string& channel);

  // Listeners hear events in the order they were added; they must outlive the broker's use.
  void AddListener(BrokerListener* listener) { listeners_.push_back(listener); }
  template <typename Event>
  void Notify(Event&& event) {
    for (BrokerListener* listener : listeners_) event(*listener);
  }

  void RegisterClient(ClientConnection* client);
  void UnregisterClient(ClientConnection* client);
  size_t client_count() const { return clients_.size(); }

  // /stats: optional topic and channel filters (empty = all).
  BrokerStats Stats(const std::string& topic_filter, const std::string& channel_filter,
                    bool include_clients) const;

  // Shutdown: asks every client connection to close and closes every topic. `on_drained`
  // runs once the last connection has gone (at once if there is none).
  void Close(std::function<void()> on_drained);
  // Shutdown deadline: closes the remaining connections without flushing.
  void ForceCloseClients();
  bool closing() const { return closing_; }

 private:
  BrokerContext context_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  absl::flat_hash_set<ClientConnection*> clients_;
  bool closing_ = false;
  std::function<void()> on_drained_;
  std::vector<BrokerListener*> listeners_;
};

}  // namespace nsq::nsqd
