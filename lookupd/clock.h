// The time source of the registration database, injected so tests control it.
#pragma once

#include <chrono>
#include <cstdint>

namespace nsq::lookupd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in nanoseconds.
  virtual int64_t NowNs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowNs() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace nsq::lookupd
