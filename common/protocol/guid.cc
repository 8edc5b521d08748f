#include "common/protocol/guid.h"

#include <algorithm>
#include <cassert>

namespace nsq::protocol {
namespace {

// Upstream's constants (a Twitter-snowflake epoch applied to ~1.05 ms ticks).
constexpr int64_t kEpoch = 1288834974288;
constexpr int kTickShift = 20;  // Unix ns >> 20
constexpr int kNodeIdBits = 10;
constexpr int kSequenceBits = 12;
constexpr int kNodeIdShift = kSequenceBits;
constexpr int kTimestampShift = kNodeIdBits + kSequenceBits;
constexpr int64_t kMaxSequence = (int64_t{1} << kSequenceBits) - 1;
constexpr int64_t kMaxNodeId = (int64_t{1} << kNodeIdBits) - 1;

}  // namespace

GuidGenerator::GuidGenerator(int64_t node_id) : node_id_(node_id & kMaxNodeId) {
  assert(node_id >= 0 && node_id <= kMaxNodeId);
}

MessageId GuidGenerator::Next(int64_t now_ns) { return MessageId::FromUint64(NextRaw(now_ns)); }

uint64_t GuidGenerator::NextRaw(int64_t now_ns) {
  // A clock before the epoch (a fake clock at 0 in tests) counts as the epoch itself, so the
  // timestamp field never goes negative.
  const int64_t tick = std::max(now_ns >> kTickShift, kEpoch);
  if (tick > last_tick_) {
    last_tick_ = tick;
    sequence_ = 0;
  } else if (sequence_ < kMaxSequence) {
    // Same tick, or the clock went backwards: keep counting in the last tick we used.
    ++sequence_;
  } else {
    // The tick is exhausted: borrow the next one instead of waiting for it. The real clock
    // catches up with the borrowed ticks as soon as the burst ends.
    ++last_tick_;
    sequence_ = 0;
  }
  return static_cast<uint64_t>(last_tick_ - kEpoch) << kTimestampShift |
         static_cast<uint64_t>(node_id_) << kNodeIdShift | static_cast<uint64_t>(sequence_);
}

}  // namespace nsq::protocol
