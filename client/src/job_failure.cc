#include "client/src/job_failure.h"

#include <boost/json/value.hpp>
#include <ctime>

namespace nsq::jobs::internal {

namespace json = boost::json;

namespace {

enum class TimeUnit { kSeconds, kMilliseconds, kGoText };

// Sidekiq 8 writes integer milliseconds; earlier versions float seconds (a whole-second float
// is still seconds: only an integer this large is milliseconds).
bool IsMilliseconds(const json::value* time) {
  if (time == nullptr) return false;
  if (time->is_int64()) return time->get_int64() >= 100'000'000'000;
  if (time->is_uint64()) return time->get_uint64() >= 100'000'000'000;
  return false;
}

TimeUnit UnitOf(const json::object& job) {
  const json::value* failed_at = job.if_contains("failed_at");
  if (failed_at != nullptr && failed_at->is_string()) return TimeUnit::kGoText;
  for (const char* field : {"created_at", "enqueued_at", "failed_at"}) {
    const json::value* time = job.if_contains(field);
    if (time == nullptr) continue;
    return IsMilliseconds(time) ? TimeUnit::kMilliseconds : TimeUnit::kSeconds;
  }
  return TimeUnit::kSeconds;
}

json::value TimeValue(TimeUnit unit, std::chrono::system_clock::time_point now) {
  const auto since_epoch = now.time_since_epoch();
  switch (unit) {
    case TimeUnit::kMilliseconds:
      return json::value(static_cast<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count()));
    case TimeUnit::kGoText: {
      const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
      std::tm utc{};
      gmtime_r(&seconds, &utc);
      char text[32];
      const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
      return json::value(json::string_view(text, n));
    }
    case TimeUnit::kSeconds:
      break;
  }
  return json::value(std::chrono::duration<double>(since_epoch).count());
}

}  // namespace

void RecordFailure(json::object& job, int failures_before, std::string_view error_message,
                   std::string_view error_class, std::chrono::system_clock::time_point now) {
  const json::value time = TimeValue(UnitOf(job), now);
  job["error_message"] = json::string_view(error_message.data(), error_message.size());
  job["error_class"] = json::string_view(error_class.data(), error_class.size());
  if (failures_before > 0) job["retried_at"] = time;
  // Sidekiq sets failed_at only at the first failure; a job whose earlier failures left no
  // failed_at (a retry that fell back to a plain REQ) gets one now rather than none.
  if (!job.contains("failed_at")) job["failed_at"] = time;
  job["retry_count"] = failures_before;
}

bool IsActiveJobWrapper(std::string_view job_class) {
  // Rails' adapter up to Sidekiq 7; Sidekiq 8's own (which still accepts the old name).
  return job_class == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper" ||
         job_class == "Sidekiq::ActiveJob::Wrapper";
}

}  // namespace nsq::jobs::internal
