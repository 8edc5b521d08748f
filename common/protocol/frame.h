// Server-to-client frames of protocol V2 and a resumable decoder for them (used by clients,
// the bench tool and tests).
//
//   [uint32 size = 4 + len(data)][int32 frame type][data]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nsq::protocol {

enum class FrameType : int32_t { kResponse = 0, kError = 1, kMessage = 2 };

inline constexpr std::string_view kMagicV2 = "  V2";
inline constexpr std::string_view kOk = "OK";
inline constexpr std::string_view kHeartbeat = "_heartbeat_";
inline constexpr std::string_view kCloseWait = "CLOSE_WAIT";

// Appends one frame to `out`.
void AppendFrame(FrameType type, std::string_view data, std::string* out);

struct Frame {
  FrameType type = FrameType::kResponse;
  std::string data;
};

// Decodes frames from a byte stream fed in arbitrary pieces.
//
//   FrameDecoder dec(max_frame_size);
//   dec.Feed(bytes);
//   Frame f;
//   while (dec.Next(&f)) { ... }
//   if (!dec.status().ok()) { /* broken stream */ }
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_size = 64 << 20) : max_frame_size_(max_frame_size) {}

  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  // Pops the next complete frame into *out. False when more bytes are needed or on error.
  bool Next(Frame* out);
  // Not OK once the stream is broken (size out of range, unknown frame type).
  const absl::Status& status() const { return status_; }

 private:
  uint32_t max_frame_size_;
  std::string buffer_;
  size_t offset_ = 0;
  absl::Status status_;
};

}  // namespace nsq::protocol
