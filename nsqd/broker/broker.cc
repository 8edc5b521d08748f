#include "nsqd/broker/broker.h"

#include "common/log/logger.h"

namespace nsq::nsqd {

Broker::Broker(BrokerContext context) : context_(std::move(context)) {}

Broker::~Broker() = default;

Topic* Broker::FindTopic(const std::string& name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

Topic* Broker::GetOrCreateTopic(const std::string& name) {
  if (Topic* existing = FindTopic(name)) return existing;
  auto [it, inserted] = topics_.emplace(name, std::make_unique<Topic>(this, name, &context_));
  NSQ_LOG_INFO("TOPIC(%s): created", name);
  Notify([&](BrokerListener& listener) { listener.TopicCreated(name); });
  return it->second.get();
}

absl::Status Broker::DeleteTopic(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return absl::NotFoundError("TOPIC_NOT_FOUND");
  std::unique_ptr<Topic> topic = std::move(it->second);
  topic->Close();
  topics_.erase(it);
  NSQ_LOG_INFO("TOPIC(%s): deleting", name);
  Notify([&](BrokerListener& listener) { listener.TopicDeleted(name); });
  // After the topology no longer lists it (see Topic::DeleteChannel).
  topic->DropStoredMessages();
  return absl::OkStatus();
}

std::vector<Topic*> Broker::Topics() const {
  std::vector<Topic*> out;
  out.reserve(topics_.size());
  for (const auto& [name, topic] : topics_) out.push_back(topic.get());
  return out;
}

void Broker::DeleteEphemeralChannelIfUnused(const std::string& topic_name,
                                            const std::string& channel_name) {
  Topic* topic = FindTopic(topic_name);
  if (topic == nullptr) return;
  Channel* channel = topic->FindChannel(channel_name);
  if (channel != nullptr && channel->ephemeral() && channel->consumer_count() == 0) {
    (void)topic->DeleteChannel(channel_name);
  }
  if (topic->ephemeral() && topic->channel_count() == 0) (void)DeleteTopic(topic_name);
}

void Broker::RegisterClient(ClientConnection* client) { clients_.insert(client); }

void Broker::UnregisterClient(ClientConnection* client) {
  clients_.erase(client);
  if (closing_ && clients_.empty() && on_drained_) {
    auto drained = std::move(on_drained_);
    on_drained_ = nullptr;
    drained();
  }
}

BrokerStats Broker::Stats(const std::string& topic_filter, const std::string& channel_filter,
                          bool include_clients) const {
  BrokerStats stats;
  if (!topic_filter.empty()) {
    auto it = topics_.find(topic_filter);
    if (it == topics_.end()) {
      stats.topic_found = false;
    } else {
      TopicStats topic = it->second->Stats(channel_filter, include_clients);
      if (channel_filter.empty() || !topic.channels.empty()) stats.topics.push_back(topic);
    }
  } else {
    for (const auto& [name, topic] : topics_) {
      TopicStats t = topic->Stats(channel_filter, include_clients);
      if (!channel_filter.empty() && t.channels.empty()) continue;
      stats.topics.push_back(std::move(t));
    }
  }
  if (include_clients) {
    for (const ClientConnection* client : clients_) {
      if (client->IsProducer()) stats.producers.push_back(client->Stats());
    }
  }
  if (!topic_filter.empty()) {
    // As nsqd: with a topic filter, each client's publish counts are those to that topic.
    auto keep_topic = [&topic_filter](ClientStats& client) {
      std::erase_if(client.pub_counts,
                    [&topic_filter](const PubCount& pub) { return pub.topic != topic_filter; });
    };
    for (TopicStats& topic : stats.topics) {
      for (ChannelStats& channel : topic.channels) {
        for (ClientStats& client : channel.clients) keep_topic(client);
      }
    }
    for (ClientStats& producer : stats.producers) keep_topic(producer);
  }
  return stats;
}

void Broker::Close(std::function<void()> on_drained) {
  closing_ = true;
  on_drained_ = std::move(on_drained);
  for (auto& [name, topic] : topics_) topic->Close();
  std::vector<ClientConnection*> clients(clients_.begin(), clients_.end());
  for (ClientConnection* client : clients) client->CloseConnection();
  if (clients_.empty() && on_drained_) {
    auto drained = std::move(on_drained_);
    on_drained_ = nullptr;
    drained();
  }
}

void Broker::ForceCloseClients() {
  std::vector<ClientConnection*> clients(clients_.begin(), clients_.end());
  for (ClientConnection* client : clients) client->CloseConnectionNow();
}

}  // namespace nsq::nsqd
