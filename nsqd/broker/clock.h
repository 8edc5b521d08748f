// Timers as the broker sees them (time itself is common/util/clock.h), so topic/channel logic
// runs the same under a real event loop and under fake timers in unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "common/util/clock.h"

namespace nsq::nsqd {

// A one-shot timer. ArmAt replaces any earlier arming; destroying the timer cancels it and
// guarantees the callback never runs afterwards.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void ArmAt(int64_t deadline_ns) = 0;
  virtual void Cancel() = 0;
};

// Creates timers whose callback runs on the broker's thread.
class TimerFactory {
 public:
  virtual ~TimerFactory() = default;
  virtual std::unique_ptr<Timer> Create(std::function<void()> on_fire) = 0;
};

}  // namespace nsq::nsqd
