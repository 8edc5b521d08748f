// Job JSON as Sidekiq and go-workers store it in Redis (formats: /work/shared/REDIS-QUEUES.md
// A1.3 and A2.2), the bodies the migration tool publishes unchanged. The job layer must run
// them as they are.
#pragma once

namespace nsq::jobs::fixtures {

// Sidekiq 6/7 `queue:default` list entry (float epoch seconds, Ruby's 7 fractional digits).
inline constexpr char kSidekiqJob[] =
    R"({"retry":true,"queue":"default","class":"HardWorker","args":["bob",5,{"nested":[1,2.5]}],)"
    R"("jid":"b4a577edbccf1d805744efa9","created_at":1712345678.1234567,)"
    R"("enqueued_at":1712345678.1245678})";

// Sidekiq 8 entry: integer epoch milliseconds, integer retry limit.
inline constexpr char kSidekiq8Job[] =
    R"({"retry":3,"queue":"default","class":"HardWorker","args":[],)"
    R"("jid":"1f2e3d4c5b6a79881726354a","created_at":1712345678123,"enqueued_at":1712345678124})";

// A member of Sidekiq's `retry` set: failed 4 times already (retry_count 3), limit 5.
inline constexpr char kSidekiqRetrySetJob[] =
    R"({"retry":5,"queue":"default","class":"FlakyWorker","args":[7],)"
    R"("jid":"0a1b2c3d4e5f60718293a4b5","created_at":1712345678.1,"enqueued_at":1712349999.5,)"
    R"("error_message":"execution expired","error_class":"Net::ReadTimeout",)"
    R"("failed_at":1712345680.25,"retry_count":3,"retried_at":1712349000.75})";

// go-workers Enqueue: Go's field order, `at` set even for immediate jobs, no `retry` (so no
// retries), no `created_at`.
inline constexpr char kGoWorkersJob[] =
    R"({"queue":"default","class":"Add","args":[1,2],"jid":"6f1c2b8a9d0e4f3a2b1c0d9e",)"
    R"("enqueued_at":1712345678.1234567,"at":1712345678.1234567})";

// A go-workers `goretry` member: retry true, retry_count 1, failed_at as Go's text layout.
inline constexpr char kGoWorkersRetryJob[] =
    R"({"queue":"default","class":"Add","args":[3,4],"jid":"9e8d7c6b5a4f3e2d1c0b9a87",)"
    R"("enqueued_at":1712345690.5,"retry_count":1,"retry":true,)"
    R"("error_message":"runtime error: index out of range","failed_at":"2024-04-05 19:34:40 UTC",)"
    R"("at":1712345678.25})";

// An ActiveJob as Rails' Sidekiq adapter (Sidekiq <= 7) enqueues it: the wrapper class, the
// real one in `wrapped`, args = [the ActiveJob serialization].
inline constexpr char kActiveJob[] =
    R"({"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper",)"
    R"("wrapped":"ChangeSet::Job","queue":"activejob","args":[{"job_class":"ChangeSet::Job",)"
    R"("job_id":"2f0b0b1e-54a5-4c0b-9d3e-4c7a1a2b3c4d","provider_job_id":null,)"
    R"("queue_name":"activejob","priority":null,"arguments":[{"_aj_globalid":"gid://app/User/1"}],)"
    R"("executions":0,"exception_executions":{},"locale":"en","timezone":"UTC",)"
    R"("enqueued_at":"2024-04-05T19:34:38Z","scheduled_at":null}],"retry":true,)"
    R"("jid":"c0ffee00c0ffee00c0ffee00","created_at":1712345678.1,"enqueued_at":1712345678.2})";

// A mailer through Sidekiq 8's own wrapper (integer milliseconds), no retries.
inline constexpr char kActiveJobSidekiq8Mailer[] =
    R"({"class":"Sidekiq::ActiveJob::Wrapper","wrapped":"ActionMailer::MailDeliveryJob",)"
    R"("queue":"mailers","args":[{"job_class":"ActionMailer::MailDeliveryJob","arguments":[]}],)"
    R"("retry":false,"jid":"bead00bead00bead00bead00","created_at":1712345678123,)"
    R"("enqueued_at":1712345678124})";

}  // namespace nsq::jobs::fixtures
