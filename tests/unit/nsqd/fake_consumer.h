// A Consumer that records what the channel hands it; the test decides its RDY window.
#pragma once

#include <vector>

#include "nsqd/broker/consumer.h"

namespace nsq::nsqd::testing {

class FakeConsumer final : public Consumer {
 public:
  explicit FakeConsumer(int64_t rdy = 1, int64_t msg_timeout_ns = 60'000'000'000)
      : rdy_(rdy), msg_timeout_ns_(msg_timeout_ns) {}

  bool ReadyForMessage() const override { return !closed && in_flight < rdy_; }
  int64_t SampleRate() const override { return sample_rate; }
  int64_t MsgTimeoutNs() const override { return msg_timeout_ns_; }
  void DeliverMessage(const protocol::Message& message) override {
    ++in_flight;
    received.push_back(message);
  }
  void MessageTimedOut() override { --in_flight; ++timed_out; }
  void InFlightReset() override { in_flight = 0; }
  void ChannelClosing() override { closed = true; }
  ClientStats Stats() const override {
    ClientStats stats;
    stats.in_flight_count = in_flight;
    stats.ready_count = rdy_;
    return stats;
  }

  void set_rdy(int64_t rdy) { rdy_ = rdy; }
  // What the connection does after a successful FIN/REQ.
  void Acked() { --in_flight; }

  std::vector<protocol::Message> received;
  int64_t in_flight = 0;
  int64_t timed_out = 0;
  int64_t sample_rate = 0;
  bool closed = false;

 private:
  int64_t rdy_;
  int64_t msg_timeout_ns_;
};

}  // namespace nsq::nsqd::testing
