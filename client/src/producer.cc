#include "nsq/producer.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/src/conn.h"
#include "client/src/log.h"
#include "client/src/tls.h"
#include "common/protocol/command.h"

namespace nsq::client {

namespace asio = boost::asio;

// Everything below the public surface. The io_context is the first member so it is destroyed
// last, after the connection state that refers to it. Fields marked "io" are touched only on
// the io thread.
class Producer::Core {
 public:
  Core(std::string address, Config config)
      : work_(asio::make_work_guard(io_)),
        address_(std::move(address)),
        config_(std::move(config)) {
    init_status_ = config_.Validate();
    if (init_status_.ok()) init_status_ = internal::SplitAddress(address_).status();
    tls_context_ = internal::TlsContextFor(config_, &init_status_);
    thread_ = std::thread([this] { io_.run(); });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  const std::string address_;
  const Config config_;
  absl::Status init_status_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // with tls_v1; shared by the connections
  std::thread thread_;

  std::mutex mu_;
  bool accepting_ = true;  // guarded by mu_
  std::once_flag join_once_;

  void Enqueue(std::string command, PublishCallback done);  // io
  void BeginStop();                                         // io

 private:
  struct Waiting {
    std::string command;
    PublishCallback done;
  };

  void Connect();
  void Flush();
  void OnFrame(protocol::Frame& frame);
  void OnClosed(const absl::Status& status);
  void MaybeFinishStop();

  std::deque<Waiting> waiting_;           // io: accepted, not yet written (no connection yet)
  std::deque<PublishCallback> sent_;      // io: written, waiting for nsqd's reply, in order
  std::shared_ptr<internal::Conn> conn_;  // io
  bool ready_ = false;                    // io
  bool stopping_ = false;                 // io
  uint64_t generation_ = 0;               // io: tells callbacks of an old connection apart
};

void Producer::Core::Enqueue(std::string command, PublishCallback done) {
  waiting_.push_back(Waiting{std::move(command), std::move(done)});
  if (ready_) {
    Flush();
  } else if (conn_ == nullptr) {
    Connect();
  }
}

void Producer::Core::Connect() {
  const uint64_t generation = ++generation_;
  internal::Conn::Callbacks callbacks;
  callbacks.on_ready = [this, generation](const protocol::IdentifyResponse&) {
    if (generation != generation_) return;
    ready_ = true;
    CLIENT_LOG(config_, LogLevel::kDebug, "(%s) producer connected", address_);
    Flush();
  };
  callbacks.on_frame = [this, generation](protocol::Frame& frame) {
    if (generation == generation_) OnFrame(frame);
  };
  callbacks.on_closed = [this, generation](const absl::Status& status) {
    if (generation == generation_) OnClosed(status);
  };
  conn_ = std::make_shared<internal::Conn>(io_.get_executor(), address_, config_, tls_context_,
                                           std::move(callbacks));
  conn_->Start();
}

void Producer::Core::Flush() {
  // One Send per command; the connection's writer batches them into few writes.
  while (!waiting_.empty()) {
    conn_->Send(waiting_.front().command);
    sent_.push_back(std::move(waiting_.front().done));
    waiting_.pop_front();
  }
  MaybeFinishStop();
}

void Producer::Core::OnFrame(protocol::Frame& frame) {
  if (frame.type == protocol::FrameType::kMessage) return;  // a producer never subscribes
  if (sent_.empty()) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) unexpected frame from nsqd: %s", address_,
               frame.data);
    return;
  }
  PublishCallback done = std::move(sent_.front());
  sent_.pop_front();
  if (frame.type == protocol::FrameType::kError) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) nsqd refused a command: %s", address_,
               frame.data);
    done(internal::StatusFromErrorFrame(frame.data));
    if (!internal::IsNonFatalError(frame.data)) {
      // nsqd closes the connection after a fatal error; let the next command open a new one
      // at once instead of meeting the old one's end.
      conn_->Close(internal::StatusFromErrorFrame(frame.data));
      OnClosed(internal::StatusFromErrorFrame(frame.data));
      return;
    }
  } else {
    done(absl::OkStatus());
  }
  MaybeFinishStop();
}

void Producer::Core::OnClosed(const absl::Status& status) {
  if (!status.ok()) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) producer connection closed: %s", address_,
               status.ToString());
  }
  ready_ = false;
  conn_.reset();
  ++generation_;
  // Whatever was written may or may not have been published; whatever was not written never
  // will be, because the connection could not be established.
  std::deque<PublishCallback> sent;
  sent.swap(sent_);
  std::deque<Waiting> waiting;
  waiting.swap(waiting_);
  const std::string why = status.ok() ? std::string("closed") : status.ToString();
  for (PublishCallback& done : sent) {
    done(absl::UnavailableError(
        absl::StrCat("connection to nsqd ", address_, " lost before its reply: ", why)));
  }
  // nsqd refusing our AUTH stays PermissionDenied: retrying will not help.
  const absl::StatusCode code = absl::IsPermissionDenied(status)
                                    ? absl::StatusCode::kPermissionDenied
                                    : absl::StatusCode::kUnavailable;
  for (Waiting& w : waiting) {
    w.done(absl::Status(code, absl::StrCat("cannot connect to nsqd ", address_, ": ", why)));
  }
  MaybeFinishStop();
}

void Producer::Core::BeginStop() {
  stopping_ = true;
  MaybeFinishStop();
}

void Producer::Core::MaybeFinishStop() {
  if (!stopping_ || !waiting_.empty() || !sent_.empty()) return;
  if (conn_ != nullptr) {
    conn_->CloseAfterFlush();  // OnClosed comes back here
    return;
  }
  io_.stop();
}

Producer::Producer(std::string nsqd_tcp_address, Config config)
    : core_(std::make_shared<Core>(std::move(nsqd_tcp_address), std::move(config))) {}

Producer::~Producer() { Stop(); }

absl::Status Producer::status() const { return core_->init_status_; }

void Producer::Submit(std::string command, PublishCallback done) {
  if (!core_->init_status_.ok()) {
    done(core_->init_status_);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(core_->mu_);
    if (core_->accepting_) {
      Core* core = core_.get();
      asio::post(core->io_, [core, command = std::move(command), done = std::move(done)]() mutable {
        core->Enqueue(std::move(command), std::move(done));
      });
      return;
    }
  }
  done(absl::FailedPreconditionError("producer is stopped"));
}

namespace {

absl::Status Wait(std::thread::id io_thread, const std::function<void(PublishCallback)>& start) {
  if (std::this_thread::get_id() == io_thread) {
    return absl::FailedPreconditionError(
        "a blocking publish cannot be called from a producer callback");
  }
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = promise->get_future();
  start([promise](absl::Status status) { promise->set_value(std::move(status)); });
  return result.get();
}

}  // namespace

absl::Status Producer::Publish(const std::string& topic, const std::string& body) {
  return Wait(core_->thread_.get_id(),
              [&](PublishCallback done) { PublishAsync(topic, body, std::move(done)); });
}

absl::Status Producer::MultiPublish(const std::string& topic,
                                    const std::vector<std::string>& bodies) {
  return Wait(core_->thread_.get_id(),
              [&](PublishCallback done) { MultiPublishAsync(topic, bodies, std::move(done)); });
}

absl::Status Producer::DeferredPublish(const std::string& topic, std::chrono::milliseconds delay,
                                       const std::string& body) {
  return Wait(core_->thread_.get_id(), [&](PublishCallback done) {
    DeferredPublishAsync(topic, delay, body, std::move(done));
  });
}

void Producer::PublishAsync(const std::string& topic, const std::string& body,
                            PublishCallback done) {
  std::string command;
  protocol::EncodePub(topic, body, &command);
  Submit(std::move(command), std::move(done));
}

void Producer::MultiPublishAsync(const std::string& topic, const std::vector<std::string>& bodies,
                                 PublishCallback done) {
  std::vector<std::string_view> views(bodies.begin(), bodies.end());
  std::string command;
  protocol::EncodeMpub(topic, views, &command);
  Submit(std::move(command), std::move(done));
}

void Producer::DeferredPublishAsync(const std::string& topic, std::chrono::milliseconds delay,
                                    const std::string& body, PublishCallback done) {
  std::string command;
  protocol::EncodeDpub(topic, delay.count(), body, &command);
  Submit(std::move(command), std::move(done));
}

void Producer::Stop() {
  Core* core = core_.get();
  {
    std::lock_guard<std::mutex> lock(core->mu_);
    if (core->accepting_) {
      core->accepting_ = false;
      asio::post(core->io_, [core] { core->BeginStop(); });
    }
  }
  if (std::this_thread::get_id() == core->thread_.get_id()) return;  // from a callback
  std::call_once(core->join_once_, [core] { core->thread_.join(); });
}

}  // namespace nsq::client
