// Message id generation as nsqd does it: one generator per topic, seeded with --node-id.
//
//   id = (ts - kEpochMillisLike) << 22 | node_id << 12 | sequence
// where ts is Unix nanoseconds >> 20 (about 1.05 ms ticks) and sequence has 12 bits.
//
// Go nsqd sleeps and retries when 4096 ids were handed out in one tick or the clock went
// backwards. We never block the event loop: the generator borrows the next tick instead, so
// ids stay unique and increasing even under a burst or a clock step back.
#pragma once

#include <cstdint>

#include "common/protocol/message.h"

namespace nsq::protocol {

class GuidGenerator {
 public:
  // node_id must be in [0, 1024).
  explicit GuidGenerator(int64_t node_id);

  // Returns the next id given the current Unix time in nanoseconds.
  MessageId Next(int64_t now_ns);
  uint64_t NextRaw(int64_t now_ns);

 private:
  int64_t node_id_;
  int64_t last_tick_ = -1;
  int64_t sequence_ = 0;
};

}  // namespace nsq::protocol
