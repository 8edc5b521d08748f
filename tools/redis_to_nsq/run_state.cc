#include "tools/redis_to_nsq/run_state.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log/logger.h"

namespace nsq::redis_to_nsq {
namespace {

std::atomic<bool> stop_requested{false};
std::mutex mu;
std::condition_variable stop_cv;

void SetStop() {
  {
    std::lock_guard<std::mutex> lock(mu);
    stop_requested = true;
  }
  stop_cv.notify_all();
}

void WaitForSignals(sigset_t set) {
  for (int received = 0;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (++received == 1) {
      NSQ_LOG_INFO("%s: finishing the batches in flight, then exiting (again to abort)",
                   signal == SIGINT ? "SIGINT" : "SIGTERM");
      SetStop();
    } else {
      // Nothing is lost: unacknowledged batches stay in the processing keys.
      static constexpr char kAbort[] = "aborted; unacknowledged batches stay in Redis\n";
      (void)!write(STDERR_FILENO, kAbort, sizeof(kAbort) - 1);
      _exit(1);
    }
  }
}

}  // namespace

void RunState::Start() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WaitForSignals, set).detach();
}

bool RunState::StopRequested() { return stop_requested.load(); }

void RunState::RequestStop() { SetStop(); }

bool RunState::SleepFor(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu);
  stop_cv.wait_for(lock, absl::ToChronoNanoseconds(d), [] { return stop_requested.load(); });
  return stop_requested.load();
}

bool IsTransient(const absl::Status& status) {
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
      absl::IsResourceExhausted(status)) {
    return true;
  }
  // Redis answers these while it starts up or runs a long script.
  return absl::IsFailedPrecondition(status) && (status.message().rfind("LOADING", 0) == 0 ||
                                                status.message().rfind("BUSY", 0) == 0 ||
                                                status.message().rfind("TRYAGAIN", 0) == 0);
}

absl::Status Retrying(std::string_view what, const std::function<absl::Status()>& attempt) {
  absl::Duration wait = absl::Milliseconds(100);
  bool failing = false;
  for (;;) {
    absl::Status status = attempt();
    if (status.ok() || !IsTransient(status)) {
      if (failing) NSQ_LOG_INFO("%s: works again", what);
      return status;
    }
    if (!failing) {
      NSQ_LOG_WARN("%s: %s; retrying until it works (Ctrl-C twice aborts)", what,
                   status.message());
      failing = true;
    }
    // Not RunState::SleepFor: a stop request must not cut the batch in flight short.
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
    wait = std::min(wait * 2, absl::Seconds(5));
  }
}

}  // namespace nsq::redis_to_nsq
