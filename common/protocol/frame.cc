#include "common/protocol/frame.h"

#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"

namespace nsq::protocol {
namespace {

constexpr size_t kSizeFieldLength = 4;
constexpr size_t kTypeFieldLength = 4;

bool IsKnownFrameType(int32_t type) {
  return type == static_cast<int32_t>(FrameType::kResponse) ||
         type == static_cast<int32_t>(FrameType::kError) ||
         type == static_cast<int32_t>(FrameType::kMessage);
}

}  // namespace

void AppendFrame(FrameType type, std::string_view data, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + kSizeFieldLength + kTypeFieldLength + data.size());
  char* p = out->data() + old_size;
  StoreBigEndian32(p, static_cast<uint32_t>(kTypeFieldLength + data.size()));
  StoreBigEndian32(p + kSizeFieldLength, static_cast<uint32_t>(type));
  data.copy(p + kSizeFieldLength + kTypeFieldLength, data.size());
}

bool FrameDecoder::Next(Frame* out) {
  if (!status_.ok()) return false;
  const std::string_view pending = std::string_view(buffer_).substr(offset_);
  if (pending.size() < kSizeFieldLength) return false;

  const uint32_t size = LoadBigEndian32(pending.data());
  if (size < kTypeFieldLength || size > max_frame_size_) {
    status_ = absl::DataLossError(absl::StrCat("frame size ", size, " out of range ",
                                               kTypeFieldLength, "-", max_frame_size_));
    return false;
  }
  // The type is checked as soon as it arrives, so a garbage stream fails without waiting for
  // the bytes its garbage size promises.
  if (pending.size() < kSizeFieldLength + kTypeFieldLength) return false;
  const int32_t type = static_cast<int32_t>(LoadBigEndian32(pending.data() + kSizeFieldLength));
  if (!IsKnownFrameType(type)) {
    status_ = absl::DataLossError(absl::StrCat("unknown frame type ", type));
    return false;
  }
  if (pending.size() < kSizeFieldLength + size) return false;

  out->type = static_cast<FrameType>(type);
  out->data.assign(pending.substr(kSizeFieldLength + kTypeFieldLength, size - kTypeFieldLength));
  offset_ += kSizeFieldLength + size;

  // Drop consumed bytes once they dominate the buffer, so Feed stays amortised O(n).
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return true;
}

}  // namespace nsq::protocol
