#include "nsq/consumer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/src/conn.h"
#include "client/src/handler_call.h"
#include "client/src/log.h"
#include "client/src/lookupd_query.h"
#include "client/src/message_pool.h"
#include "client/src/message_state.h"
#include "client/src/tls.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/command.h"
#include "common/protocol/message.h"
#include "common/protocol/names.h"

namespace nsq::client {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// In backoff with no connection to test on, look again after this long.
constexpr auto kBackoffRetry = std::chrono::seconds(1);

void LogCoroutineFailure(const Config& config, std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    CLIENT_LOG(config, LogLevel::kError, "consumer coroutine failed: %s", e.what());
  }
}

}  // namespace

// The consumer's state. Fields marked "io" belong to the io thread; the handler side is guarded
// by mu_, the work queue by work_mu_ and the queue of answers by responses_mu_. The io_context
// is the first member so that it is destroyed last.
//
// Throughput: messages decoded from one read are handed to the handler threads together (one
// lock, and a wake-up only for handler threads that are asleep), and the FIN/REQ/TOUCH answers
// collect in one queue that the io thread drains as a batch (one post per batch, not per
// message), so its commands leave in one write.
class Consumer::Core : public internal::Responder, public std::enable_shared_from_this<Core> {
 public:
  Core(std::string topic, std::string channel, Config config)
      : work_guard_(asio::make_work_guard(io_)),
        topic_(std::move(topic)),
        channel_(std::move(channel)),
        config_(std::move(config)),
        poll_timer_(io_),
        backoff_timer_(io_),
        redistribute_timer_(io_),
        drain_timer_(io_),
        rng_(std::random_device{}()) {
    init_status_ = config_.Validate();
    if (init_status_.ok() && !protocol::IsValidTopicName(topic_)) {
      init_status_ = absl::InvalidArgumentError(
          absl::StrCat("topic name ", protocol::QuoteName(topic_), " is not valid"));
    }
    if (init_status_.ok() && !protocol::IsValidChannelName(channel_)) {
      init_status_ = absl::InvalidArgumentError(
          absl::StrCat("channel name ", protocol::QuoteName(channel_), " is not valid"));
    }
    tls_context_ = internal::TlsContextFor(config_, &init_status_);
    // Enough spare states for a full window of messages plus the ones being handed over.
    pool_ = internal::MessagePool::Create(static_cast<size_t>(std::max(0, config_.max_in_flight)) +
                                          1024);
    max_in_flight_ = config_.max_in_flight;
    max_in_flight_now_ = max_in_flight_;
    io_thread_ = std::thread([this] { io_.run(); });
  }
  // Runs after Stop() joined the io thread (the Consumer stops before letting go of the Core).
  ~Core() override { pool_->Close(); }

  // --- any thread ---
  void Respond(const internal::MessageState& message, internal::Response response,
               milliseconds delay) override;
  void SetHandler(Handler handler, int concurrency);
  void SetGiveUpHandler(GiveUpHandler handler);
  void SetDiscoveryFilter(DiscoveryFilter filter);
  absl::Status ConnectToNsqd(const std::string& address);
  absl::Status ConnectToNsqLookupd(const std::string& address);
  void StopAsync();
  void Stop();
  bool Stopped() const;
  bool WaitStopped(milliseconds timeout) const;
  ConsumerStats Stats() const;
  bool IsStarved() const;
  absl::Status ChangeMaxInFlight(int max_in_flight);
  absl::Status DisconnectFromNsqd(const std::string& address);
  absl::Status DisconnectFromNsqLookupd(const std::string& address);

 private:
  enum class Phase { kConnecting, kSubscribing, kSubscribed, kClosing };
  enum class Signal { kResume, kBackoff, kContinue };

  // What Stats() reports of one connection: written on the io thread, read from any.
  struct ConnCounters {
    std::string address;
    bool from_lookupd = false;
    std::atomic<bool> subscribed{false};
    std::atomic<bool> closing{false};  // RDY 0 and CLS sent, or closed before subscribing
    std::atomic<int64_t> in_flight{0};
    std::atomic<int64_t> rdy{0};
    std::atomic<uint64_t> received{0};
    std::atomic<uint64_t> finished{0};
    std::atomic<uint64_t> requeued{0};
  };

  struct ConnState {
    std::string address;
    std::shared_ptr<ConnCounters> counters;
    bool from_lookupd = false;
    std::shared_ptr<internal::Conn> conn;
    Phase phase = Phase::kConnecting;
    bool subscribed = false;  // reached kSubscribed once (counted in Stats().connections)
    bool retiring = false;    // closed on purpose: do not reconnect
    bool close_wait = false;  // nsqd answered CLS
    int64_t rdy = 0;          // the last RDY sent
    int64_t max_rdy = 2500;   // from the IDENTIFY reply
    int64_t in_flight = 0;    // received, not yet answered
    Clock::time_point last_message;
    Clock::time_point rdy_since;
  };

  struct Work {
    std::shared_ptr<internal::MessageState> message;
    bool give_up = false;
  };

  // A FIN/REQ/TOUCH on its way from any thread to the io thread.
  struct PendingResponse {
    uint64_t conn_id = 0;
    std::string_view id() const { return {id_bytes.data(), id_length}; }
    std::array<char, protocol::kMessageIdLength> id_bytes{};
    size_t id_length = 0;
    uint16_t attempts = 0;
    internal::Response response = internal::Response::kFinish;
    milliseconds delay{0};
  };

  // Handler threads.
  void WorkerLoop();
  // The handler (or give-up handler) on one message: a handler thread's, or with
  // concurrency 0 the io thread's.
  void RunWork(Work& work);

  // io thread.
  void AddConn(const std::string& address, bool from_lookupd);
  void OnReady(uint64_t id, const protocol::IdentifyResponse& identify);
  void OnFrame(uint64_t id, protocol::Frame& frame);
  void OnMessage(ConnState& conn, uint64_t id, const protocol::Frame& frame);
  void OnConnClosed(uint64_t id, const absl::Status& status);
  void FlushWork();
  void DrainResponses();
  void OnResponse(const PendingResponse& pending);
  void CloseConn(ConnState& conn);
  void MaybeCloseConn(ConnState& conn);
  void SendRdy(ConnState& conn, int64_t count);
  void UpdateRdy();
  void Backoff(Signal signal);
  milliseconds BackoffDuration(int attempt) const;
  void StartRedistributeTimer();
  void ReconnectLater(const std::string& address);
  static asio::awaitable<void> PollLoop(Core* self);
  asio::awaitable<void> QueryLookupds();
  void BeginStop();
  void RequeueWork(std::vector<Work>& work);
  void ForceClose();
  void MaybeFinishStop();
  // Any thread, once: waits for the stop (at most until the drain deadline), then ends the io
  // thread and the handler threads.
  void FinishStop();
  // work_mu_ held.
  void CheckStoppedLocked();

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_guard_;
  const std::string topic_;
  const std::string channel_;
  const Config config_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // with tls_v1; shared by the connections
  absl::Status init_status_;

  // Handler side, guarded by mu_.
  mutable std::mutex mu_;
  Handler handler_;
  GiveUpHandler give_up_;
  DiscoveryFilter discovery_filter_;
  bool stop_requested_ = false;
  std::set<std::string> direct_addresses_;
  std::set<std::string> lookupd_addresses_;
  std::vector<std::thread> workers_;
  std::once_flag join_once_;
  Clock::time_point stop_deadline_;  // Stop's start + drain_timeout

  // Messages waiting for a handler thread, guarded by work_mu_.
  mutable std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<Work> work_;
  int idle_workers_ = 0;  // handler threads waiting on work_cv_
  bool work_closed_ = false;
  // Set when stopping takes back the queued work: handler threads give back the rest of the
  // batch they took too.
  std::atomic<bool> work_withdrawn_{false};
  static constexpr size_t kMaxWorkBatch = 64;
  // Stopping, also guarded by work_mu_: stopped_ once every connection is closed (io_done_)
  // and every handler thread has returned.
  mutable std::condition_variable stopped_cv_;
  bool io_done_ = false;
  int live_workers_ = 0;
  // SetHandler(handler, 0): handlers run on the io thread. Set before connecting.
  bool inline_handler_ = false;
  std::set<std::thread::id> finished_workers_;
  bool stopped_ = false;

  // Answers waiting for the io thread, guarded by responses_mu_.
  std::mutex responses_mu_;
  std::vector<PendingResponse> responses_;
  bool drain_posted_ = false;  // a DrainResponses is queued on the io thread


  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> finished_{0};
  std::atomic<uint64_t> requeued_{0};
  std::atomic<int> connections_{0};
  std::atomic<int> backoff_level_{0};
  std::atomic<int64_t> max_in_flight_now_{0};  // mirror of max_in_flight_ for Stats()
  // Every connection's counters, guarded by stats_mu_.
  mutable std::mutex stats_mu_;
  std::map<uint64_t, std::shared_ptr<ConnCounters>> conn_counters_;

  // io thread.
  std::map<uint64_t, ConnState> conns_;
  internal::MessagePool* pool_;  // closes itself once closed here and every state is back
  std::vector<Work> new_work_;  // decoded in this read, handed over by FlushWork
  bool flush_posted_ = false;
  Clock::time_point batch_time_;  // when the messages waiting for FlushWork arrived
  std::vector<PendingResponse> draining_;
  std::string command_;  // scratch for encoding one command
  std::vector<ConnState*> rdy_ready_;  // scratch of UpdateRdy
  std::vector<int64_t> rdy_target_;    // scratch of UpdateRdy
  uint64_t next_conn_id_ = 1;
  std::vector<std::string> lookupds_;
  bool polling_ = false;
  asio::steady_timer poll_timer_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer redistribute_timer_;
  asio::steady_timer drain_timer_;
  bool redistributing_ = false;
  int backoff_counter_ = 0;
  int64_t max_in_flight_ = 0;  // Config::max_in_flight, then ChangeMaxInFlight's
  bool in_backoff_timeout_ = false;
  size_t rotate_index_ = 0;
  bool stopping_ = false;
  bool stop_signalled_ = false;
  std::mt19937_64 rng_;

  std::thread io_thread_;
};

// ---------------------------------------------------------------- any thread

void Consumer::Core::SetHandler(Handler handler, int concurrency) {
  std::lock_guard<std::mutex> lock(mu_);
  if (handler_ || stop_requested_ || !handler) {
    CLIENT_LOG(config_, LogLevel::kError, "SetHandler ignored: %s",
               handler_   ? "a handler is set already"
               : !handler ? "empty handler"
                          : "stopped");
    return;
  }
  handler_ = std::move(handler);
  // 0: handlers run on the io thread as messages arrive (no threads, no hand-off).
  inline_handler_ = concurrency == 0;
  const int threads = inline_handler_ ? 0 : std::max(1, concurrency);
  {
    std::lock_guard<std::mutex> work_lock(work_mu_);
    live_workers_ = threads;
  }
  // Each thread keeps the Core alive: a handler still running when Stop() gives up on it
  // (see FinishStop) ends on a detached thread.
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([self = shared_from_this()] { self->WorkerLoop(); });
  }
}

void Consumer::Core::SetGiveUpHandler(GiveUpHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  give_up_ = std::move(handler);
}

void Consumer::Core::SetDiscoveryFilter(DiscoveryFilter filter) {
  std::lock_guard<std::mutex> lock(mu_);
  discovery_filter_ = std::move(filter);
}

absl::Status Consumer::Core::ConnectToNsqd(const std::string& address) {
  if (!init_status_.ok()) return init_status_;
  absl::Status valid = internal::ValidateTcpAddress(address);
  if (!valid.ok()) return valid;
  std::lock_guard<std::mutex> lock(mu_);
  if (!handler_) return absl::FailedPreconditionError("set a handler before connecting");
  if (stop_requested_) return absl::FailedPreconditionError("consumer is stopped");
  if (!direct_addresses_.insert(address).second) {
    return absl::AlreadyExistsError(absl::StrCat("already connected to ", address));
  }
  asio::post(io_, [this, address] { AddConn(address, /*from_lookupd=*/false); });
  return absl::OkStatus();
}

absl::Status Consumer::Core::ConnectToNsqLookupd(const std::string& address) {
  if (!init_status_.ok()) return init_status_;
  absl::Status valid = internal::ParseLookupdAddress(address).status();
  if (!valid.ok()) return valid;
  std::lock_guard<std::mutex> lock(mu_);
  if (!handler_) return absl::FailedPreconditionError("set a handler before connecting");
  if (stop_requested_) return absl::FailedPreconditionError("consumer is stopped");
  if (!lookupd_addresses_.insert(address).second) {
    return absl::AlreadyExistsError(absl::StrCat("already using lookupd ", address));
  }
  asio::post(io_, [this, address] {
    if (stopping_) return;
    lookupds_.push_back(address);
    if (polling_) {
      poll_timer_.cancel();  // ask the new lookupd now
      return;
    }
    polling_ = true;
    const Config& config = config_;
    asio::co_spawn(io_, PollLoop(this),
                   [&config](std::exception_ptr e) { LogCoroutineFailure(config, e); });
  });
  return absl::OkStatus();
}

void Consumer::Core::Respond(const internal::MessageState& message, internal::Response response,
                             milliseconds delay) {
  PendingResponse pending;
  pending.conn_id = message.conn_id;
  pending.id_length = std::min(message.id.size(), pending.id_bytes.size());
  message.id.copy(pending.id_bytes.data(), pending.id_length);
  pending.attempts = message.attempts;
  pending.response = response;
  pending.delay = delay;
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(responses_mu_);
    responses_.push_back(pending);
    post = !drain_posted_;
    drain_posted_ = true;
  }
  if (post) asio::post(io_, [this] { DrainResponses(); });
}

void Consumer::Core::StopAsync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_requested_) return;
  stop_requested_ = true;
  stop_deadline_ = Clock::now() + config_.drain_timeout;
  asio::post(io_, [this] { BeginStop(); });
}

void Consumer::Core::Stop() {
  StopAsync();
  bool on_own_thread = std::this_thread::get_id() == io_thread_.get_id();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::thread& worker : workers_) {
      if (worker.get_id() == std::this_thread::get_id()) on_own_thread = true;
    }
  }
  if (on_own_thread) return;  // called from a handler or callback: stopping has begun
  std::call_once(join_once_, [this] { FinishStop(); });
}

void Consumer::Core::FinishStop() {
  // The drain timer closes every connection at the deadline; this slack only covers the io
  // thread's own work of closing them.
  constexpr auto kSlack = std::chrono::seconds(2);
  Clock::time_point deadline;
  {
    std::lock_guard<std::mutex> lock(mu_);
    deadline = stop_deadline_;
  }
  bool io_done = false;
  int running = 0;
  std::set<std::thread::id> finished;
  {
    std::unique_lock<std::mutex> lock(work_mu_);
    stopped_cv_.wait_until(lock, deadline, [this] { return stopped_; });
    // Past the deadline, handlers still running are not waited for; the connections are.
    stopped_cv_.wait_until(lock, deadline + kSlack, [this] { return stopped_ || io_done_; });
    io_done = io_done_;
    running = live_workers_;
    finished = finished_workers_;
    work_closed_ = true;
    work_.clear();
  }
  work_cv_.notify_all();
  if (!io_done) {
    CLIENT_LOG(config_, LogLevel::kError,
               "consumer of %s/%s: connections not closed %dms after the drain deadline; "
               "dropping them",
               topic_, channel_, std::chrono::duration_cast<milliseconds>(kSlack).count());
  }
  io_.stop();
  io_thread_.join();
  for (std::thread& worker : workers_) {
    if (finished.count(worker.get_id()) != 0) {
      worker.join();
    } else {
      worker.detach();
    }
  }
  if (running > 0) {
    CLIENT_LOG(config_, LogLevel::kError,
               "consumer of %s/%s: %d handlers still running past drain_timeout (%dms); left to "
               "finish on their own threads, their answers are ignored (nsqd redelivers)",
               topic_, channel_, running, config_.drain_timeout.count());
  }
  // Over once Stop() returns, even when idle handler threads (detached above, having not yet
  // seen work_closed_) or abandoned handlers have not exited yet: Stopped() must not say
  // otherwise after Stop().
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

bool Consumer::Core::Stopped() const {
  std::lock_guard<std::mutex> lock(work_mu_);
  return stopped_;
}

bool Consumer::Core::WaitStopped(milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(work_mu_);
  return stopped_cv_.wait_for(lock, timeout, [this] { return stopped_; });
}

void Consumer::Core::CheckStoppedLocked() {
  if (stopped_ || !io_done_ || live_workers_ > 0) return;
  stopped_ = true;
  stopped_cv_.notify_all();
}

bool Consumer::Core::IsStarved() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  for (const auto& [id, counters] : conn_counters_) {
    // go-nsq's test: 85% of the connection's last RDY taken by unanswered messages.
    const int64_t in_flight = counters->in_flight.load(std::memory_order_relaxed);
    const int64_t threshold = counters->rdy.load(std::memory_order_relaxed) * 85 / 100;
    if (in_flight > 0 && in_flight >= threshold &&
        !counters->closing.load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

ConsumerStats Consumer::Core::Stats() const {
  ConsumerStats stats;
  stats.messages_received = received_;
  stats.messages_finished = finished_;
  stats.messages_requeued = requeued_;
  stats.connections = connections_;
  stats.backoff_level = backoff_level_.load(std::memory_order_relaxed);
  stats.max_in_flight = max_in_flight_now_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(stats_mu_);
  for (const auto& [id, counters] : conn_counters_) {
    ConnectionStats conn;
    conn.address = counters->address;
    conn.from_lookupd = counters->from_lookupd;
    conn.subscribed = counters->subscribed.load(std::memory_order_relaxed);
    conn.in_flight = counters->in_flight.load(std::memory_order_relaxed);
    conn.rdy = counters->rdy.load(std::memory_order_relaxed);
    conn.messages_received = counters->received.load(std::memory_order_relaxed);
    conn.messages_finished = counters->finished.load(std::memory_order_relaxed);
    conn.messages_requeued = counters->requeued.load(std::memory_order_relaxed);
    conn.backoff_level = stats.backoff_level;
    stats.per_connection.push_back(std::move(conn));
  }
  return stats;
}

absl::Status Consumer::Core::ChangeMaxInFlight(int max_in_flight) {
  if (max_in_flight < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("max_in_flight %d is negative (0 pauses)", max_in_flight));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_requested_) return absl::FailedPreconditionError("consumer is stopped");
  max_in_flight_now_ = max_in_flight;
  asio::post(io_, [this, max_in_flight] {
    if (stopping_ || max_in_flight == max_in_flight_) return;
    CLIENT_LOG(config_, LogLevel::kInfo, "max_in_flight %d -> %d%s", max_in_flight_,
               max_in_flight, max_in_flight == 0 ? " (paused)" : "");
    max_in_flight_ = max_in_flight;
    UpdateRdy();
  });
  return absl::OkStatus();
}

absl::Status Consumer::Core::DisconnectFromNsqd(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (direct_addresses_.erase(address) == 0) {
    return absl::NotFoundError(absl::StrCat("not connected to nsqd ", address));
  }
  asio::post(io_, [this, address] {
    for (auto& [id, conn] : conns_) {
      if (conn.address != address || conn.from_lookupd || conn.retiring) continue;
      CLIENT_LOG(config_, LogLevel::kInfo, "(%s) disconnecting", address);
      conn.retiring = true;
      CloseConn(conn);
    }
  });
  return absl::OkStatus();
}

absl::Status Consumer::Core::DisconnectFromNsqLookupd(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lookupd_addresses_.count(address) == 0) {
    return absl::NotFoundError(absl::StrCat("not using lookupd ", address));
  }
  if (lookupd_addresses_.size() == 1) {
    // As go-nsq: the nsqd found through it would otherwise never be looked up again.
    return absl::FailedPreconditionError(
        absl::StrCat("cannot disconnect from the only nsqlookupd (", address, ")"));
  }
  lookupd_addresses_.erase(address);
  asio::post(io_, [this, address] {
    lookupds_.erase(std::remove(lookupds_.begin(), lookupds_.end(), address), lookupds_.end());
  });
  return absl::OkStatus();
}

// ---------------------------------------------------------------- handler threads

void Consumer::Core::WorkerLoop() {
  std::vector<Work> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(work_mu_);
      if (work_.empty() && !work_closed_) {
        ++idle_workers_;
        work_cv_.wait(lock, [this] { return !work_.empty() || work_closed_; });
        --idle_workers_;
      }
      if (work_.empty()) {
        --live_workers_;
        finished_workers_.insert(std::this_thread::get_id());
        CheckStoppedLocked();
        return;
      }
      // The only handler thread takes what is queued (up to kMaxWorkBatch) under one lock;
      // several take one message at a time, so that a slow handler holds no others back.
      const size_t take = live_workers_ == 1 ? std::min(work_.size(), kMaxWorkBatch) : 1;
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(work_.front()));
        work_.pop_front();
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (work_withdrawn_.load(std::memory_order_relaxed)) {
        // Stopping: what no handler has started goes back to nsqd, as BeginStop does with the
        // queue.
        std::vector<Work> rest(std::make_move_iterator(batch.begin() + static_cast<long>(i)),
                               std::make_move_iterator(batch.end()));
        RequeueWork(rest);
        break;
      }
      RunWork(batch[i]);
      batch[i] = Work();  // the last handle: the state goes back to the pool now
    }
    batch.clear();
  }
}

void Consumer::Core::RunWork(Work& work) {
  Message message(work.message);
  if (work.give_up) {
    GiveUpHandler give_up;
    {
      std::lock_guard<std::mutex> lock(mu_);
      give_up = give_up_;
    }
    if (give_up) {
      give_up(message);
    } else {
      CLIENT_LOG(config_, LogLevel::kWarning,
                 "(%s) msg %s attempted %d times, giving up; body: %s", message.nsqd_address(),
                 message.id(), message.attempts(), message.body().substr(0, 256));
    }
    if (!message.IsAutoResponseDisabled()) message.Finish();
    return;
  }
  const absl::Status status = internal::HandleAndRespond(handler_, message);
  if (!status.ok() && !message.IsAutoResponseDisabled()) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) handler failed for msg %s (attempt %d): %s",
               message.nsqd_address(), message.id(), message.attempts(), status.ToString());
  }
}

// ---------------------------------------------------------------- io thread

void Consumer::Core::AddConn(const std::string& address, bool from_lookupd) {
  if (stopping_) return;
  for (const auto& [id, conn] : conns_) {
    if (conn.address == address) return;
  }
  const uint64_t id = next_conn_id_++;
  ConnState& state = conns_[id];
  state.address = address;
  state.from_lookupd = from_lookupd;
  state.counters = std::make_shared<ConnCounters>();
  state.counters->address = address;
  state.counters->from_lookupd = from_lookupd;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    conn_counters_[id] = state.counters;
  }
  internal::Conn::Callbacks callbacks;
  callbacks.on_ready = [this, id](const protocol::IdentifyResponse& identify) {
    OnReady(id, identify);
  };
  callbacks.on_frame = [this, id](protocol::Frame& frame) { OnFrame(id, frame); };
  callbacks.on_closed = [this, id](const absl::Status& status) { OnConnClosed(id, status); };
  state.conn = std::make_shared<internal::Conn>(io_.get_executor(), address, config_, tls_context_,
                                                std::move(callbacks));
  CLIENT_LOG(config_, LogLevel::kInfo, "(%s) connecting to nsqd", address);
  state.conn->Start();
  StartRedistributeTimer();
}

void Consumer::Core::OnReady(uint64_t id, const protocol::IdentifyResponse& identify) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  ConnState& conn = it->second;
  conn.max_rdy = identify.max_rdy_count;
  conn.phase = Phase::kSubscribing;
  std::string sub;
  protocol::EncodeSub(topic_, channel_, &sub);
  conn.conn->Send(sub);
}

void Consumer::Core::OnFrame(uint64_t id, protocol::Frame& frame) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  ConnState& conn = it->second;
  switch (frame.type) {
    case protocol::FrameType::kMessage:
      OnMessage(conn, id, frame);
      return;
    case protocol::FrameType::kError:
      if (internal::IsNonFatalError(frame.data)) {
        CLIENT_LOG(config_, LogLevel::kWarning, "(%s) %s", conn.address, frame.data);
        return;
      }
      CLIENT_LOG(config_, LogLevel::kError, "(%s) nsqd error: %s", conn.address, frame.data);
      conn.conn->Close(internal::StatusFromErrorFrame(frame.data));
      return;
    case protocol::FrameType::kResponse:
      break;
  }
  if (conn.phase == Phase::kSubscribing) {
    if (frame.data != protocol::kOk) {
      conn.conn->Close(absl::InternalError(absl::StrCat("unexpected SUB reply: ", frame.data)));
      return;
    }
    conn.phase = Phase::kSubscribed;
    conn.subscribed = true;
    conn.counters->subscribed = true;
    conn.last_message = Clock::now();
    ++connections_;
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) subscribed to %s/%s", conn.address, topic_,
               channel_);
    if (stopping_) {
      CloseConn(conn);
      return;
    }
    UpdateRdy();
    return;
  }
  if (frame.data == protocol::kCloseWait) {
    conn.close_wait = true;
    MaybeCloseConn(conn);
  }
}

void Consumer::Core::OnMessage(ConnState& conn, uint64_t id, const protocol::Frame& frame) {
  // [8 timestamp][2 attempts][16 id][body]; decoded here so the body is copied only once.
  const std::string_view data = frame.data;
  if (data.size() < protocol::kMessageHeaderLength) {
    conn.conn->Close(
        absl::DataLossError("undecodable message: not enough data to decode valid message"));
    return;
  }
  // One clock read per read batch: its messages arrived together.
  if (!flush_posted_) batch_time_ = Clock::now();
  ++conn.in_flight;
  conn.counters->in_flight.store(conn.in_flight, std::memory_order_relaxed);
  conn.counters->received.fetch_add(1, std::memory_order_relaxed);
  conn.last_message = batch_time_;
  ++received_;
  std::shared_ptr<internal::MessageState> state = pool_->Acquire();
  state->timestamp = static_cast<int64_t>(protocol::LoadBigEndian64(data.data()));
  state->attempts = protocol::LoadBigEndian16(data.data() + 8);
  state->id.assign(data.substr(10, protocol::kMessageIdLength));
  state->body.assign(data.substr(protocol::kMessageHeaderLength));
  state->nsqd_address = conn.address;
  state->conn_id = id;
  if (state->responder.expired()) state->responder = weak_from_this();  // a new pool slot
  if (stopping_) {
    // Sent before nsqd read our RDY 0: not ours to handle any more.
    Message(std::move(state)).RequeueWithoutBackoff(milliseconds(0));
    return;
  }
  const bool give_up = config_.max_attempts > 0 && state->attempts > config_.max_attempts;
  new_work_.push_back(Work{std::move(state), give_up});
  // The rest of this read is decoded before the posted flush runs: one hand-over per read.
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(io_, [this] { FlushWork(); });
  }
}

void Consumer::Core::FlushWork() {
  flush_posted_ = false;
  if (new_work_.empty()) return;
  if (stopping_) {
    RequeueWork(new_work_);
    return;
  }
  if (inline_handler_) {
    // Handlers may call back into the consumer (Stop, ChangeMaxInFlight): work on a copy.
    std::vector<Work> batch;
    batch.swap(new_work_);
    for (Work& work : batch) RunWork(work);
    return;
  }
  const size_t count = new_work_.size();
  int idle = 0;
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    for (Work& work : new_work_) work_.push_back(std::move(work));
    idle = idle_workers_;
  }
  new_work_.clear();
  // Busy handler threads pick the work up without being told; wake only as many sleeping ones
  // as there are messages (one futex call for all of them when that is every sleeper).
  if (idle == 0) return;
  if (count >= static_cast<size_t>(idle)) {
    work_cv_.notify_all();
  } else {
    for (size_t i = 0; i < count; ++i) work_cv_.notify_one();
  }
}

void Consumer::Core::DrainResponses() {
  {
    std::lock_guard<std::mutex> lock(responses_mu_);
    draining_.swap(responses_);
    drain_posted_ = false;
  }
  for (const PendingResponse& pending : draining_) OnResponse(pending);
  draining_.clear();
}

void Consumer::Core::OnResponse(const PendingResponse& pending) {
  auto it = conns_.find(pending.conn_id);
  if (it == conns_.end()) {
    if (pending.response != internal::Response::kTouch) {
      CLIENT_LOG(config_, LogLevel::kDebug,
                 "msg %s: its connection is gone, nsqd will redeliver it", pending.id());
    }
    return;
  }
  ConnState& conn = it->second;
  command_.clear();
  Signal signal = Signal::kResume;
  switch (pending.response) {
    case internal::Response::kTouch:
      protocol::EncodeTouch(pending.id(), &command_);
      conn.conn->Send(command_);
      return;
    case internal::Response::kFinish:
      protocol::EncodeFin(pending.id(), &command_);
      ++finished_;
      conn.counters->finished.fetch_add(1, std::memory_order_relaxed);
      break;
    case internal::Response::kRequeue:
    case internal::Response::kRequeueWithoutBackoff: {
      milliseconds delay = pending.delay;
      if (delay < milliseconds(0)) {
        delay = std::min(config_.default_requeue_delay * pending.attempts,
                         config_.max_requeue_delay);
      }
      protocol::EncodeReq(pending.id(), delay.count(), &command_);
      ++requeued_;
      conn.counters->requeued.fetch_add(1, std::memory_order_relaxed);
      signal = pending.response == internal::Response::kRequeue ? Signal::kBackoff
                                                                : Signal::kContinue;
      break;
    }
  }
  // Backoff's RDY 0 goes out before the REQ: the other order would let nsqd fill the freed
  // slot with another message before it reads RDY 0.
  --conn.in_flight;
  conn.counters->in_flight.store(conn.in_flight, std::memory_order_relaxed);
  Backoff(signal);
  UpdateRdy();
  conn.conn->Send(command_);
  MaybeCloseConn(conn);
}

void Consumer::Core::OnConnClosed(uint64_t id, const absl::Status& status) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  const ConnState conn = it->second;
  conns_.erase(it);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    conn_counters_.erase(id);
  }
  if (conn.subscribed) --connections_;
  if (status.ok()) {
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) connection closed", conn.address);
  } else {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) connection closed: %s", conn.address,
               status.ToString());
  }
  if (!stopping_ && !conn.retiring) {
    if (conn.from_lookupd) {
      // Only a connection that was up asks lookupd again at once (as go-nsq does); a failed
      // dial waits for the next poll, or a listed but unreachable nsqd is redialled in a loop.
      if (conn.subscribed) poll_timer_.cancel();
    } else {
      ReconnectLater(conn.address);
    }
  }
  UpdateRdy();
  MaybeFinishStop();
}

void Consumer::Core::ReconnectLater(const std::string& address) {
  CLIENT_LOG(config_, LogLevel::kInfo, "(%s) reconnecting in %dms", address,
             config_.lookupd_poll_interval.count());
  auto timer = std::make_shared<asio::steady_timer>(io_, config_.lookupd_poll_interval);
  timer->async_wait([this, timer, address](boost::system::error_code) {
    if (stopping_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (direct_addresses_.count(address) == 0) return;  // DisconnectFromNsqd since
    }
    AddConn(address, /*from_lookupd=*/false);
  });
}

void Consumer::Core::CloseConn(ConnState& conn) {
  if (conn.phase == Phase::kClosing) return;
  conn.counters->closing.store(true, std::memory_order_relaxed);
  if (conn.phase != Phase::kSubscribed) {
    conn.phase = Phase::kClosing;
    conn.conn->Close(absl::CancelledError("closed before subscribing"));
    return;
  }
  SendRdy(conn, 0);
  std::string cls;
  protocol::EncodeCls(&cls);
  conn.conn->Send(cls);
  conn.phase = Phase::kClosing;
  MaybeCloseConn(conn);
}

void Consumer::Core::MaybeCloseConn(ConnState& conn) {
  if (conn.phase == Phase::kClosing && conn.close_wait && conn.in_flight <= 0) {
    conn.conn->CloseAfterFlush();
  }
}

void Consumer::Core::SendRdy(ConnState& conn, int64_t count) {
  count = std::min(count, conn.max_rdy);
  if (count == conn.rdy) return;
  std::string rdy;
  protocol::EncodeRdy(count, &rdy);
  conn.conn->Send(rdy);
  conn.rdy = count;
  conn.counters->rdy.store(count, std::memory_order_relaxed);
  conn.rdy_since = Clock::now();
}

// Keeps Σ over connections of max(RDY, in flight) within max_in_flight, so lowering RDY on one
// connection frees room for another only once its messages are answered.
void Consumer::Core::UpdateRdy() {
  if (stopping_) return;
  // Connections still being set up count toward the split, so that connecting to several
  // nsqd at once does not first hand everything to the fastest and then take it back (messages
  // already on their way under the old RDY would overshoot max_in_flight).
  // Runs after every answer, so it reuses its vectors instead of allocating.
  std::vector<ConnState*>& ready = rdy_ready_;
  ready.clear();
  size_t coming = 0;
  for (auto& [id, conn] : conns_) {
    if (conn.phase == Phase::kSubscribed) ready.push_back(&conn);
    if (conn.phase == Phase::kConnecting || conn.phase == Phase::kSubscribing) ++coming;
  }
  if (ready.empty()) return;
  const int64_t max_in_flight = max_in_flight_;
  if (max_in_flight == 0 || in_backoff_timeout_) {
    for (ConnState* conn : ready) SendRdy(*conn, 0);
    return;
  }
  auto used = [this] {
    int64_t total = 0;
    for (const auto& [id, conn] : conns_) total += std::max(conn.rdy, conn.in_flight);
    return total;
  };
  const size_t n = ready.size();
  const int64_t share_count = static_cast<int64_t>(n + coming);
  if (backoff_counter_ > 0) {
    // Testing the water after a backoff: one message at a time on one connection.
    for (ConnState* conn : ready) {
      if (conn->rdy > 0) return;
    }
    SendRdy(*ready[rotate_index_++ % n], 1);
    return;
  }
  if (share_count <= max_in_flight) {
    std::vector<int64_t>& target = rdy_target_;
    target.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      target[i] = max_in_flight / share_count +
                  (static_cast<int64_t>(i) < max_in_flight % share_count ? 1 : 0);
      if (target[i] < ready[i]->rdy) SendRdy(*ready[i], target[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      ConnState& conn = *ready[i];
      if (target[i] <= conn.rdy) continue;
      const int64_t room = max_in_flight - used();
      if (room <= 0) break;
      SendRdy(conn, std::min(target[i], conn.rdy + room));
    }
    return;
  }
  // More connections than max_in_flight: RDY 1 rotates. A connection gives its RDY back after
  // holding it for a redistribute interval, or when idle, if another one is waiting.
  const Clock::time_point now = Clock::now();
  const bool someone_waiting =
      std::any_of(ready.begin(), ready.end(), [](ConnState* c) { return c->rdy == 0; });
  if (someone_waiting) {
    for (ConnState* conn : ready) {
      if (conn->rdy > 0 && (now - conn->rdy_since >= std::min(config_.rdy_redistribute_interval,
                                                              config_.low_rdy_timeout) ||
                            now - conn->last_message >= config_.low_rdy_idle_timeout)) {
        SendRdy(*conn, 0);
      }
    }
  }
  int64_t room = max_in_flight - used();
  for (size_t k = 0; k < n && room > 0; ++k) {
    const size_t index = (rotate_index_ + k) % n;
    ConnState& conn = *ready[index];
    if (conn.rdy == 0 && conn.in_flight == 0) {
      SendRdy(conn, 1);
      --room;
      rotate_index_ = index + 1;
    }
  }
}

milliseconds Consumer::Core::BackoffDuration(int attempt) const {
  if (attempt >= 30) return config_.max_backoff_duration;
  return config_.backoff_multiplier * (int64_t{1} << attempt);
}

// go-nsq's startStopContinueBackoff: a failure raises the backoff level (while the next level
// stays within max_backoff_duration), a success lowers it; at level 0 RDY returns to normal,
// above it every connection gets RDY 0 for the level's duration and then one gets RDY 1.
void Consumer::Core::Backoff(Signal signal) {
  if (stopping_ || in_backoff_timeout_) return;
  if (config_.max_backoff_duration <= milliseconds(0)) return;
  bool updated = false;
  if (signal == Signal::kResume && backoff_counter_ > 0) {
    --backoff_counter_;
    updated = true;
  } else if (signal == Signal::kBackoff &&
             BackoffDuration(backoff_counter_ + 1) <= config_.max_backoff_duration) {
    ++backoff_counter_;
    updated = true;
  }
  backoff_level_.store(backoff_counter_, std::memory_order_relaxed);
  if (backoff_counter_ == 0) {
    if (updated) {
      CLIENT_LOG(config_, LogLevel::kInfo, "backoff complete, resuming normal RDY");
      UpdateRdy();
    }
    return;
  }
  milliseconds duration = std::min(BackoffDuration(backoff_counter_), config_.max_backoff_duration);
  if (config_.backoff_strategy == BackoffStrategy::kFullJitter && duration > milliseconds(0)) {
    // go-nsq's FullJitterStrategy: anywhere in [0, multiplier * 2^n).
    std::uniform_int_distribution<int64_t> jitter(0, duration.count() - 1);
    duration = milliseconds(jitter(rng_));
  }
  CLIENT_LOG(config_, LogLevel::kInfo, "backing off for %dms (level %d)", duration.count(),
             backoff_counter_);
  in_backoff_timeout_ = true;
  for (auto& [id, conn] : conns_) {
    if (conn.phase == Phase::kSubscribed) SendRdy(conn, 0);
  }
  backoff_timer_.expires_after(duration);
  backoff_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    in_backoff_timeout_ = false;
    bool any_ready = false;
    for (auto& [id, conn] : conns_) any_ready |= conn.phase == Phase::kSubscribed;
    if (!any_ready) {
      // Nothing to test on yet: stay backed off a little longer.
      in_backoff_timeout_ = true;
      backoff_timer_.expires_after(kBackoffRetry);
      backoff_timer_.async_wait([this](boost::system::error_code again) {
        if (again || stopping_) return;
        in_backoff_timeout_ = false;
        UpdateRdy();
      });
      return;
    }
    UpdateRdy();
  });
}

void Consumer::Core::StartRedistributeTimer() {
  if (redistributing_ || stopping_) return;
  redistributing_ = true;
  redistribute_timer_.expires_after(config_.rdy_redistribute_interval);
  redistribute_timer_.async_wait([this](boost::system::error_code ec) {
    redistributing_ = false;
    if (ec || stopping_) return;
    UpdateRdy();
    if (!conns_.empty()) StartRedistributeTimer();
  });
}

asio::awaitable<void> Consumer::Core::PollLoop(Core* self) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!self->stopping_) {
    co_await self->QueryLookupds();
    if (self->stopping_) break;
    const double jitter = self->config_.lookupd_poll_jitter * unit(self->rng_);
    const auto wait =
        self->config_.lookupd_poll_interval +
        std::chrono::duration_cast<milliseconds>(self->config_.lookupd_poll_interval * jitter);
    self->poll_timer_.expires_after(wait);
    co_await self->poll_timer_.async_wait(kUseAwaitable);
  }
}

asio::awaitable<void> Consumer::Core::QueryLookupds() {
  std::set<std::string> found;
  bool any_answer = false;
  const std::vector<std::string> lookupds = lookupds_;
  for (const std::string& lookupd : lookupds) {
    const std::string topic = topic_;
    absl::StatusOr<std::vector<std::string>> producers = co_await internal::FetchProducers(lookupd, topic);
    if (!producers.ok()) {
      CLIENT_LOG(config_, LogLevel::kWarning, "lookupd %s: /lookup?topic=%s failed: %s", lookupd,
                 topic_, producers.status().ToString());
      continue;
    }
    any_answer = true;
    found.insert(producers->begin(), producers->end());
  }
  if (stopping_ || !any_answer) co_return;
  std::vector<std::string> listed(found.begin(), found.end());
  DiscoveryFilter filter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    filter = discovery_filter_;
  }
  if (filter) {
    listed = filter(std::move(listed));
    found = std::set<std::string>(listed.begin(), listed.end());
  }
  for (const std::string& address : listed) AddConn(address, /*from_lookupd=*/true);
  for (auto& [id, conn] : conns_) {
    if (conn.from_lookupd && !conn.retiring && found.count(conn.address) == 0) {
      CLIENT_LOG(config_, LogLevel::kInfo, "(%s) no longer listed by lookupd, closing",
                 conn.address);
      conn.retiring = true;
      CloseConn(conn);
    }
  }
}

void Consumer::Core::BeginStop() {
  if (stopping_) return;
  stopping_ = true;
  CLIENT_LOG(config_, LogLevel::kInfo, "stopping consumer of %s/%s", topic_, channel_);
  poll_timer_.cancel();
  backoff_timer_.cancel();
  redistribute_timer_.cancel();
  // Messages no handler has started go back to nsqd now; handlers finish the ones they hold.
  std::vector<Work> queued;
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    for (Work& work : work_) queued.push_back(std::move(work));
    work_.clear();
    work_withdrawn_.store(true, std::memory_order_relaxed);
  }
  for (Work& work : new_work_) queued.push_back(std::move(work));
  new_work_.clear();
  RequeueWork(queued);
  for (auto& [id, conn] : conns_) CloseConn(conn);
  Clock::time_point deadline;
  {
    std::lock_guard<std::mutex> lock(mu_);
    deadline = stop_deadline_;
  }
  drain_timer_.expires_at(deadline);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) ForceClose();
  });
  MaybeFinishStop();
}

void Consumer::Core::RequeueWork(std::vector<Work>& work) {
  if (!work.empty()) {
    CLIENT_LOG(config_, LogLevel::kInfo, "stopping: %d received messages not started, requeued",
               work.size());
  }
  for (Work& item : work) Message(std::move(item.message)).RequeueWithoutBackoff(milliseconds(0));
  work.clear();
}

void Consumer::Core::ForceClose() {
  if (conns_.empty()) return;
  int64_t unanswered = 0;
  for (const auto& [id, conn] : conns_) unanswered += std::max<int64_t>(conn.in_flight, 0);
  CLIENT_LOG(config_, LogLevel::kWarning,
             "stopping: drain_timeout (%dms) passed with %d messages unanswered on %d "
             "connections; closing them (nsqd redelivers those messages)",
             config_.drain_timeout.count(), unanswered, conns_.size());
  for (auto& [id, conn] : conns_) {
    conn.phase = Phase::kClosing;
    conn.conn->Close(absl::CancelledError("closed at drain_timeout"));
  }
}

void Consumer::Core::MaybeFinishStop() {
  if (!stopping_ || !conns_.empty() || stop_signalled_) return;
  stop_signalled_ = true;
  drain_timer_.cancel();
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    io_done_ = true;
    work_closed_ = true;
    work_.clear();  // nothing to answer on any more; nsqd redelivers
    CheckStoppedLocked();
  }
  work_cv_.notify_all();
  stopped_cv_.notify_all();  // FinishStop waits for io_done_ once the deadline has passed
}

// ---------------------------------------------------------------- Consumer

Consumer::Consumer(std::string topic, std::string channel, Config config)
    : core_(std::make_shared<Core>(std::move(topic), std::move(channel), std::move(config))) {}

Consumer::~Consumer() { Stop(); }

Consumer::Consumer(Consumer&& other) noexcept = default;

Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) {
    Stop();
    core_ = std::move(other.core_);
  }
  return *this;
}

void Consumer::SetHandler(Handler handler, int concurrency) {
  core_->SetHandler(std::move(handler), concurrency);
}

void Consumer::SetGiveUpHandler(GiveUpHandler handler) {
  core_->SetGiveUpHandler(std::move(handler));
}

void Consumer::SetDiscoveryFilter(DiscoveryFilter filter) {
  core_->SetDiscoveryFilter(std::move(filter));
}

absl::Status Consumer::ConnectToNsqd(const std::string& address) {
  return core_->ConnectToNsqd(address);
}

absl::Status Consumer::ConnectToNsqLookupd(const std::string& address) {
  return core_->ConnectToNsqLookupd(address);
}

void Consumer::Stop() {
  if (core_ != nullptr) core_->Stop();
}

absl::Status Consumer::ConnectToNsqds(const std::vector<std::string>& addresses) {
  for (const std::string& address : addresses) {
    if (absl::Status status = ConnectToNsqd(address); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Consumer::ConnectToNsqLookupds(const std::vector<std::string>& addresses) {
  for (const std::string& address : addresses) {
    if (absl::Status status = ConnectToNsqLookupd(address); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Consumer::DisconnectFromNsqd(const std::string& address) {
  return core_->DisconnectFromNsqd(address);
}

absl::Status Consumer::DisconnectFromNsqLookupd(const std::string& address) {
  return core_->DisconnectFromNsqLookupd(address);
}

absl::Status Consumer::ChangeMaxInFlight(int max_in_flight) {
  return core_->ChangeMaxInFlight(max_in_flight);
}

void Consumer::StopAsync() {
  if (core_ != nullptr) core_->StopAsync();
}

bool Consumer::Stopped() const { return core_ == nullptr || core_->Stopped(); }

bool Consumer::WaitStopped(std::chrono::milliseconds timeout) const {
  return core_ == nullptr || core_->WaitStopped(timeout);
}

ConsumerStats Consumer::Stats() const { return core_->Stats(); }

bool Consumer::IsStarved() const { return core_->IsStarved(); }

}  // namespace nsq::client
