#include "nsq/jobs.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/src/job_failure.h"
#include "client/src/log.h"
#include "client/src/recent_jids.h"
#include "common/protocol/names.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"

namespace nsq::jobs {

namespace json = boost::json;
using client::LogLevel;
using std::chrono::milliseconds;

namespace {

// Sidekiq truncates error messages stored with a job to this many characters.
constexpr size_t kMaxErrorMessage = 10000;
// Caps a retry_count read from JSON so the sums below cannot overflow.
constexpr int64_t kMaxRetryCount = 1 << 20;

std::mt19937_64& Random() {
  thread_local std::mt19937_64 engine(std::random_device{}());
  return engine;
}

double NowSeconds() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

// 12 random bytes as 24 lowercase hex characters, like Sidekiq's SecureRandom.hex(12).
std::string NewJid() {
  std::string jid;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&jid, absl::StrFormat("%08x", static_cast<uint32_t>(Random()())));
  }
  return jid;
}

// Writes a double the way Ruby and Go print epoch seconds (1712345678.123456), not in the
// exponent form Boost.JSON uses, so timestamps stay readable and keep a fractional part (a
// fraction is what tells Sidekiq's readers "seconds" rather than "milliseconds").
void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buffer[64];
  const bool plain = d == 0 || (std::fabs(d) >= 1e-4 && std::fabs(d) < 1e16);
  const auto [end, ec] =
      plain ? std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof(buffer), d);
  std::string_view text(buffer, ec == std::errc() ? end - buffer : 0);
  out->append(text);
  if (plain && text.find('.') == std::string_view::npos) out->append(".0");
}

void AppendJson(const json::value& value, std::string* out) {
  switch (value.kind()) {
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const json::key_value_pair& field : value.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        out->append(json::serialize(field.key()));
        out->push_back(':');
        AppendJson(field.value(), out);
      }
      out->push_back('}');
      return;
    }
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& element : value.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(element, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::double_:
      AppendDouble(value.get_double(), out);
      return;
    default:
      out->append(json::serialize(value));
      return;
  }
}

std::string ToJson(const json::value& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

absl::StatusOr<json::value> ParseJson(const std::string& text) {
  json::error_code ec;
  json::value value;
  try {
    value = json::parse(text, ec);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", e.what()));
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("JSON: ", ec.message()));
  return value;
}

// An integer JSON value as int64 (doubles with an integral value count); nullopt otherwise.
std::optional<int64_t> AsInteger(const json::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) {
    return static_cast<int64_t>(std::min<uint64_t>(value.get_uint64(), uint64_t{1} << 62));
  }
  if (value.is_double() && std::isfinite(value.get_double()) &&
      std::floor(value.get_double()) == value.get_double()) {
    return static_cast<int64_t>(std::clamp(value.get_double(), -1e18, 1e18));
  }
  return std::nullopt;
}

}  // namespace

absl::Status ValidateQueueName(std::string_view queue) {
  const std::string dead = absl::StrCat(std::string(queue), ".dead");
  if (protocol::IsValidTopicName(queue) && !protocol::IsEphemeralName(queue) &&
      protocol::IsValidTopicName(dead)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "queue ", protocol::QuoteName(queue),
      " is not a valid NSQ topic name for a queue: it and its dead-letter topic ",
      protocol::QuoteName(dead),
      " must be topic names, so 1-59 characters of [.a-zA-Z0-9_-], not #ephemeral"));
}

std::chrono::milliseconds SidekiqRetryDelay(int retry_count) {
  const int64_t count = std::clamp<int64_t>(retry_count, 0, 1000);
  std::uniform_int_distribution<int64_t> rand10(0, 9);
  const int64_t seconds = count * count * count * count + 15 + rand10(Random()) * (count + 1);
  return std::chrono::seconds(seconds);
}

// ================================================================ Client

class Client::Core {
 public:
  Core(std::string address, client::Config config)
      : producer_(std::move(address), std::move(config)) {}
  client::Producer producer_;
};

Client::Client(std::string nsqd_tcp_address, client::Config config)
    : core_(std::make_unique<Core>(std::move(nsqd_tcp_address), std::move(config))) {}

Client::~Client() { Stop(); }

void Client::Stop() { core_->producer_.Stop(); }

absl::StatusOr<std::string> Client::Enqueue(const std::string& queue, const std::string& job_class,
                                            const std::string& args_json,
                                            const EnqueueOptions& options) {
  if (absl::Status valid = ValidateQueueName(queue); !valid.ok()) return valid;
  if (job_class.empty()) return absl::InvalidArgumentError("job class is empty");
  absl::StatusOr<json::value> args = ParseJson(args_json);
  if (!args.ok() || !args->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job args must be a JSON array, got: ", args_json.substr(0, 200)));
  }
  if (options.delay < milliseconds(0) || options.delay > kNsqdMaxDelay) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "delay %dms is out of range 0-%dms: nsqd's --max-req-timeout (1h by default) bounds "
        "DPUB; schedule longer delays outside nsqd",
        options.delay.count(), kNsqdMaxDelay.count()));
  }
  if (options.retry && *options.retry < 0) {
    return absl::InvalidArgumentError("retry must be >= 0");
  }

  const std::string jid = NewJid();
  const double now = NowSeconds();
  json::object job;
  job["class"] = job_class;
  job["args"] = std::move(*args);
  job["jid"] = jid;
  job["queue"] = queue;
  if (options.retry) {
    job["retry"] = *options.retry;
  } else {
    job["retry"] = true;
  }
  job["created_at"] = now;
  job["enqueued_at"] = now;
  const std::string body = ToJson(job);

  absl::Status status = options.delay > milliseconds(0)
                            ? core_->producer_.DeferredPublish(queue, options.delay, body)
                            : core_->producer_.Publish(queue, body);
  if (!status.ok()) return status;
  return jid;
}

// ================================================================ Worker

namespace {

// What the worker needs from a job body besides the handler's view of it.
struct ParsedJob {
  Job job;
  json::object object;
  int retry_limit = 0;
  // Sidekiq's `dead: false`: discard instead of dead-lettering.
  bool keep_dead = true;
};

absl::StatusOr<ParsedJob> ParseJob(const std::string& body, const std::string& queue,
                                   int attempts) {
  absl::StatusOr<json::value> value = ParseJson(body);
  if (!value.ok()) return value.status();
  if (!value->is_object()) return absl::InvalidArgumentError("job JSON is not an object");
  ParsedJob parsed;
  parsed.object = std::move(value->get_object());
  const json::object& object = parsed.object;
  const json::value* job_class = object.if_contains("class");
  if (job_class == nullptr || !job_class->is_string() || job_class->get_string().empty()) {
    return absl::InvalidArgumentError("job JSON has no \"class\" string");
  }
  Job& job = parsed.job;
  job.job_class = std::string(job_class->get_string());
  if (internal::IsActiveJobWrapper(job.job_class)) {
    if (const json::value* wrapped = object.if_contains("wrapped");
        wrapped != nullptr && wrapped->is_string()) {
      job.wrapped = std::string(wrapped->get_string());
    }
  }
  const json::value* args = object.if_contains("args");
  job.args_json = args != nullptr ? ToJson(*args) : "[]";
  if (const json::value* jid = object.if_contains("jid"); jid != nullptr && jid->is_string()) {
    job.jid = std::string(jid->get_string());
  }
  job.queue = queue;
  job.raw_json = body;

  int64_t failures = std::max(attempts - 1, 0);
  if (const json::value* count = object.if_contains("retry_count"); count != nullptr) {
    if (std::optional<int64_t> n = AsInteger(*count); n && *n >= 0) {
      failures += std::min(*n, kMaxRetryCount) + 1;
    }
  }
  job.retry_count = static_cast<int>(failures);

  if (const json::value* retry = object.if_contains("retry"); retry != nullptr) {
    if (retry->is_bool()) {
      parsed.retry_limit = retry->get_bool() ? kDefaultRetryLimit : 0;
    } else if (std::optional<int64_t> n = AsInteger(*retry); n) {
      parsed.retry_limit = static_cast<int>(std::clamp<int64_t>(*n, 0, kMaxRetryCount));
    }
  }
  if (const json::value* dead = object.if_contains("dead"); dead != nullptr && dead->is_bool()) {
    parsed.keep_dead = dead->get_bool();
  }
  return parsed;
}

}  // namespace

class Worker::Core {
 public:
  Core(std::string queue, WorkerOptions options)
      : queue_(std::move(queue)),
        dead_topic_(queue_ + ".dead"),
        options_(std::move(options)),
        recent_(options_.dedupe_window, options_.dedupe_max_jids) {
    if (!options_.retry_delay) options_.retry_delay = SidekiqRetryDelay;
    options_.config.max_attempts = 0;
  }

  void Register(const std::string& job_class, JobHandler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handlers_[job_class] = std::move(handler);
  }

  absl::Status Start(int concurrency);
  void Stop();

 private:
  void Handle(client::Message& message);
  absl::Status Run(const Job& job);
  void Fail(client::Message& message, const absl::StatusOr<ParsedJob>& parsed,
            const absl::Status& error);
  // A blocking publish to `topic` on the nsqd at `nsqd_address` (DPUB when delay > 0).
  absl::Status PublishTo(const std::string& nsqd_address, const std::string& topic,
                         const std::string& body, milliseconds delay = milliseconds(0));
  milliseconds RetryDelay(int retry_count) const {
    return std::clamp(options_.retry_delay(retry_count), milliseconds(0), options_.max_retry_delay);
  }

  const std::string queue_;
  const std::string dead_topic_;
  WorkerOptions options_;
  internal::RecentJids recent_;

  std::mutex mu_;
  std::map<std::string, JobHandler> handlers_;
  bool started_ = false;
  // Retries and dead letters go back to the nsqd the job came from; one producer per nsqd.
  std::map<std::string, std::shared_ptr<client::Producer>> producers_;
  std::unique_ptr<client::Consumer> consumer_;
};

absl::Status Worker::Core::Start(int concurrency) {
  if (absl::Status valid = ValidateQueueName(queue_); !valid.ok()) return valid;
  if (options_.nsqd_tcp_addresses.empty() && options_.lookupd_http_addresses.empty()) {
    return absl::InvalidArgumentError("no nsqd or nsqlookupd address to consume from");
  }
  concurrency = std::max(concurrency, 1);
  client::Config config = options_.config;
  config.max_in_flight = std::max(config.max_in_flight, concurrency);
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return absl::FailedPreconditionError("worker was started before");
  started_ = true;
  consumer_ = std::make_unique<client::Consumer>(queue_, options_.channel, config);
  consumer_->SetHandler(
      [this](client::Message& message) {
        Handle(message);
        return absl::OkStatus();
      },
      concurrency);
  for (const std::string& address : options_.nsqd_tcp_addresses) {
    if (absl::Status s = consumer_->ConnectToNsqd(address); !s.ok()) return s;
  }
  for (const std::string& address : options_.lookupd_http_addresses) {
    if (absl::Status s = consumer_->ConnectToNsqLookupd(address); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void Worker::Core::Stop() {
  client::Consumer* consumer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;  // a stopped worker cannot start again
    consumer = consumer_.get();
  }
  // Not under mu_: the handlers being waited for take it.
  if (consumer != nullptr) consumer->Stop();
  std::map<std::string, std::shared_ptr<client::Producer>> producers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    producers.swap(producers_);
  }
  for (auto& [address, producer] : producers) producer->Stop();
}

void Worker::Core::Handle(client::Message& message) {
  message.DisableAutoResponse();
  absl::StatusOr<ParsedJob> parsed = ParseJob(message.body(), queue_, message.attempts());
  if (!parsed.ok()) {
    Fail(message, parsed, parsed.status());
    return;
  }
  const std::string& jid = parsed->job.jid;
  const bool dedupe = options_.dedupe_window.count() > 0 && !jid.empty();
  if (dedupe && !recent_.Claim(jid, internal::RecentJids::Clock::now())) {
    CLIENT_LOG(options_.config, LogLevel::kInfo,
               "queue %s: jid %s ran already (or is running): duplicate dropped", queue_, jid);
    message.Finish();
    return;
  }
  absl::Status status = Run(parsed->job);
  if (status.ok()) {
    if (dedupe) recent_.Done(jid, internal::RecentJids::Clock::now());
    message.Finish();
    return;
  }
  if (dedupe) recent_.Release(jid);
  Fail(message, parsed, status);
}

absl::Status Worker::Core::Run(const Job& job) {
  JobHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // An ActiveJob runs on its real class's handler when there is one, else on the wrapper's.
    auto it = job.wrapped.empty() ? handlers_.end() : handlers_.find(job.wrapped);
    if (it == handlers_.end()) it = handlers_.find(job.job_class);
    if (it != handlers_.end()) handler = it->second;
  }
  if (!handler) {
    const std::string named =
        job.wrapped.empty()
            ? absl::StrCat("\"", job.job_class, "\"")
            : absl::StrCat("\"", job.wrapped, "\" (or its wrapper \"", job.job_class, "\")");
    CLIENT_LOG(options_.config, LogLevel::kError,
               "queue %s: no handler registered for job class %s (jid %s)", queue_, named,
               job.jid);
    return absl::NotFoundError(absl::StrCat("no handler registered for job class ", named));
  }
  try {
    return handler(job);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("handler threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("handler threw");
  }
}

void Worker::Core::Fail(client::Message& message, const absl::StatusOr<ParsedJob>& parsed,
                        const absl::Status& error) {
  const std::string error_message(error.message().substr(0, kMaxErrorMessage));
  if (!parsed.ok()) {
    // Retrying cannot fix a body that is not a job; keep it, unchanged, for a human.
    CLIENT_LOG(options_.config, LogLevel::kError,
               "queue %s: msg %s is not a job (%s); moving it to %s", queue_, message.id(),
               error_message, dead_topic_);
    if (absl::Status s = PublishTo(message.nsqd_address(), dead_topic_, message.body());
        !s.ok()) {
      CLIENT_LOG(options_.config, LogLevel::kError, "queue %s: dead letter failed: %s", queue_,
                 s.ToString());
      message.RequeueWithoutBackoff(RetryDelay(0));
      return;
    }
    message.Finish();
    return;
  }
  const Job& job = parsed->job;
  const int count = job.retry_count;
  // Sidekiq's fields of a failed job (failed_at at the first failure, retried_at at later ones).
  json::object failed = parsed->object;
  internal::RecordFailure(failed, count, error_message, absl::StatusCodeToString(error.code()),
                          std::chrono::system_clock::now());
  if (count < parsed->retry_limit) {
    const milliseconds delay = RetryDelay(count);
    CLIENT_LOG(options_.config, LogLevel::kWarning,
               "queue %s: job %s (%s) failed: %s; retry %d of %d in %dms", queue_, job.jid,
               job.job_class, error_message, count + 1, parsed->retry_limit, delay.count());
    // As Sidekiq's retry set: the job comes back with its failure recorded (a new message,
    // deferred on the nsqd it came from; its retry_count carries the count), and this one is
    // done. Should that publish fail, a REQ brings the job back unchanged (the count then
    // rides on nsqd's attempts).
    if (absl::Status s = PublishTo(message.nsqd_address(), queue_, ToJson(failed), delay);
        !s.ok()) {
      CLIENT_LOG(options_.config, LogLevel::kWarning,
                 "queue %s: publishing the retry of job %s failed (%s); requeued unchanged",
                 queue_, job.jid, s.ToString());
      message.RequeueWithoutBackoff(delay);
      return;
    }
    message.Finish();
    return;
  }
  if (!parsed->keep_dead) {
    CLIENT_LOG(options_.config, LogLevel::kError,
               "queue %s: job %s (%s) failed: %s; no retries left, discarded (dead: false)", queue_,
               job.jid, job.job_class, error_message);
    message.Finish();
    return;
  }
  CLIENT_LOG(options_.config, LogLevel::kError,
             "queue %s: job %s (%s) failed: %s; retries exhausted (%d), moving it to %s", queue_,
             job.jid, job.job_class, error_message, parsed->retry_limit, dead_topic_);
  if (absl::Status s = PublishTo(message.nsqd_address(), dead_topic_, ToJson(failed));
      !s.ok()) {
    // Requeued, the job comes back, fails again and gets another try at the dead letter.
    CLIENT_LOG(options_.config, LogLevel::kError, "queue %s: dead letter of job %s failed: %s",
               queue_, job.jid, s.ToString());
    message.RequeueWithoutBackoff(RetryDelay(count));
    return;
  }
  message.Finish();
}

absl::Status Worker::Core::PublishTo(const std::string& nsqd_address, const std::string& topic,
                                     const std::string& body, milliseconds delay) {
  std::shared_ptr<client::Producer> producer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<client::Producer>& slot = producers_[nsqd_address];
    if (!slot) slot = std::make_shared<client::Producer>(nsqd_address, options_.config);
    producer = slot;
  }
  return delay > milliseconds(0) ? producer->DeferredPublish(topic, delay, body)
                                 : producer->Publish(topic, body);
}

Worker::Worker(std::string queue, WorkerOptions options)
    : core_(std::make_unique<Core>(std::move(queue), std::move(options))) {}

Worker::~Worker() { Stop(); }

void Worker::Register(const std::string& job_class, JobHandler handler) {
  core_->Register(job_class, std::move(handler));
}

absl::Status Worker::Start(int concurrency) { return core_->Start(concurrency); }

void Worker::Stop() { core_->Stop(); }

}  // namespace nsq::jobs
