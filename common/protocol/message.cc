#include "common/protocol/message.h"

#include <cstring>

#include "absl/status/status.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/frame.h"

namespace nsq::protocol {
namespace {

// Writes header + body at `p`, which has room for kMessageHeaderLength + body size bytes.
void WriteMessage(const Message& message, char* p) {
  StoreBigEndian64(p, static_cast<uint64_t>(message.timestamp_ns));
  StoreBigEndian16(p + 8, message.attempts);
  std::memcpy(p + 10, message.id.bytes.data(), kMessageIdLength);
  const std::string_view body = message.body.view();
  if (!body.empty()) std::memcpy(p + kMessageHeaderLength, body.data(), body.size());
}

}  // namespace

bool MessageId::FromBytes(std::string_view in, MessageId* out) {
  if (in.size() != kMessageIdLength) return false;
  std::memcpy(out->bytes.data(), in.data(), kMessageIdLength);
  return true;
}

MessageId MessageId::FromUint64(uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  MessageId id;
  for (int i = static_cast<int>(kMessageIdLength) - 1; i >= 0; --i, value >>= 4) {
    id.bytes[i] = kHex[value & 0xF];
  }
  return id;
}

void EncodeMessage(const Message& message, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + kMessageHeaderLength + message.body.size());
  WriteMessage(message, out->data() + old_size);
}

void AppendMessageFrame(const Message& message, std::string* out) {
  // The broker's hot path: one resize of the output buffer, then the fields written in place.
  const size_t data_size = kMessageHeaderLength + message.body.size();
  const size_t old_size = out->size();
  out->resize(old_size + 8 + data_size);
  char* p = out->data() + old_size;
  StoreBigEndian32(p, static_cast<uint32_t>(4 + data_size));
  StoreBigEndian32(p + 4, static_cast<uint32_t>(FrameType::kMessage));
  WriteMessage(message, p + 8);
}

absl::StatusOr<Message> DecodeMessage(std::string_view data) {
  // Like nsqd's decodeMessage, only the header is required; an empty body decodes.
  if (data.size() < kMessageHeaderLength) {
    return absl::InvalidArgumentError("not enough data to decode valid message");
  }
  Message message;
  message.timestamp_ns = static_cast<int64_t>(LoadBigEndian64(data.data()));
  message.attempts = LoadBigEndian16(data.data() + 8);
  std::memcpy(message.id.bytes.data(), data.data() + 10, kMessageIdLength);
  message.body = Body::Copy(data.substr(kMessageHeaderLength));
  return message;
}

}  // namespace nsq::protocol
