#include "nsqd/storage/metadata.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "common/protocol/big_endian.h"

namespace nsq::nsqd::storage {
namespace {

// Layout v1 (big-endian):
//   u8 version | u32 topic_count | topic*
//   topic   = u16 name_len | name | u8 paused | u64 queue_id | u32 channel_count | channel*
//   channel = u16 name_len | name | u8 paused | u64 queue_id
constexpr uint8_t kFormatVersion = 1;

void PutU16(std::string* out, uint16_t v) {
  char b[2];
  protocol::StoreBigEndian16(b, v);
  out->append(b, 2);
}
void PutU32(std::string* out, uint32_t v) {
  char b[4];
  protocol::StoreBigEndian32(b, v);
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  protocol::StoreBigEndian64(b, v);
  out->append(b, 8);
}
void PutEntry(std::string* out, std::string_view name, bool paused, uint64_t queue_id) {
  PutU16(out, static_cast<uint16_t>(name.size()));  // names are at most 64 bytes
  out->append(name);
  out->push_back(paused ? 1 : 0);
  PutU64(out, queue_id);
}

// Reads fields front to back; any read past the end marks the reader failed.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

  uint64_t Uint(size_t width) {
    if (!Need(width)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = v << 8 | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(width);
    return v;
  }
  std::string String(size_t size) {
    if (!Need(size)) return {};
    std::string s(in_.substr(0, size));
    in_.remove_prefix(size);
    return s;
  }
  void Entry(std::string* name, bool* paused, uint64_t* queue_id) {
    *name = String(Uint(2));
    *paused = Uint(1) != 0;
    *queue_id = Uint(8);
  }

 private:
  bool Need(size_t n) {
    if (in_.size() < n) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeMetadata(const Metadata& metadata) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  PutU32(&out, static_cast<uint32_t>(metadata.topics.size()));
  for (const TopicMetadata& topic : metadata.topics) {
    PutEntry(&out, topic.name, topic.paused, topic.queue_id);
    PutU32(&out, static_cast<uint32_t>(topic.channels.size()));
    for (const ChannelMetadata& channel : topic.channels) {
      PutEntry(&out, channel.name, channel.paused, channel.queue_id);
    }
  }
  return out;
}

absl::StatusOr<Metadata> DecodeMetadata(std::string_view bytes) {
  Reader reader(bytes);
  const uint64_t version = reader.Uint(1);
  if (reader.ok() && version != kFormatVersion) {
    return absl::DataLossError(
        absl::StrFormat("stored metadata has format version %d; this nsqd reads version %d",
                        version, kFormatVersion));
  }
  Metadata metadata;
  // Counts come from disk: grow the vectors as entries parse instead of reserving blindly.
  const uint64_t topic_count = reader.Uint(4);
  for (uint64_t t = 0; reader.ok() && t < topic_count; ++t) {
    TopicMetadata topic;
    reader.Entry(&topic.name, &topic.paused, &topic.queue_id);
    const uint64_t channel_count = reader.Uint(4);
    for (uint64_t c = 0; reader.ok() && c < channel_count; ++c) {
      ChannelMetadata channel;
      reader.Entry(&channel.name, &channel.paused, &channel.queue_id);
      topic.channels.push_back(std::move(channel));
    }
    metadata.topics.push_back(std::move(topic));
  }
  if (!reader.ok() || !reader.done()) {
    return absl::DataLossError("stored metadata is truncated or malformed");
  }
  return metadata;
}

}  // namespace nsq::nsqd::storage
