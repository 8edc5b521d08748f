// A broker environment for unit tests: a clock that moves only when told and timers that fire
// when the clock passes their deadline.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nsqd/broker/broker.h"
#include "nsqd/broker/clock.h"
#include "tests/unit/fake_clock.h"

namespace nsq::nsqd::testing {

using nsq::testing::FakeClock;

class FakeTimers final : public TimerFactory {
 public:
  explicit FakeTimers(FakeClock* clock) : clock_(clock) {}

  std::unique_ptr<Timer> Create(std::function<void()> on_fire) override {
    auto state = std::make_shared<State>();
    state->on_fire = std::move(on_fire);
    states_.push_back(state);
    return std::make_unique<FakeTimer>(state);
  }

  // Moves the clock forward by `delta_ns`, firing due timers in deadline order.
  void Advance(int64_t delta_ns) {
    const int64_t target = clock_->NowNs() + delta_ns;
    while (true) {
      std::shared_ptr<State> next;
      for (auto& state : states_) {
        if (state->armed && state->on_fire && state->deadline <= target &&
            (!next || state->deadline < next->deadline)) {
          next = state;
        }
      }
      if (!next) break;
      clock_->Set(std::max(clock_->NowNs(), next->deadline));
      next->armed = false;
      next->on_fire();
    }
    clock_->Set(target);
  }

 private:
  struct State {
    std::function<void()> on_fire;
    bool armed = false;
    int64_t deadline = 0;
  };
  class FakeTimer final : public Timer {
   public:
    explicit FakeTimer(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ~FakeTimer() override { state_->on_fire = nullptr; }
    void ArmAt(int64_t deadline_ns) override {
      state_->armed = true;
      state_->deadline = deadline_ns;
    }
    void Cancel() override { state_->armed = false; }

   private:
    std::shared_ptr<State> state_;
  };

  FakeClock* clock_;
  std::vector<std::shared_ptr<State>> states_;
};

// Options + clock + timers + a post queue that the test drains explicitly.
struct FakeEnv {
  FakeEnv() : timers(&clock) {
    context.options = &options;
    context.clock = &clock;
    context.timers = &timers;
    context.post = [this](std::function<void()> fn) { posted.push_back(std::move(fn)); };
  }
  void RunPosted() {
    while (!posted.empty()) {
      auto fn = std::move(posted.front());
      posted.erase(posted.begin());
      fn();
    }
  }

  NsqdOptions options;
  FakeClock clock;
  FakeTimers timers;
  BrokerContext context;
  std::vector<std::function<void()>> posted;
};

// Publishes to a topic of a broker without a store, where the outcome is known at once.
inline absl::Status PublishNow(Topic* topic, const std::vector<protocol::Body>& bodies,
                               int64_t defer_ns = 0) {
  std::optional<absl::Status> outcome;
  topic->Publish(bodies, defer_ns, [&outcome](absl::Status status) { outcome = status; });
  if (!outcome) return absl::InternalError("the publish did not complete at once");
  return *outcome;
}

}  // namespace nsq::nsqd::testing
