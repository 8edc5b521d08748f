// Wall-clock time behind an interface, so the daemons' time-dependent logic (message
// timestamps, deadlines, lookupd's producer expiry) runs the same under a fake clock in tests.
#pragma once

#include <cstdint>

namespace nsq::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in nanoseconds.
  virtual int64_t NowNs() const = 0;
};

// The system clock.
class SystemClock final : public Clock {
 public:
  int64_t NowNs() const override;
};

}  // namespace nsq::util
