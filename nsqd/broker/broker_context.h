// BrokerContext: what topics and channels share: options, clock, timers, and a way to run
// work after the current call returns (used to delete objects that are still on the stack).
#pragma once

#include <functional>

#include "nsqd/broker/clock.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

class BrokerStore;

struct BrokerContext {
  const NsqdOptions* options = nullptr;
  util::Clock* clock = nullptr;
  TimerFactory* timers = nullptr;
  // Runs `fn` later on the broker thread (never inside the caller).
  std::function<void(std::function<void()>)> post;
  // Where durable topics and channels keep what does not fit in memory (and everything with
  // --mem-queue-size=0). Null: memory only, a full queue refuses publishes (unit tests).
  BrokerStore* store = nullptr;
};

}  // namespace nsq::nsqd
