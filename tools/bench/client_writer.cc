#include "tools/bench/client_writer.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "nsq/config.h"
#include "nsq/producer.h"
#include "tools/bench/client_config.h"

namespace nsq::bench {
namespace {

// The bodies of one publish: the full batch is built once, as an application batching a fixed
// number of messages would; a short last batch (--count) gets its own.
class Batches {
 public:
  Batches(const BenchOptions& options, std::string topic)
      : topic_(std::move(topic)),
        body_(static_cast<size_t>(options.size), 'x'),
        full_(static_cast<size_t>(options.batch_size), body_) {}

  absl::Status Publish(client::Producer& producer, int64_t count) const {
    if (count == 1) return producer.Publish(topic_, body_);
    if (count == static_cast<int64_t>(full_.size())) return producer.MultiPublish(topic_, full_);
    return producer.MultiPublish(topic_,
                                 std::vector<std::string>(static_cast<size_t>(count), body_));
  }

  void PublishAsync(client::Producer& producer, int64_t count, client::PublishCallback done) const {
    if (count == 1) {
      producer.PublishAsync(topic_, body_, std::move(done));
    } else if (count == static_cast<int64_t>(full_.size())) {
      producer.MultiPublishAsync(topic_, full_, std::move(done));
    } else {
      producer.MultiPublishAsync(
          topic_, std::vector<std::string>(static_cast<size_t>(count), body_), std::move(done));
    }
  }

 private:
  const std::string topic_;
  const std::string body_;
  const std::vector<std::string> full_;
};

// The async publishes of one producer that await their answer, shared between the publishing
// thread and the producer's callbacks (which run on the producer's thread).
class Outstanding {
 public:
  // Takes a slot once fewer than `limit` publishes are outstanding. False once a publish
  // failed: the worker should stop sending.
  bool Acquire(int64_t limit) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return in_flight_ < limit || !first_error_.ok(); });
    if (!first_error_.ok()) return false;
    ++in_flight_;
    return true;
  }

  // The callback of a publish of `messages` messages.
  void Done(int64_t messages, absl::Status status) {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (status.ok()) {
      acknowledged_ += messages;
    } else if (first_error_.ok()) {
      first_error_ = std::move(status);
    }
    changed_.notify_all();
  }

  // Waits for every answer; returns the first error, if any.
  absl::Status WaitForAll() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return in_flight_ == 0; });
    return first_error_;
  }

  int64_t acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int64_t in_flight_ = 0;     // guarded by mu_
  int64_t acknowledged_ = 0;  // guarded by mu_
  absl::Status first_error_;  // guarded by mu_
};

absl::Status PublishSync(BenchRun& run, client::Producer& producer, const Batches& batches,
                         Clock::time_point end) {
  const BenchOptions& options = run.options();
  int64_t acknowledged = 0;
  absl::Status status;
  while (!run.abort_flag().load(std::memory_order_relaxed)) {
    int64_t count = run.ClaimMessages(options.batch_size);
    if (count == 0) break;
    status = batches.Publish(producer, count);
    if (!status.ok()) break;
    acknowledged += count;
    // As the raw writer: the clock is checked after each answer.
    if (Clock::now() > end) break;
  }
  run.AddMessages(acknowledged);
  return status;
}

absl::Status PublishAsync(BenchRun& run, client::Producer& producer, const Batches& batches,
                          Outstanding& outstanding, Clock::time_point end) {
  const BenchOptions& options = run.options();
  while (!run.abort_flag().load(std::memory_order_relaxed)) {
    int64_t count = run.ClaimMessages(options.batch_size);
    if (count == 0 || !outstanding.Acquire(options.pipeline)) break;
    batches.PublishAsync(producer, count, [&outstanding, count](absl::Status status) {
      outstanding.Done(count, std::move(status));
    });
    if (Clock::now() > end) break;
  }
  // Like the raw writer at the end of a run: every counted message was acknowledged.
  absl::Status status = outstanding.WaitForAll();
  run.AddMessages(outstanding.acknowledged());
  return status;
}

absl::Status ProducerThread(BenchRun& run) {
  const BenchOptions& options = run.options();
  // Declared before the producer so it outlives the producer's thread and its callbacks.
  Outstanding outstanding;
  client::Producer producer(options.nsqd_tcp_address, ClientConfigFor(options));
  if (absl::Status status = producer.status(); !status.ok()) return status;
  const Batches batches(options, run.WorkerTopic());

  // Connected before the clock starts, as the raw writer is (Ping dials without publishing).
  if (absl::Status status = producer.Ping(); !status.ok()) {
    return status;
  }
  const Clock::time_point end = run.WaitForStart();
  return options.async ? PublishAsync(run, producer, batches, outstanding, end)
                       : PublishSync(run, producer, batches, end);
}

}  // namespace

absl::StatusOr<BenchResult> RunClientWriter(const BenchOptions& options) {
  return RunConnections(options, StopRule::kWorkersFinish, ProducerThread);
}

}  // namespace nsq::bench
