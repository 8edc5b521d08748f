// Lookupd: the nsqlookupd daemon. Owns the event loop, the registration database and the TCP
// (nsqd registrations, protocol V1) and HTTP (discovery API) listeners.
//
//   auto lookupd = Lookupd::Create(options);   // binds the listeners
//   (*lookupd)->Run();                          // until SIGINT/SIGTERM or Shutdown()
//
// Everything runs on the one thread that calls Run(); there is no background work (producers
// are filtered by age when read, never expired by a timer).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "lookupd/options.h"

namespace nsq::lookupd {

class Lookupd {
 public:
  static absl::StatusOr<std::unique_ptr<Lookupd>> Create(const LookupdOptions& options);
  ~Lookupd();

  // Runs the event loop until a signal or Shutdown(), then closes every connection.
  void Run();
  // Asks Run() to return (thread-safe).
  void Shutdown();

  int tcp_port() const;
  int http_port() const;

 private:
  struct Impl;
  explicit Lookupd(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The version reported on the wire, e.g. "1.3.0".
const char* LookupdVersion();

}  // namespace nsq::lookupd
