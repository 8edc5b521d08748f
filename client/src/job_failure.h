// Sidekiq's bookkeeping of a failed job run, written into the job JSON before the job is
// retried or dead-lettered, as Sidekiq's JobRetry does (REDIS-QUEUES.md A1.3):
//   error_message, error_class   the last failure's
//   retry_count                  failures so far - 1 (0 after the first)
//   failed_at                    the first failure's time; kept as it is afterwards
//   retried_at                   the time of each later failure (absent after the first)
// Times are written in the unit the job already uses: integer epoch milliseconds for Sidekiq 8
// jobs (an integer created_at/enqueued_at/failed_at of 1e11 or more), go-workers' text layout
// "2006-01-02 15:04:05 UTC" when the job's failed_at is text, else float epoch seconds (Sidekiq
// up to 7, and our Client::Enqueue). Internal; pure, no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string_view>

namespace nsq::jobs::internal {

// `failures_before` is the number of failures before the run that just failed (Job::retry_count).
void RecordFailure(boost::json::object& job, int failures_before, std::string_view error_message,
                   std::string_view error_class, std::chrono::system_clock::time_point now);

// ActiveJob's wrappers: a job of one of these classes names its real class in `wrapped`.
bool IsActiveJobWrapper(std::string_view job_class);

}  // namespace nsq::jobs::internal
