// Producer: publishes to nsqd (protocol V2), failing over between several nsqd when given more
// than one address.
//
//   nsq::client::Producer producer("127.0.0.1:4150", nsq::client::Config());
//   absl::Status s = producer.Publish("events", "hello");          // returns after nsqd's OK
//   producer.PublishAsync("events", "hi", [](absl::Status s) { ... });
//   producer.Stop();                                                // flushes, then closes
//
//   // High availability: the first reachable nsqd takes the publishes; when it goes down
//   // they go to the next one.
//   nsq::client::Producer ha(std::vector<std::string>{"10.0.0.1:4150", "10.0.0.2:4150"},
//                            nsq::client::Config());
//
// Connections: async publishes are pipelined on a connection run by the producer's I/O
// thread and matched to nsqd's replies in order. Blocking calls made while no async publish is
// outstanding are written and answered on the calling thread over a connection of their own
// (Config::sync_publish_on_caller_thread, on by default): a producer that only makes blocking
// calls has that one connection, one that also publishes asynchronously has both, to the same
// nsqd. A publish is reported successful only after nsqd's OK. Connections are opened on the
// first command that needs them and again after they dropped; commands that were written when
// a connection dropped fail with Unavailable (they may or may not have been published);
// commands not yet written go to the next connection. An error reply fails the command with a
// status whose message is nsqd's error text, starting with its code: "E_BAD_MESSAGE PUB invalid
// message body size 0".
//
// Failover and backoff: an nsqd whose dial fails is left alone for an exponentially growing,
// jittered time (Config::reconnect_min_backoff .. reconnect_max_backoff) while the next
// address is tried; when every address is backing off, publishes fail at once with
// Unavailable naming the next attempt, without dialling. Each nsqd going down or coming back
// is logged once, not every attempt, whichever of the connections sees it.
//
// Back-pressure: at most Config::max_outstanding_messages / max_outstanding_bytes publishes
// are accepted and unanswered; then a publish waits for room or fails with ResourceExhausted
// (Config::block_when_full). Outstanding() says how many there are.
//
// Threads: every method may be called from any thread. The Producer owns one background
// thread that runs the async connection and invokes completion callbacks; callbacks must not
// block and must not call the blocking methods (Publish, MultiPublish, DeferredPublish, Ping)
// or Stop() (that would wait on itself).
//
// Lifetime: move-only. A moved-from Producer may only be destroyed or assigned to; its
// publishes fail with FailedPrecondition.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "nsq/config.h"

namespace nsq::client {

using PublishCallback = std::function<void(absl::Status)>;

struct ProducerStats {
  // Messages nsqd acknowledged (an MPUB counts its bodies).
  uint64_t published = 0;
  // Messages whose publish failed: refused by nsqd, lost with a connection, no nsqd
  // reachable, refused for being over the outstanding limit, or after Stop().
  uint64_t failed = 0;
  // Messages and command bytes accepted and not yet answered.
  uint64_t outstanding = 0;
  uint64_t outstanding_bytes = 0;
  // The nsqd the producer is connected to; empty while it is not.
  std::string connected_to;
};

class Producer {
 public:
  // `nsqd_tcp_address` is "host:port" (IPv6: "[::1]:4150"). An invalid address or Config
  // makes every command fail with the validation error (see status()).
  Producer(std::string nsqd_tcp_address, Config config);
  // Several nsqd for failover, tried in this order (at least one).
  Producer(std::vector<std::string> nsqd_tcp_addresses, Config config);
  // Stops (see Stop()).
  ~Producer();
  Producer(Producer&& other) noexcept;
  Producer& operator=(Producer&& other) noexcept;
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // OK unless the Config or an address was invalid.
  absl::Status status() const;

  // Connects (when not connected) and returns once the connection is ready: OK, or why no
  // nsqd could be reached. On a live connection it sends a NOP, as go-nsq's Ping does.
  absl::Status Ping();

  // PUB / MPUB / DPUB; each returns once nsqd answered (or the connection failed). The topic
  // must be a valid NSQ topic name (InvalidArgument otherwise, nothing sent).
  absl::Status Publish(std::string_view topic, std::string_view body);
  absl::Status MultiPublish(std::string_view topic, absl::Span<const std::string> bodies);
  absl::Status MultiPublish(std::string_view topic, absl::Span<const std::string_view> bodies);
  absl::Status MultiPublish(std::string_view topic, std::initializer_list<std::string_view> bodies);
  absl::Status DeferredPublish(std::string_view topic, std::chrono::milliseconds delay,
                               std::string_view body);

  // The same without waiting: `done` runs once on the producer's thread with the outcome; a
  // publish refused at once (invalid topic, over the limit without block_when_full, after
  // Stop()) runs it on the calling thread before returning. The body is copied once into the
  // command; a moved-in std::string body of 16 KiB or more is written from where it is,
  // without copying (for MultiPublishAsync: each such body of a moved-in vector).
  void PublishAsync(std::string_view topic, std::string_view body, PublishCallback done);
  void PublishAsync(std::string_view topic, std::string&& body, PublishCallback done);
  void PublishAsync(std::string_view topic, const char* body, PublishCallback done);
  void MultiPublishAsync(std::string_view topic, absl::Span<const std::string> bodies,
                         PublishCallback done);
  void MultiPublishAsync(std::string_view topic, std::vector<std::string>&& bodies,
                         PublishCallback done);
  void MultiPublishAsync(std::string_view topic, absl::Span<const std::string_view> bodies,
                         PublishCallback done);
  void MultiPublishAsync(std::string_view topic, std::initializer_list<std::string_view> bodies,
                         PublishCallback done);
  void DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                            std::string_view body, PublishCallback done);
  void DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                            std::string&& body, PublishCallback done);
  void DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                            const char* body, PublishCallback done);

  // Messages accepted and not yet answered (see Config::max_outstanding_messages). Answers
  // are counted once per read from nsqd, right after their callbacks ran.
  uint64_t Outstanding() const;
  ProducerStats Stats() const;

  // Waits until every command accepted so far has its answer, then closes the connection and
  // ends the background thread. Publishes waiting for room and later commands fail with
  // FailedPrecondition. Idempotent. From a callback it only starts stopping.
  void Stop();

 private:
  class Core;
  struct Command;
  void Submit(Command command, PublishCallback done);
  absl::Status Wait(const std::function<void(PublishCallback)>& start);
  // The blocking calls: on the caller-thread lane when it can take the command, else Submit
  // and Wait.
  absl::Status PublishAndWait(const Command& command);
  // Why `command` cannot be sent (status(), topic name, negative delay); OK otherwise.
  absl::Status Refusal(const Command& command) const;

  std::shared_ptr<Core> core_;
};

}  // namespace nsq::client
