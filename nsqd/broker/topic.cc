#include "nsqd/broker/topic.h"

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "nsqd/broker/broker.h"

namespace nsq::nsqd {

Topic::Topic(Broker* broker, std::string name, BrokerContext* context)
    : broker_(broker),
      name_(std::move(name)),
      context_(context),
      ephemeral_(protocol::IsEphemeralName(name_)),
      guid_(context->options->node_id) {}

Topic::~Topic() = default;

absl::Status Topic::Publish(const std::vector<protocol::Body>& bodies, int64_t defer_ns) {
  if (broker_->closing()) return absl::UnavailableError("exiting");
  const size_t count = bodies.size();
  const size_t mem_limit = static_cast<size_t>(context_->options->mem_queue_size);
  const bool direct = !paused_ && !held_ && !channels_.empty() && queue_.empty();

  // All or nothing: check every queue before touching any. Until the store lands, memory is
  // the only place a message can wait, so a full queue refuses the publish rather than
  // dropping anything that was acknowledged.
  if (!direct) {
    if (!ephemeral_ && queue_.size() + count > mem_limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat("topic ", name_, " memory queue is full (--mem-queue-size=", mem_limit, ")"));
    }
  } else if (defer_ns == 0) {
    for (const auto& [channel_name, channel] : channels_) {
      if (!channel->HasRoomFor(count)) {
        return absl::ResourceExhaustedError(absl::StrCat("channel ", name_, ":", channel_name,
                                                         " memory queue is full (--mem-queue-size=",
                                                         mem_limit, ")"));
      }
    }
  }

  const int64_t now = context_->clock->NowNs();
  for (const protocol::Body& body : bodies) {
    protocol::Message message;
    message.id = guid_.Next(now);
    message.timestamp_ns = now;
    message.body = body;
    ++message_count_;
    message_bytes_ += body.size();
    if (direct) {
      Distribute(message, defer_ns);
    } else if (ephemeral_ && queue_.size() >= mem_limit) {
      continue;  // ephemeral overflow is dropped, as in nsqd
    } else {
      queue_.push_back(Pending{std::move(message), defer_ns});
    }
  }
  return absl::OkStatus();
}

void Topic::Distribute(const protocol::Message& message, int64_t defer_ns) {
  for (auto& [channel_name, channel] : channels_) channel->PutFromTopic(message, defer_ns);
}

void Topic::Flush() {
  if (paused_ || held_ || channels_.empty()) return;
  while (!queue_.empty()) {
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    Distribute(pending.message, pending.defer_ns);
  }
}

Channel* Topic::FindChannel(const std::string& name) {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

Channel* Topic::GetOrCreateChannel(const std::string& name) {
  if (Channel* existing = FindChannel(name)) return existing;
  auto [it, inserted] =
      channels_.emplace(name, std::make_unique<Channel>(this, name, context_));
  NSQ_LOG_INFO("TOPIC(%s): new channel(%s)", name_, name);
  broker_->Notify([&](BrokerListener& listener) { listener.ChannelCreated(name_, name); });
  // The first channel receives everything the topic kept while it had none.
  Flush();
  return it->second.get();
}

absl::Status Topic::DeleteChannel(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return absl::NotFoundError("CHANNEL_NOT_FOUND");
  it->second->Close();
  channels_.erase(it);
  NSQ_LOG_INFO("TOPIC(%s): deleting channel %s", name_, name);
  broker_->Notify([&](BrokerListener& listener) { listener.ChannelDeleted(name_, name); });
  return absl::OkStatus();
}

std::vector<Channel*> Topic::Channels() const {
  std::vector<Channel*> out;
  out.reserve(channels_.size());
  for (const auto& [name, channel] : channels_) out.push_back(channel.get());
  return out;
}

void Topic::Pause() {
  paused_ = true;
  broker_->Notify([&](BrokerListener& listener) { listener.PauseChanged(name_, ""); });
}

void Topic::Unpause() {
  paused_ = false;
  broker_->Notify([&](BrokerListener& listener) { listener.PauseChanged(name_, ""); });
  Flush();
}

void Topic::ReleaseHold() {
  held_ = false;
  Flush();
}

void Topic::Empty() { queue_.clear(); }

void Topic::Restore(std::vector<Pending> messages) {
  for (auto& pending : messages) queue_.push_back(std::move(pending));
  Flush();
}

void Topic::Close() {
  for (auto& [name, channel] : channels_) channel->Close();
}

TopicStats Topic::Stats(const std::string& channel_filter, bool include_clients) const {
  TopicStats stats;
  stats.topic_name = name_;
  stats.depth = depth();
  stats.backend_depth = 0;
  stats.message_count = message_count_;
  stats.message_bytes = message_bytes_;
  stats.paused = paused_;
  for (const auto& [name, channel] : channels_) {
    if (!channel_filter.empty() && name != channel_filter) continue;
    stats.channels.push_back(channel->Stats(include_clients));
  }
  return stats;
}

}  // namespace nsq::nsqd
