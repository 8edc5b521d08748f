#include "nsqd/tcp/asio_timers.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace nsq::nsqd {
namespace {

class AsioTimer final : public Timer {
 public:
  AsioTimer(boost::asio::io_context* io, const util::Clock* clock, std::function<void()> on_fire)
      : state_(std::make_shared<State>(*io, std::move(on_fire))), clock_(clock) {}

  ~AsioTimer() override {
    // The handler may still be queued; it holds the state alive and sees no callback.
    state_->on_fire = nullptr;
    state_->timer.cancel();
  }

  void ArmAt(int64_t deadline_ns) override {
    // Deadlines are Unix times; the wait itself uses the steady clock.
    const int64_t delay_ns = std::max<int64_t>(0, deadline_ns - clock_->NowNs());
    state_->timer.expires_after(std::chrono::nanoseconds(delay_ns));
    const uint64_t generation = ++state_->generation;
    state_->timer.async_wait([state = state_, generation](const boost::system::error_code& ec) {
      if (ec || generation != state->generation || !state->on_fire) return;
      state->on_fire();
    });
  }

  void Cancel() override {
    ++state_->generation;
    state_->timer.cancel();
  }

 private:
  struct State {
    State(boost::asio::io_context& io, std::function<void()> fn)
        : timer(io), on_fire(std::move(fn)) {}
    boost::asio::steady_timer timer;
    std::function<void()> on_fire;
    uint64_t generation = 0;
  };
  std::shared_ptr<State> state_;
  const util::Clock* clock_;
};

}  // namespace

std::unique_ptr<Timer> AsioTimerFactory::Create(std::function<void()> on_fire) {
  return std::make_unique<AsioTimer>(io_, clock_, std::move(on_fire));
}

}  // namespace nsq::nsqd
