// Where the migrator publishes: a fixed list of nsqd (--nsqd-tcp-address, round-robin per call,
// failing over to the next while one is down) or the nsqd that nsqlookupd knows
// (--lookupd-http-address: those that already have the topic, else any). One nsq::client
// Producer per nsqd, shared by the migrator's threads.
//
//   NsqTargets targets({.nsqd_tcp_addresses = {"127.0.0.1:4150"}});
//   if (absl::Status s = targets.CheckReachable(); !s.ok()) ...   // names the address
//   absl::Status s = targets.MultiPublish("default", bodies);      // OK only after nsqd's OK
//
// Errors: Unavailable when no nsqd took it (each one's error in the message); nsqd's refusal of
// the content itself (E_BAD_MESSAGE, E_BAD_BODY: InvalidArgument) is returned at once. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nsq/producer.h"

namespace nsq::redis_to_nsq {

class NsqTargets {
 public:
  struct Options {
    std::vector<std::string> nsqd_tcp_addresses;
    std::vector<std::string> lookupd_http_addresses;
  };
  using Deferred = std::pair<std::string, std::chrono::milliseconds>;  // body, delay

  explicit NsqTargets(Options options);
  ~NsqTargets();

  // Every nsqd accepts a connection (fixed list), or at least one lookupd answers and knows an
  // nsqd. The error names what could not be reached.
  absl::Status CheckReachable();

  absl::Status MultiPublish(const std::string& topic, const std::vector<std::string>& bodies);
  absl::Status Publish(const std::string& topic, const std::string& body);
  // DPUB of each body with its delay, pipelined on one nsqd; one status per item (items that
  // failed on one nsqd are tried on the next).
  std::vector<absl::Status> DeferredPublish(const std::string& topic,
                                            const std::vector<Deferred>& items);

 private:
  // The nsqd to try for `topic`, in order.
  absl::StatusOr<std::vector<std::string>> Candidates(const std::string& topic);
  client::Producer& ProducerFor(const std::string& address);
  // Runs `attempt` on one nsqd after another until one does not fail transiently.
  absl::Status OnSomeNsqd(const std::string& topic,
                          const std::function<absl::Status(client::Producer&)>& attempt);

  Options options_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<client::Producer>> producers_;
  struct Lookup {
    std::vector<std::string> addresses;
    absl::Time fetched;
  };
  std::map<std::string, Lookup> lookups_;  // topic -> nsqd, from lookupd
};

}  // namespace nsq::redis_to_nsq
