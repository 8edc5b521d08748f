// Producer: publishes to one nsqd over one TCP connection (protocol V2).
//
//   nsq::client::Producer producer("127.0.0.1:4150", nsq::client::Config());
//   absl::Status s = producer.Publish("events", "hello");          // returns after nsqd's OK
//   producer.PublishAsync("events", "hi", [](absl::Status s) { ... });
//   producer.Stop();                                                // flushes, then closes
//
// Commands are pipelined on the connection and matched to nsqd's replies in order. The
// connection is opened on the first command and again after it dropped; commands that were
// waiting for a reply when it dropped fail with Unavailable (they may or may not have been
// published). An error reply fails the command with a status whose message is nsqd's error
// text, starting with its code: "E_BAD_TOPIC PUB topic name \"a b\" is not valid".
//
// Threads: every method may be called from any thread. The Producer owns one background
// thread that runs the connection and invokes completion callbacks; callbacks must not block
// and must not call the blocking Publish* methods or Stop() (that would wait on itself).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nsq/config.h"

namespace nsq::client {

using PublishCallback = std::function<void(absl::Status)>;

class Producer {
 public:
  // `nsqd_tcp_address` is "host:port". An invalid Config makes every command fail with the
  // validation error (see status()).
  Producer(std::string nsqd_tcp_address, Config config);
  // Stops (see Stop()).
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // OK unless the Config or the address was invalid.
  absl::Status status() const;

  // PUB / MPUB / DPUB; each returns once nsqd answered (or the connection failed).
  absl::Status Publish(const std::string& topic, const std::string& body);
  absl::Status MultiPublish(const std::string& topic, const std::vector<std::string>& bodies);
  absl::Status DeferredPublish(const std::string& topic, std::chrono::milliseconds delay,
                               const std::string& body);

  // The same without waiting: `done` runs once on the producer's thread with the outcome.
  void PublishAsync(const std::string& topic, const std::string& body, PublishCallback done);
  void MultiPublishAsync(const std::string& topic, const std::vector<std::string>& bodies,
                         PublishCallback done);
  void DeferredPublishAsync(const std::string& topic, std::chrono::milliseconds delay,
                            const std::string& body, PublishCallback done);

  // Waits until every command accepted so far has its answer, then closes the connection and
  // ends the background thread. Later commands fail with FailedPrecondition. Idempotent.
  void Stop();

 private:
  class Core;
  void Submit(std::string command, PublishCallback done);

  std::shared_ptr<Core> core_;
};

}  // namespace nsq::client
