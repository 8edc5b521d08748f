// BrokerContext: what topics and channels share: options, clock, timers, and a way to run
// work after the current call returns (used to delete objects that are still on the stack).
#pragma once

#include <functional>

#include "nsqd/broker/clock.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

struct BrokerContext {
  const NsqdOptions* options = nullptr;
  util::Clock* clock = nullptr;
  TimerFactory* timers = nullptr;
  // Runs `fn` later on the broker thread (never inside the caller).
  std::function<void(std::function<void()>)> post;
};

}  // namespace nsq::nsqd
