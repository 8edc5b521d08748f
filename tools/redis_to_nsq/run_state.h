// How the migrator stops, and how it waits out outages.
//
// SIGINT or SIGTERM once: stop taking new batches, finish the one in flight (publish, then
// acknowledge in Redis), exit cleanly. A second one: exit at once (code 1); nothing is lost,
// because an unacknowledged batch stays in the processing key and is published first by the
// next run with the same --id.
//
//   RunState::Start();                     // in main, before any other thread
//   while (!RunState::StopRequested()) ...
//   RunState::SleepFor(absl::Seconds(1));  // returns early when a stop is requested
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace nsq::redis_to_nsq {

class RunState {
 public:
  // Blocks SIGINT/SIGTERM in the calling thread (and so in every thread it starts later) and
  // starts the thread that waits for them.
  static void Start();
  static bool StopRequested();
  // Asks to stop as a signal would (e.g. a fatal error in one thread).
  static void RequestStop();
  // Waits `d` or until a stop is requested; returns StopRequested().
  static bool SleepFor(absl::Duration d);
};

// Whether an error is an outage worth waiting out (the server is away, busy or loading) rather
// than an answer about the request itself.
bool IsTransient(const absl::Status& status);

// Calls `attempt` until it succeeds or fails with a non-transient error, waiting 100 ms .. 5 s
// (doubling) between tries. Logs a warning naming `what` when an outage starts and a line when
// it ends, not one per try. Waits through a stop request too: the batch in flight is finished
// (a second signal exits).
absl::Status Retrying(std::string_view what, const std::function<absl::Status()>& attempt);

}  // namespace nsq::redis_to_nsq
