// The job layer (nsq/jobs.h) against the real nsqd: the JSON Enqueue writes, handlers by class
// (ActiveJob's by `wrapped`), Sidekiq retries as deferred republishes carrying failed_at and
// retried_at, dead letters, delayed jobs, and jobs written by Sidekiq and go-workers.
#include "nsq/jobs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/client/job_fixtures.h"
#include "tests/testutil/wait_for.h"

namespace nsq::jobs {
namespace {

using namespace std::chrono_literals;
using client::testing::NsqdAddress;
using client::testing::StartNsqd;
using client::testing::Stat;
using testutil::WaitFor;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

boost::json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, text);
  REQUIRE_MESSAGE(value.is_object(), text);
  return value.get_object();
}

// Bodies of a topic as a plain consumer on channel "inspect" sees them.
class TopicReader {
 public:
  TopicReader(const testutil::TestNsqd& nsqd, const std::string& topic)
      : consumer_(topic, "inspect", client::Config()) {
    consumer_.SetHandler([this](client::Message& m) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(m.body());
      return absl::OkStatus();
    });
    CLIENT_REQUIRE_OK(consumer_.ConnectToNsqd(NsqdAddress(nsqd)));
  }
  // Waits for the n-th body (0-based) and returns it; fails the test without it.
  std::string Wait(size_t n = 0) {
    REQUIRE(WaitFor([&] { return Count() > n; }, 10s));
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_[n];
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> bodies_;
  client::Consumer consumer_;
};

// Every run of a handler, with when it started.
class Runs {
 public:
  void Add(const Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    runs_.push_back({job, Clock::now()});
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_.size();
  }
  bool WaitCount(size_t n) {
    return WaitFor([&] { return Count() >= n; }, 15s);
  }
  Job job(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_.at(i).job;
  }
  Clock::time_point time(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_.at(i).time;
  }

 private:
  struct Run {
    Job job;
    Clock::time_point time;
  };
  std::mutex mu_;
  std::vector<Run> runs_;
};

WorkerOptions Options(const testutil::TestNsqd& nsqd, client::testing::LogRecorder& log) {
  WorkerOptions options;
  options.nsqd_tcp_addresses = {NsqdAddress(nsqd)};
  options.config = log.MakeConfig();
  options.retry_delay = [](int) { return 10ms; };
  return options;
}

void PublishRaw(const testutil::TestNsqd& nsqd, const std::string& topic, const std::string& body) {
  client::Producer producer(NsqdAddress(nsqd), client::Config());
  CLIENT_REQUIRE_OK(producer.Publish(topic, body));
}

// Every job of the topic's "workers" channel answered for good: none queued, deferred or
// in flight (nsqd's channel stats have no finish count).
bool Settled(const testutil::TestNsqd& nsqd, const std::string& topic) {
  return Stat(nsqd, topic, "workers", "depth") == 0 &&
         Stat(nsqd, topic, "workers", "in_flight_count") == 0 &&
         Stat(nsqd, topic, "workers", "deferred_count") == 0;
}

bool IsLowerHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST_CASE("Enqueue writes Sidekiq's job JSON to the topic named after the queue") {
  auto nsqd = StartNsqd();
  Client client(NsqdAddress(*nsqd));
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  absl::StatusOr<std::string> jid =
      client.Enqueue("mail", "WelcomeMail", R"([42, "en", {"a": null}])");
  REQUIRE_MESSAGE(jid.ok(), jid.status().ToString());
  EnqueueOptions limited;
  limited.retry = 3;
  absl::StatusOr<std::string> jid2 = client.Enqueue("mail", "WelcomeMail", "[]", limited);
  REQUIRE_MESSAGE(jid2.ok(), jid2.status().ToString());
  CHECK(jid->size() == 24);
  CHECK(IsLowerHex(*jid));
  CHECK(*jid != *jid2);

  TopicReader reader(*nsqd, "mail");
  const std::string body = reader.Wait(0);
  boost::json::object job = ParseObject(body);
  CHECK(job.at("class").as_string() == "WelcomeMail");
  CHECK(job.at("jid").as_string() == *jid);
  CHECK(job.at("queue").as_string() == "mail");
  CHECK(job.at("retry") == boost::json::value(true));
  CHECK(job.at("args") == boost::json::parse(R"([42,"en",{"a":null}])"));
  // Float epoch seconds, with a fraction (what Sidekiq <= 7 writes).
  REQUIRE(job.at("created_at").is_double());
  REQUIRE(job.at("enqueued_at").is_double());
  CHECK(job.at("created_at").as_double() >= before - 1);
  CHECK(job.at("created_at").as_double() <= before + 60);
  CHECK(absl::StrContains(body, "\"created_at\":1"));  // plain decimal, not 1.7E9
  CHECK(job.size() == 7);

  boost::json::object second = ParseObject(reader.Wait(1));
  CHECK(second.at("jid").as_string() == *jid2);
  CHECK(second.at("retry") == boost::json::value(3));
  CHECK(second.at("args").as_array().empty());
}

TEST_CASE("Enqueue refuses a bad queue name, args that are not an array and a delay over 1h") {
  // Nothing is sent: the address is never dialled.
  Client client("127.0.0.1:1");
  absl::StatusOr<std::string> bad_queue = client.Enqueue("mail queue", "C", "[]");
  CHECK(bad_queue.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_queue.status().message(), "not a valid NSQ topic name"));
  CHECK(client.Enqueue(std::string(65, 'q'), "C", "[]").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client.Enqueue("q", "", "[]").status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> object_args = client.Enqueue("q", "C", R"({"a":1})");
  CHECK(object_args.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(object_args.status().message(), "JSON array"));
  CHECK(client.Enqueue("q", "C", "[1,").status().code() == absl::StatusCode::kInvalidArgument);
  EnqueueOptions late;
  late.delay = kNsqdMaxDelay + 1ms;
  absl::StatusOr<std::string> too_late = client.Enqueue("q", "C", "[]", late);
  CHECK(too_late.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(too_late.status().message(), "max-req-timeout"));
}

TEST_CASE("Sidekiq's retry delay is count^4 + 15 + rand(10) * (count + 1) seconds") {
  for (int count : {0, 1, 2, 5, 10, 25}) {
    const int64_t base = int64_t{count} * count * count * count + 15;
    for (int i = 0; i < 50; ++i) {
      const milliseconds delay = SidekiqRetryDelay(count);
      CHECK(delay >= std::chrono::seconds(base));
      CHECK(delay <= std::chrono::seconds(base + 9 * (count + 1)));
      CHECK(delay.count() % 1000 == 0);
    }
  }
}

TEST_CASE("A worker refuses to start without addresses or with a queue too long for .dead") {
  WorkerOptions no_address;
  Worker lonely("q", no_address);
  CHECK(lonely.Start().code() == absl::StatusCode::kInvalidArgument);
  WorkerOptions options;
  options.nsqd_tcp_addresses = {"127.0.0.1:1"};
  Worker long_name(std::string(60, 'q'), options);
  absl::Status status = long_name.Start();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), ".dead"));
}

TEST_CASE("Client and Worker share one queue-name rule: 59 characters pass, 60 fail in both") {
  WorkerOptions options;
  options.nsqd_tcp_addresses = {"127.0.0.1:1"};
  Client client("127.0.0.1:1");
  for (const std::string& queue :
       std::vector<std::string>{std::string(60, 'q'), "a b", "", "q#ephemeral", "q!"}) {
    CAPTURE(queue);
    const absl::Status rule = ValidateQueueName(queue);
    CHECK(rule.code() == absl::StatusCode::kInvalidArgument);
    CHECK(client.Enqueue(queue, "C", "[]").status() == rule);
    Worker worker(queue, options);
    CHECK(worker.Start() == rule);
  }
  const std::string longest(59, 'q');
  CHECK(ValidateQueueName(longest).ok());
  CHECK(ValidateQueueName("mail.high_priority-2").ok());
  Worker worker(longest, options);
  CHECK(worker.Start().ok());  // connects in the background (and keeps retrying 127.0.0.1:1)
}

TEST_CASE("A worker runs an enqueued job's handler with its class, args and jid") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_rt", Options(*nsqd, log));
  Runs runs;
  Runs other;
  worker.Register("Add", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  worker.Register("Other", [&](const Job& job) {
    other.Add(job);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  Client client(NsqdAddress(*nsqd));
  absl::StatusOr<std::string> jid = client.Enqueue("jobs_rt", "Add", R"([1, 2.5, "x"])");
  REQUIRE(jid.ok());
  REQUIRE(runs.WaitCount(1));
  const Job job = runs.job(0);
  CHECK(job.job_class == "Add");
  CHECK(job.args_json == R"([1,2.5,"x"])");
  CHECK(job.jid == *jid);
  CHECK(job.queue == "jobs_rt");
  CHECK(job.retry_count == 0);
  CHECK(ParseObject(job.raw_json).at("jid").as_string() == *jid);
  CHECK(WaitFor([&] { return Settled(*nsqd, "jobs_rt"); }, 5s));
  CHECK(other.Count() == 0);
}

TEST_CASE("At most `concurrency` jobs run at once") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_conc", Options(*nsqd, log));
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int most = 0;
  int done = 0;
  worker.Register("Slow", [&](const Job&) {
    std::unique_lock<std::mutex> lock(mu);
    ++running;
    most = std::max(most, running);
    cv.notify_all();
    // Hold the slot until three run together (or long enough to show they never will).
    cv.wait_for(lock, 5s, [&] { return running >= 3 || done > 0; });
    --running;
    ++done;
    cv.notify_all();
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start(/*concurrency=*/3));
  Client client(NsqdAddress(*nsqd));
  for (int i = 0; i < 9; ++i) REQUIRE(client.Enqueue("jobs_conc", "Slow", "[]").ok());
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return done == 9;
      },
      20s));
  std::lock_guard<std::mutex> lock(mu);
  CHECK(most == 3);
}

TEST_CASE("A job that fails twice is retried with growing delays and succeeds on its 3rd run") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  WorkerOptions options = Options(*nsqd, log);
  std::mutex mu;
  std::vector<int> asked;  // retry counts the backoff was asked about
  options.retry_delay = [&](int retry_count) {
    std::lock_guard<std::mutex> lock(mu);
    asked.push_back(retry_count);
    return milliseconds(100 + 300 * retry_count);
  };
  Worker worker("jobs_retry", options);
  Runs runs;
  worker.Register("Flaky", [&](const Job& job) {
    runs.Add(job);
    return job.retry_count < 2 ? absl::UnavailableError("not yet") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  Client client(NsqdAddress(*nsqd));
  REQUIRE(client.Enqueue("jobs_retry", "Flaky", "[]").ok());
  REQUIRE(runs.WaitCount(3));
  CHECK(WaitFor([&] { return Settled(*nsqd, "jobs_retry"); }, 5s));
  CHECK(runs.Count() == 3);
  CHECK(runs.job(0).retry_count == 0);
  CHECK(runs.job(1).retry_count == 1);
  CHECK(runs.job(2).retry_count == 2);
  CHECK(runs.time(1) - runs.time(0) >= 100ms);
  CHECK(runs.time(2) - runs.time(1) >= 400ms);
  // Each retry is the job published again with Sidekiq's failure fields, not a REQ.
  CHECK(Stat(*nsqd, "jobs_retry", "workers", "requeue_count") == 0);
  CHECK(Stat(*nsqd, "jobs_retry", "", "message_count") == 3);
  const boost::json::object first = ParseObject(runs.job(0).raw_json);
  const boost::json::object second = ParseObject(runs.job(1).raw_json);
  const boost::json::object third = ParseObject(runs.job(2).raw_json);
  CHECK(!first.contains("failed_at"));
  CHECK(second.at("jid") == first.at("jid"));
  CHECK(second.at("retry_count") == boost::json::value(0));
  CHECK(second.at("error_message").as_string() == "not yet");
  CHECK(second.at("error_class").as_string() == "UNAVAILABLE");
  REQUIRE(second.at("failed_at").is_double());
  CHECK(!second.contains("retried_at"));
  CHECK(third.at("retry_count") == boost::json::value(1));
  CHECK(third.at("failed_at") == second.at("failed_at"));  // the first failure's, kept
  REQUIRE(third.at("retried_at").is_double());
  CHECK(third.at("retried_at").as_double() - third.at("failed_at").as_double() >= 0.1);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(asked == std::vector<int>{0, 1});
  }
  CHECK(log.Contains("failed: not yet; retry 1 of 25 in 100ms"));
  CHECK(log.Contains("failed: not yet; retry 2 of 25 in 400ms"));
}

TEST_CASE("A retry delay beyond nsqd's limit is capped at max_retry_delay") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  WorkerOptions options = Options(*nsqd, log);
  options.retry_delay = [](int) { return milliseconds(5 * 3600 * 1000); };
  Worker worker("jobs_cap", options);
  Runs runs;
  worker.Register("Fails", [&](const Job& job) {
    runs.Add(job);
    return absl::InternalError("boom");
  });
  CLIENT_REQUIRE_OK(worker.Start());
  Client client(NsqdAddress(*nsqd));
  REQUIRE(client.Enqueue("jobs_cap", "Fails", "[]").ok());
  // nsqd holds it deferred, and the connection survived the REQ.
  CHECK(WaitFor([&] { return Stat(*nsqd, "jobs_cap", "workers", "deferred_count") == 1; }, 10s));
  CHECK(log.Contains("retry 1 of 25 in 3600000ms"));
  CHECK(Stat(*nsqd, "jobs_cap", "workers", "client_count") == 1);
  CHECK(runs.Count() == 1);
}

TEST_CASE("A retry whose publish nsqd refuses is requeued unchanged, and runs again") {
  // The worker's retry delay (1.5 s) is over this nsqd's --max-req-timeout (1 s), and nothing
  // caps it here: the DPUB of the retry is refused (E_INVALID), so the message itself is
  // requeued, with nsqd clamping its delay to 1 s, and the job comes back as it was, its count
  // riding on nsqd's attempts.
  auto nsqd = StartNsqd({"--max-req-timeout=1s"});
  client::testing::LogRecorder log;
  WorkerOptions options = Options(*nsqd, log);
  options.retry_delay = [](int) { return 1500ms; };
  Worker worker("jobs_refused", options);
  Runs runs;
  worker.Register("OnceFlaky", [&](const Job& job) {
    runs.Add(job);
    return runs.Count() == 1 ? absl::UnavailableError("not yet") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  Client client(NsqdAddress(*nsqd));
  REQUIRE(client.Enqueue("jobs_refused", "OnceFlaky", "[]").ok());
  REQUIRE(runs.WaitCount(2));
  CHECK(WaitFor([&] { return Settled(*nsqd, "jobs_refused"); }, 5s));
  CHECK(runs.Count() == 2);
  CHECK(log.Contains("publishing the retry of job"));
  CHECK(log.Contains("requeued unchanged"));
  // One message in all: the retry was never published; the first delivery was requeued.
  CHECK(Stat(*nsqd, "jobs_refused", "", "message_count") == 1);
  CHECK(Stat(*nsqd, "jobs_refused", "workers", "requeue_count") == 1);
  CHECK(runs.job(1).raw_json == runs.job(0).raw_json);  // no failure fields added
  CHECK(runs.job(0).retry_count == 0);
  CHECK(runs.job(1).retry_count == 1);  // nsqd's attempts carry it
  CHECK(runs.time(1) - runs.time(0) >= 900ms);
}

TEST_CASE("A job that keeps failing lands on <queue>.dead with Sidekiq's error fields") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_dead", Options(*nsqd, log));
  Runs runs;
  worker.Register("Doomed", [&](const Job& job) {
    runs.Add(job);
    return absl::InternalError("disk on fire");
  });
  CLIENT_REQUIRE_OK(worker.Start());
  TopicReader dead(*nsqd, "jobs_dead.dead");
  Client client(NsqdAddress(*nsqd));
  EnqueueOptions two_retries;
  two_retries.retry = 2;
  absl::StatusOr<std::string> jid = client.Enqueue("jobs_dead", "Doomed", R"(["a"])", two_retries);
  REQUIRE(jid.ok());

  boost::json::object job = ParseObject(dead.Wait(0));
  CHECK(runs.Count() == 3);
  CHECK(job.at("jid").as_string() == *jid);
  CHECK(job.at("class").as_string() == "Doomed");
  CHECK(job.at("args") == boost::json::parse(R"(["a"])"));
  CHECK(job.at("retry") == boost::json::value(2));
  CHECK(job.at("error_message").as_string() == "disk on fire");
  CHECK(job.at("error_class").as_string() == "INTERNAL");
  CHECK(job.at("retry_count") == boost::json::value(2));
  // failed_at is the first run's failure, retried_at the last run's.
  REQUIRE(job.at("failed_at").is_double());
  REQUIRE(job.at("retried_at").is_double());
  CHECK(job.at("failed_at").as_double() >= job.at("created_at").as_double());
  CHECK(job.at("retried_at").as_double() > job.at("failed_at").as_double());
  CHECK(ParseObject(runs.job(1).raw_json).at("failed_at") == job.at("failed_at"));
  // The original is finished, not left to come back.
  CHECK(WaitFor([&] { return Settled(*nsqd, "jobs_dead"); }, 5s));
  CHECK(log.Contains("retries exhausted (2), moving it to jobs_dead.dead"));
}

TEST_CASE("An unknown class and a body that is not a job go to .dead with a clear log") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_unknown", Options(*nsqd, log));
  worker.Register("Known", [](const Job&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(worker.Start());
  TopicReader dead(*nsqd, "jobs_unknown.dead");
  Client client(NsqdAddress(*nsqd));
  EnqueueOptions no_retry;
  no_retry.retry = 0;
  REQUIRE(client.Enqueue("jobs_unknown", "Mystery", "[]", no_retry).ok());
  boost::json::object job = ParseObject(dead.Wait(0));
  CHECK(job.at("class").as_string() == "Mystery");
  CHECK(job.at("error_class").as_string() == "NOT_FOUND");
  CHECK(
      absl::StrContains(std::string(job.at("error_message").as_string()), "no handler registered"));
  CHECK(job.at("retry_count") == boost::json::value(0));
  CHECK(log.Contains("no handler registered for job class \"Mystery\""));

  PublishRaw(*nsqd, "jobs_unknown", "not json at all");
  CHECK(dead.Wait(1) == "not json at all");
  CHECK(log.Contains("is not a job"));
}

TEST_CASE("A Sidekiq job and a Sidekiq 8 job run on the registered class") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("sidekiq_default", Options(*nsqd, log));
  Runs runs;
  worker.Register("HardWorker", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  PublishRaw(*nsqd, "sidekiq_default", fixtures::kSidekiqJob);
  REQUIRE(runs.WaitCount(1));
  PublishRaw(*nsqd, "sidekiq_default", fixtures::kSidekiq8Job);
  REQUIRE(runs.WaitCount(2));
  const Job job = runs.job(0);
  CHECK(job.job_class == "HardWorker");
  CHECK(job.jid == "b4a577edbccf1d805744efa9");
  CHECK(boost::json::parse(job.args_json) == boost::json::parse(R"(["bob",5,{"nested":[1,2.5]}])"));
  CHECK(job.retry_count == 0);
  CHECK(job.raw_json == fixtures::kSidekiqJob);
  CHECK(runs.job(1).jid == "1f2e3d4c5b6a79881726354a");
  CHECK(runs.job(1).args_json == "[]");
  CHECK(WaitFor([&] { return Settled(*nsqd, "sidekiq_default"); }, 5s));
}

TEST_CASE("An ActiveJob runs on the handler of its wrapped class, else on the wrapper's") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("activejob", Options(*nsqd, log));
  Runs real;
  Runs wrapper;
  worker.Register("ChangeSet::Job", [&](const Job& job) {
    real.Add(job);
    return absl::OkStatus();
  });
  worker.Register("Sidekiq::ActiveJob::Wrapper", [&](const Job& job) {
    wrapper.Add(job);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  PublishRaw(*nsqd, "activejob", fixtures::kActiveJob);
  REQUIRE(real.WaitCount(1));
  const Job job = real.job(0);
  CHECK(job.job_class == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper");
  CHECK(job.wrapped == "ChangeSet::Job");
  CHECK(job.jid == "c0ffee00c0ffee00c0ffee00");
  const boost::json::value args = boost::json::parse(job.args_json);
  CHECK(args.as_array().at(0).as_object().at("job_class").as_string() == "ChangeSet::Job");
  // Sidekiq 8's wrapper with a real class nobody registered: the wrapper's handler runs it.
  PublishRaw(*nsqd, "activejob", fixtures::kActiveJobSidekiq8Mailer);
  REQUIRE(wrapper.WaitCount(1));
  CHECK(wrapper.job(0).wrapped == "ActionMailer::MailDeliveryJob");
  CHECK(real.Count() == 1);
  // `wrapped` on a class that is not ActiveJob's wrapper means nothing.
  PublishRaw(*nsqd, "activejob",
             R"({"class":"Sidekiq::ActiveJob::Wrapper2","wrapped":"ChangeSet::Job","args":[],)"
             R"("jid":"aaaaaaaaaaaaaaaaaaaaaaaa","retry":false})");
  CHECK(WaitFor([&] { return log.Contains("\"Sidekiq::ActiveJob::Wrapper2\""); }, 10s));
  CHECK(real.Count() == 1);
  CHECK(WaitFor([&] { return Settled(*nsqd, "activejob"); }, 5s));
}

TEST_CASE("An ActiveJob with no handler for it or its wrapper fails naming both") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("activejob_none", Options(*nsqd, log));
  worker.Register("Other", [](const Job&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(worker.Start());
  TopicReader dead(*nsqd, "activejob_none.dead");
  PublishRaw(*nsqd, "activejob_none", fixtures::kActiveJobSidekiq8Mailer);
  boost::json::object job = ParseObject(dead.Wait(0));
  CHECK(job.at("error_message").as_string() ==
        "no handler registered for job class \"ActionMailer::MailDeliveryJob\" (or its wrapper "
        "\"Sidekiq::ActiveJob::Wrapper\")");
  CHECK(job.at("wrapped").as_string() == "ActionMailer::MailDeliveryJob");
  // A Sidekiq 8 job: its failure times are integer milliseconds like its created_at.
  CHECK(job.at("failed_at").is_int64());
  CHECK(job.at("failed_at").as_int64() > job.at("created_at").as_int64());
}

TEST_CASE("A job drained from Sidekiq's retry set keeps its retry budget and failure history") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("sidekiq_retry", Options(*nsqd, log));
  Runs runs;
  worker.Register("FlakyWorker", [&](const Job& job) {
    runs.Add(job);
    return absl::DeadlineExceededError("still timing out");
  });
  CLIENT_REQUIRE_OK(worker.Start());
  TopicReader dead(*nsqd, "sidekiq_retry.dead");
  PublishRaw(*nsqd, "sidekiq_retry", fixtures::kSidekiqRetrySetJob);
  // retry_count 3 means 4 failures so far; with retry 5 one more retry is left.
  boost::json::object job = ParseObject(dead.Wait(0));
  REQUIRE(runs.Count() == 2);
  CHECK(runs.job(0).retry_count == 4);
  CHECK(runs.job(1).retry_count == 5);
  CHECK(job.at("retry_count") == boost::json::value(5));
  CHECK(job.at("error_class").as_string() == "DEADLINE_EXCEEDED");
  CHECK(job.at("error_message").as_string() == "still timing out");
  CHECK(job.at("failed_at") == boost::json::value(1712345680.25));
  CHECK(job.at("retried_at").as_double() > 1712349000.75);
}

TEST_CASE("go-workers jobs run, and one without `retry` is not retried") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("goworkers_default", Options(*nsqd, log));
  Runs runs;
  worker.Register("Add", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  Runs failures;
  worker.Register("Crash", [&](const Job& job) {
    failures.Add(job);
    return absl::InternalError("panic: nil map");
  });
  CLIENT_REQUIRE_OK(worker.Start());
  TopicReader dead(*nsqd, "goworkers_default.dead");
  PublishRaw(*nsqd, "goworkers_default", fixtures::kGoWorkersJob);
  REQUIRE(runs.WaitCount(1));
  PublishRaw(*nsqd, "goworkers_default", fixtures::kGoWorkersRetryJob);
  REQUIRE(runs.WaitCount(2));
  CHECK(runs.job(0).job_class == "Add");
  CHECK(runs.job(0).jid == "6f1c2b8a9d0e4f3a2b1c0d9e");
  CHECK(runs.job(0).args_json == "[1,2]");
  CHECK(runs.job(0).retry_count == 0);
  CHECK(runs.job(1).args_json == "[3,4]");
  CHECK(runs.job(1).retry_count == 2);

  // go-workers omits `retry` for jobs without retries: the first failure is final.
  std::string crash = fixtures::kGoWorkersJob;
  crash.replace(crash.find("\"Add\""), 5, "\"Crash\"");
  PublishRaw(*nsqd, "goworkers_default", crash);
  boost::json::object job = ParseObject(dead.Wait(0));
  CHECK(failures.Count() == 1);
  CHECK(job.at("class").as_string() == "Crash");
  CHECK(job.at("error_message").as_string() == "panic: nil map");
  CHECK(job.at("at") == boost::json::parse(R"(1712345678.1234567)"));
}

TEST_CASE("A delayed job is not delivered before its delay") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_later", Options(*nsqd, log));
  Runs runs;
  worker.Register("Later", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  Client client(NsqdAddress(*nsqd));
  EnqueueOptions later;
  later.delay = 1500ms;
  const Clock::time_point start = Clock::now();
  REQUIRE(client.Enqueue("jobs_later", "Later", "[]", later).ok());
  REQUIRE(runs.WaitCount(1));
  CHECK(runs.time(0) - start >= 1450ms);
  CHECK(runs.time(0) - start < 10s);
}

TEST_CASE("With dedupe_window a duplicated jid runs once; a failed run's retry still runs") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  WorkerOptions options = Options(*nsqd, log);
  options.dedupe_window = std::chrono::minutes(10);
  Worker worker("jobs_dedupe", options);
  Runs runs;
  std::atomic<int> failures_left{1};
  worker.Register("Once", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  worker.Register("FailsFirst", [&](const Job& job) {
    runs.Add(job);
    return failures_left-- > 0 ? absl::InternalError("first run fails") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  // The same job three times (as a republished migration batch would deliver it), then a job
  // that fails once: its retry is the same jid and must run.
  const std::string once = R"({"class":"Once","args":[],"jid":"aaaaaaaaaaaaaaaaaaaaaaaa","queue":"jobs_dedupe","retry":true})";
  for (int i = 0; i < 3; ++i) PublishRaw(*nsqd, "jobs_dedupe", once);
  PublishRaw(*nsqd, "jobs_dedupe",
             R"({"class":"FailsFirst","args":[],"jid":"bbbbbbbbbbbbbbbbbbbbbbbb","queue":"jobs_dedupe","retry":true})");
  REQUIRE(WaitFor([&] { return Settled(*nsqd, "jobs_dedupe"); }, 15s));
  int once_runs = 0;
  int fails_first_runs = 0;
  for (size_t i = 0; i < runs.Count(); ++i) {
    (runs.job(i).job_class == "Once" ? once_runs : fails_first_runs)++;
  }
  CHECK(once_runs == 1);
  CHECK(fails_first_runs == 2);
}

TEST_CASE("Without dedupe_window (the default) every copy of a jid runs") {
  auto nsqd = StartNsqd();
  client::testing::LogRecorder log;
  Worker worker("jobs_nodedupe", Options(*nsqd, log));
  Runs runs;
  worker.Register("Twice", [&](const Job& job) {
    runs.Add(job);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(worker.Start());
  const std::string body = R"({"class":"Twice","args":[],"jid":"cccccccccccccccccccccccc","queue":"jobs_nodedupe"})";
  PublishRaw(*nsqd, "jobs_nodedupe", body);
  PublishRaw(*nsqd, "jobs_nodedupe", body);
  CHECK(runs.WaitCount(2));
}

}  // namespace
}  // namespace nsq::jobs
