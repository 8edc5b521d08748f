// Consumer: receives the messages of one topic/channel from any number of nsqd, found directly
// or through nsqlookupd, and runs a handler on them.
//
//   nsq::client::Config config;
//   config.max_in_flight = 10;
//   nsq::client::Consumer consumer("events", "archive", config);
//   consumer.SetHandler([](nsq::client::Message& m) { Store(m.body()); return absl::OkStatus(); },
//                       /*concurrency=*/4);
//   consumer.ConnectToNsqLookupd("127.0.0.1:4161");
//   ...
//   consumer.Stop();
//
// Flow control: at most max_in_flight messages are held at once across all connections; RDY is
// spread as max(1, max_in_flight / connections) and, when there are more connections than
// max_in_flight, RDY 1 rotates among them. A failed message is requeued with
// default_requeue_delay * attempts (at most max_requeue_delay) and puts the whole consumer in
// exponential backoff (RDY 0 everywhere; after the backoff one connection gets RDY 1 as a test;
// success steps back, failure backs off longer), as go-nsq does. A message delivered more than
// max_attempts times goes to the give-up handler instead (default: log it) and is finished.
//
// Stopping: Stop() sends RDY 0 and CLS at once, requeues the messages no handler has started,
// and waits for the handlers to answer the messages they hold, at most Config::drain_timeout
// (30 s by default, as go-nsq); then it closes the connections (nsqd redelivers whatever is
// unanswered, and the number is logged) and returns. A handler still running then is left to
// finish on its own thread, with its answer ignored. StopAsync() starts the same without
// waiting, and Stopped() / WaitStopped() tell when it is over (go-nsq's Stop and StopChan).
//
// Threads: every method may be called from any thread. The consumer owns one background I/O
// thread and `concurrency` handler threads; handlers run on the handler threads only (on the
// I/O thread with concurrency 0). Stop()
// called from a handler only starts stopping (it cannot wait for its own thread).
//
// Lifetime: move-only. A moved-from Consumer may only be destroyed or assigned to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nsq/config.h"
#include "nsq/message.h"

namespace nsq::client {

// OK → FIN; an error → REQ (and backoff). Exceptions count as errors.
using Handler = std::function<absl::Status(Message& message)>;
// Runs instead of the handler for a message over max_attempts; FIN follows unless it called
// DisableAutoResponse() or answered the message itself.
using GiveUpHandler = std::function<void(Message& message)>;
// Picks which of the nsqd that nsqlookupd listed for the topic to connect to: gets their TCP
// "host:port" addresses, returns the ones to use (go-nsq's DiscoveryFilter, set there with
// SetBehaviorDelegate). Runs on the consumer's I/O thread after each poll; must not block.
using DiscoveryFilter = std::function<std::vector<std::string>(std::vector<std::string>)>;

// One connection of a Consumer, as Stats() saw it.
struct ConnectionStats {
  std::string address;        // the nsqd's "host:port"
  bool from_lookupd = false;  // found through nsqlookupd (else ConnectToNsqd)
  bool subscribed = false;    // SUB answered (false while connecting)
  int64_t in_flight = 0;      // received, not yet answered
  int64_t rdy = 0;            // the last RDY sent
  uint64_t messages_received = 0;
  uint64_t messages_finished = 0;
  uint64_t messages_requeued = 0;
  int backoff_level = 0;      // the consumer's (backoff is consumer-wide, as in go-nsq)
};

struct ConsumerStats {
  uint64_t messages_received = 0;
  uint64_t messages_finished = 0;
  uint64_t messages_requeued = 0;
  // Connections currently subscribed.
  int connections = 0;
  // 0 outside backoff; n while backing off backoff_multiplier * 2^n.
  int backoff_level = 0;
  // The current limit (Config::max_in_flight, or the last ChangeMaxInFlight).
  int64_t max_in_flight = 0;
  // Every connection, subscribed or still being set up.
  std::vector<ConnectionStats> per_connection;
};

class Consumer {
 public:
  // An invalid topic/channel name or Config makes the Connect* calls fail with that error.
  Consumer(std::string topic, std::string channel, Config config);
  // Stops (see Stop()).
  ~Consumer();
  Consumer(Consumer&& other) noexcept;
  Consumer& operator=(Consumer&& other) noexcept;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Set before connecting; once only. `concurrency` handler threads run it. With 0 it runs on
  // the consumer's I/O thread as messages arrive: no threads and no hand-off (the fastest for
  // handlers that do not block), but while it runs nothing else of the consumer does.
  void SetHandler(Handler handler, int concurrency = 1);
  // Optional; set before connecting.
  void SetGiveUpHandler(GiveUpHandler handler);
  // Optional; set before ConnectToNsqLookupd. Connections found through lookupd that the
  // filter drops are closed at the next poll, as if lookupd no longer listed them.
  void SetDiscoveryFilter(DiscoveryFilter filter);

  // Connects to one nsqd ("host:port" of its TCP port). Returns once the connection attempt is
  // under way: FailedPrecondition without a handler or after Stop(), InvalidArgument for a bad
  // address or Config, AlreadyExists when already connected to it. A dropped connection is
  // retried every lookupd_poll_interval.
  absl::Status ConnectToNsqd(const std::string& address);
  // Each address in turn; the first error stops (go-nsq's ConnectToNSQDs).
  absl::Status ConnectToNsqds(const std::vector<std::string>& addresses);
  // Adds an nsqlookupd to poll for the topic's producers; new ones are connected, vanished ones
  // closed. `address` is its HTTP "host:port" or "http://host:port[/path]" (path default
  // /lookup), as go-nsq takes; anything else is InvalidArgument here, not a failing poll.
  absl::Status ConnectToNsqLookupd(const std::string& address);
  absl::Status ConnectToNsqLookupds(const std::vector<std::string>& addresses);
  // Closes the connection made by ConnectToNsqd (CLS first; held messages are still answered)
  // and stops reconnecting to it. NotFound when not connected to it directly.
  absl::Status DisconnectFromNsqd(const std::string& address);
  // Stops polling that nsqlookupd. NotFound when unknown; FailedPrecondition for the last one
  // (as go-nsq). Connections it found stay until the remaining lookupds stop listing them.
  absl::Status DisconnectFromNsqLookupd(const std::string& address);

  // The limit of messages in flight across all connections, changed at run time; 0 pauses
  // (RDY 0 everywhere), a later non-zero value resumes. InvalidArgument when negative.
  absl::Status ChangeMaxInFlight(int max_in_flight);

  // Stops taking messages (RDY 0, CLS), requeues the received messages no handler started,
  // waits up to drain_timeout for the handlers to answer the messages they hold and for those
  // FIN/REQ to be sent, then closes. Never waits longer than drain_timeout (plus the time to
  // close). Idempotent; from a handler it only starts stopping.
  void Stop();
  // Starts stopping and returns at once.
  void StopAsync();
  // True once stopping is over: every connection closed and every handler returned.
  bool Stopped() const;
  // Waits until Stopped() or `timeout`; returns Stopped().
  bool WaitStopped(std::chrono::milliseconds timeout) const;

  // Counters and a snapshot of every connection; cheap, from any thread.
  ConsumerStats Stats() const;
  // True when a connection that is not closing has unanswered messages filling 85% or more
  // of its last RDY: handlers are the bottleneck (go-nsq's IsStarved).
  bool IsStarved() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;
};

}  // namespace nsq::client
