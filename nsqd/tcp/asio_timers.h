// AsioTimerFactory: the broker's TimerFactory on an Asio io_context. Timer callbacks run on
// the loop thread; a destroyed timer's callback never runs.
#pragma once

#include <memory>

#include "nsqd/broker/clock.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class AsioTimerFactory final : public TimerFactory {
 public:
  AsioTimerFactory(boost::asio::io_context* io, const util::Clock* clock)
      : io_(io), clock_(clock) {}
  std::unique_ptr<Timer> Create(std::function<void()> on_fire) override;

 private:
  boost::asio::io_context* io_;
  const util::Clock* clock_;
};

}  // namespace nsq::nsqd
