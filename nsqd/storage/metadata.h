// Metadata: the topics and channels an nsqd had, with their paused state and the queue ids of
// their backlogs (the equivalent of Go nsqd's nsqd.dat). Ephemeral topics and channels are
// never part of it: the broker leaves them out.
//
// Queue ids, not names, key the stored messages, so a name is only ever data here.
//
//   Metadata m;
//   m.topics.push_back({.name = "orders", .queue_id = store->AllocateQueueId()});
//   NSQ_RETURN_IF_ERROR(store->SaveMetadata(m));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::nsqd::storage {

struct ChannelMetadata {
  std::string name;
  bool paused = false;
  uint64_t queue_id = 0;  // the channel's backlog and deferred messages

  bool operator==(const ChannelMetadata&) const = default;
};

struct TopicMetadata {
  std::string name;
  bool paused = false;
  uint64_t queue_id = 0;  // messages published while the topic has no channel yet
  std::vector<ChannelMetadata> channels;

  bool operator==(const TopicMetadata&) const = default;
};

struct Metadata {
  std::vector<TopicMetadata> topics;

  bool operator==(const Metadata&) const = default;
};

// A versioned binary encoding (the first byte is the format version). Decode rejects a
// truncated or otherwise malformed record with DataLoss instead of guessing.
std::string EncodeMetadata(const Metadata& metadata);
absl::StatusOr<Metadata> DecodeMetadata(std::string_view bytes);

}  // namespace nsq::nsqd::storage
