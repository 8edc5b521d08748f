// Consumer: what a channel needs from a subscribed connection. Implemented by the TCP client
// connection (nsqd/tcp/client_conn.h) and by fakes in unit tests.
#pragma once

#include <cstdint>

#include "common/protocol/message.h"
#include "nsqd/broker/stats.h"

namespace nsq::nsqd {

// Where a consumer is relative to nsqd (--topology-zone / --topology-region), under the
// topology-aware-consumption experiment; kGlobal otherwise.
enum class Locality { kGlobal, kRegion, kZone };

class Consumer {
 public:
  virtual ~Consumer() = default;

  // True while the connection can take one more message: subscribed, not closing,
  // RDY > 0, in-flight < RDY, and its unwritten output below the connection's bound. When it
  // becomes true again the connection calls Channel::ConsumerReady.
  virtual bool ReadyForMessage() const = 0;
  // Sample rate 0 (all) .. 99 from IDENTIFY; a sampled-out message is consumed (NSQ semantics).
  virtual int64_t SampleRate() const = 0;
  // The in-flight timeout to use for messages delivered to this connection.
  virtual int64_t MsgTimeoutNs() const = 0;
  virtual Locality locality() const { return Locality::kGlobal; }

  // A message leaves the channel for this connection (attempts already incremented).
  virtual void DeliverMessage(const protocol::Message& message) = 0;
  // A message delivered to this connection timed out and went back to the channel.
  virtual void MessageTimedOut() = 0;
  // The channel dropped all in-flight messages (channel empty): in-flight count goes to 0.
  virtual void InFlightReset() = 0;
  // The channel is being deleted or the broker is exiting: close the connection.
  virtual void ChannelClosing() = 0;

  virtual ClientStats Stats() const = 0;
};

}  // namespace nsq::nsqd
