// Sidekiq's failure fields (client/src/job_failure.h): failed_at at the first failure and kept,
// retried_at at every later one, in the unit the job already uses.
#include "client/src/job_failure.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>

namespace nsq::jobs::internal {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

json::object Parse(const std::string& text) { return json::parse(text).as_object(); }

// 2024-04-05 19:34:40.5 UTC.
const system_clock::time_point kFirst =
    system_clock::time_point(std::chrono::milliseconds(1712345680500));
const system_clock::time_point kLater = kFirst + std::chrono::hours(2);

TEST_CASE("The first failure sets failed_at, retry_count 0 and the error, and no retried_at") {
  json::object job = Parse(R"({"class":"A","args":[],"created_at":1712345678.25})");
  RecordFailure(job, 0, "boom", "INTERNAL", kFirst);
  CHECK(job.at("failed_at") == json::value(1712345680.5));
  CHECK_FALSE(job.contains("retried_at"));
  CHECK(job.at("retry_count") == json::value(0));
  CHECK(job.at("error_message") == json::value("boom"));
  CHECK(job.at("error_class") == json::value("INTERNAL"));
}

TEST_CASE("A later failure keeps failed_at and sets retried_at, retry_count and the new error") {
  json::object job = Parse(R"({"class":"A","created_at":1712345678.25})");
  RecordFailure(job, 0, "first", "INTERNAL", kFirst);
  RecordFailure(job, 1, "second", "UNAVAILABLE", kLater);
  CHECK(job.at("failed_at") == json::value(1712345680.5));
  CHECK(job.at("retried_at") == json::value(1712345680.5 + 7200));
  CHECK(job.at("retry_count") == json::value(1));
  CHECK(job.at("error_message") == json::value("second"));
  CHECK(job.at("error_class") == json::value("UNAVAILABLE"));
  RecordFailure(job, 2, "third", "INTERNAL", kLater + std::chrono::hours(1));
  CHECK(job.at("failed_at") == json::value(1712345680.5));
  CHECK(job.at("retried_at") == json::value(1712345680.5 + 3 * 3600));
  CHECK(job.at("retry_count") == json::value(2));
}

TEST_CASE("A Sidekiq 8 job (integer milliseconds) gets integer milliseconds") {
  json::object job = Parse(R"({"class":"A","created_at":1712345678123})");
  RecordFailure(job, 0, "x", "INTERNAL", kFirst);
  CHECK(job.at("failed_at") == json::value(int64_t{1712345680500}));
  RecordFailure(job, 1, "x", "INTERNAL", kLater);
  CHECK(job.at("retried_at") == json::value(int64_t{1712345680500 + 7200000}));
}

TEST_CASE("A whole-second float is still seconds; a job without times gets seconds") {
  json::object whole = Parse(R"({"class":"A","created_at":1712345678.0})");
  RecordFailure(whole, 0, "x", "INTERNAL", kFirst);
  CHECK(whole.at("failed_at").is_double());
  json::object bare = Parse(R"({"class":"A"})");
  RecordFailure(bare, 0, "x", "INTERNAL", kFirst);
  CHECK(bare.at("failed_at") == json::value(1712345680.5));
}

TEST_CASE("A go-workers job (failed_at as text) gets retried_at in Go's layout") {
  json::object job = Parse(
      R"({"class":"Add","enqueued_at":1712345690.5,"retry_count":1,)"
      R"("failed_at":"2024-04-05 19:34:40 UTC"})");
  RecordFailure(job, 2, "index out of range", "INTERNAL", kLater);
  CHECK(job.at("failed_at") == json::value("2024-04-05 19:34:40 UTC"));
  CHECK(job.at("retried_at") == json::value("2024-04-05 21:34:40 UTC"));
}

TEST_CASE("A job failing again without failed_at (requeued unchanged before) gets one now") {
  json::object job = Parse(R"({"class":"A","created_at":1712345678.25})");
  RecordFailure(job, 3, "x", "INTERNAL", kLater);
  CHECK(job.at("failed_at") == job.at("retried_at"));
  CHECK(job.at("retry_count") == json::value(3));
}

TEST_CASE("Both ActiveJob wrapper class names are recognised, and nothing else") {
  CHECK(IsActiveJobWrapper("ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"));
  CHECK(IsActiveJobWrapper("Sidekiq::ActiveJob::Wrapper"));
  CHECK_FALSE(IsActiveJobWrapper("HardWorker"));
  CHECK_FALSE(IsActiveJobWrapper(""));
}

}  // namespace
}  // namespace nsq::jobs::internal
