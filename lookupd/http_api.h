// LookupdHttpApi: nsqlookupd's HTTP discovery API (NSQ-REFERENCE §7.3) as plain request ->
// response functions over the RegistrationDb: /ping, /info, /lookup, /topics, /channels,
// /nodes, /topic/create, /topic/delete, /channel/create, /channel/delete, /topic/tombstone and
// /debug, with upstream's status codes and JSON shapes; and ours, /metrics (Prometheus text).
// The shared common/http server moves the bytes; unit tests call Handle() directly.
//
// Big answers do not stall the event loop. /nodes, /topics, /debug and /metrics walk everything
// registered (100 k topics × 10 nsqd = 1 M /nodes entries, ~20 MB): through HandleAsync they
// are built a slice at a time (SliceLimits), each slice a separate turn of the loop (`defer`),
// so registrations, /ping and SIGTERM are served in between. We chose slices on the loop over
// building off the loop from a snapshot because a snapshot must itself be copied on the loop
// (as long as the build) and the database would need locks. The price: the answer is not one
// instant's view. Each node's (or key's) entry is read within one slice when it is small; a
// walk that spans slices resumes after the last key it emitted, so a key added or removed
// meanwhile shows or not by where it sorts, and a node that disconnects mid-walk is left out.
// Go's handler holds a read lock instead, and with it every registration.
//
// Lifecycle: owned by the Lookupd, used on its event-loop thread; the database and options
// must outlive it. Stop() abandons the answers still being built.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/http/http_message.h"
#include "lookupd/options.h"
#include "lookupd/registration_db.h"

namespace nsq::lookupd {

// How much of a big answer one turn of the event loop builds: whichever limit comes first.
struct SliceLimits {
  // Entries (one topic of one node, one producer of a /debug key, one topic name).
  int64_t max_entries = 1 << 16;
  // Time, which is what keeps the loop responsive; checked every 64 entries.
  absl::Duration max_time = absl::Milliseconds(2);
};

class LookupdHttpApi final : public http::HttpHandler {
 public:
  // Request bodies are ignored; this bounds what the server reads of one.
  static constexpr int64_t kMaxBodySize = 1 << 20;

  // Runs `work` later on the API's thread, after pending I/O (Lookupd: asio::post).
  using Defer = std::function<void(std::function<void()> work)>;

  // Without `defer`, HandleAsync builds every answer at once, as Handle() does.
  LookupdHttpApi(RegistrationDb* db, const LookupdOptions* options, std::string version,
                 Defer defer = nullptr, SliceLimits limits = {});
  ~LookupdHttpApi() override;

  // Answers at once, big answers included (for tests).
  http::HttpResponse Handle(const http::HttpRequest& request) override;
  // What the server calls: big answers are built a slice per turn of the loop, then replied.
  void HandleAsync(const http::HttpRequest& request,
                   std::function<void(http::HttpResponse)> reply) override;
  int64_t MaxRequestBodySize() const override { return kMaxBodySize; }
  http::HttpResponse BodyTooLarge(const http::HttpRequest& request) const override;

  // Shutting down: answers still being built are abandoned (replied 503 EXITING, which a
  // stopped server drops), so no slice keeps the loop running; later big requests get 503.
  void Stop();
  // Answers being built a slice at a time right now.
  size_t answers_in_progress() const { return jobs_.size(); }

 private:
  struct Job;
  // Builds the next slice of `job`; replies when complete, else defers the next slice.
  void RunSlice(const std::shared_ptr<Job>& job);

  RegistrationDb* db_;
  const LookupdOptions* options_;
  std::string version_;
  Defer defer_;
  SliceLimits limits_;
  int64_t started_ns_;  // the database clock's time at construction (/metrics' uptime)
  bool stopped_ = false;
  std::vector<std::shared_ptr<Job>> jobs_;
};

}  // namespace nsq::lookupd
