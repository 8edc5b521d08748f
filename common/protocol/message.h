// A message as nsqd sends it in a type-2 frame and stores it.
//
// Wire and storage layout (all big-endian):
//   [8 timestamp ns][2 attempts][16 id (ASCII hex)][body...]
// The minimum encoded size is 26 bytes plus a body of at least one byte.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/protocol/body.h"

namespace nsq::protocol {

inline constexpr size_t kMessageIdLength = 16;
inline constexpr size_t kMessageHeaderLength = 8 + 2 + kMessageIdLength;  // 26

// 16 ASCII bytes: the lower-case hex of a 64-bit id. Clients echo them in FIN/REQ/TOUCH.
struct MessageId {
  std::array<char, kMessageIdLength> bytes{};

  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  // Builds an id from 16 bytes exactly; returns false otherwise.
  static bool FromBytes(std::string_view in, MessageId* out);
  // Hex-encodes a 64-bit value (as nsqd's guid does).
  static MessageId FromUint64(uint64_t value);

  auto operator<=>(const MessageId&) const = default;
  // Two 8-byte compares (the defaulted one calls memcmp: it was most of the cost of finding an
  // id in flight, once per FIN).
  bool operator==(const MessageId& other) const {
    uint64_t a[2];
    uint64_t b[2];
    std::memcpy(a, bytes.data(), sizeof(a));
    std::memcpy(b, other.bytes.data(), sizeof(b));
    return a[0] == b[0] && a[1] == b[1];
  }
  // Hashes the two halves as integers.
  template <typename H>
  friend H AbslHashValue(H h, const MessageId& id) {
    uint64_t halves[2];
    std::memcpy(halves, id.bytes.data(), sizeof(halves));
    return H::combine(std::move(h), halves[0], halves[1]);
  }
};

struct Message {
  MessageId id;
  int64_t timestamp_ns = 0;  // publish time, kept across requeues
  uint16_t attempts = 0;     // incremented right before every delivery (wraps at 65535)
  Body body;
};

// Appends the encoded message (header + body) to `out`.
void EncodeMessage(const Message& message, std::string* out);

// Appends a complete type-2 frame ([size][type=2][message]) to `out`.
void AppendMessageFrame(const Message& message, std::string* out);

// Decodes the data of a type-2 frame (or a stored record). Copies the body.
absl::StatusOr<Message> DecodeMessage(std::string_view data);

}  // namespace nsq::protocol
