// Nsqd: the daemon. Owns the event loop, the broker and the TCP/HTTP listeners.
//
//   auto nsqd = Nsqd::Create(options);     // binds the listeners
//   nsqd->Run();                           // until SIGINT/SIGTERM or Shutdown()
//
// The thread that calls Run() runs shard 0's loop (HTTP, lookupd, statsd, and its share of the
// topics and connections); --worker-threads - 1 more threads run the other shards.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

class Nsqd {
 public:
  static absl::StatusOr<std::unique_ptr<Nsqd>> Create(const NsqdOptions& options);
  ~Nsqd();

  // Runs the event loop until a signal or Shutdown(); closes cleanly before returning.
  void Run();
  // Asks Run() to return (thread-safe).
  void Shutdown();

  int tcp_port() const;
  int http_port() const;

 private:
  struct Impl;
  explicit Nsqd(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The version reported on the wire, e.g. "1.3.0".
const char* NsqdVersion();

}  // namespace nsq::nsqd
