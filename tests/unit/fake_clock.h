// A clock that moves only when the test moves it, for any code that reads a util::Clock
// (nsqd's broker, lookupd's registration database).
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "common/util/clock.h"

namespace nsq::testing {

class FakeClock final : public util::Clock {
 public:
  int64_t NowNs() const override { return now_ns_; }
  void Set(int64_t now_ns) { now_ns_ = now_ns; }
  void Advance(absl::Duration d) { now_ns_ += absl::ToInt64Nanoseconds(d); }

 private:
  int64_t now_ns_ = 1'700'000'000'000'000'000;
};

}  // namespace nsq::testing
