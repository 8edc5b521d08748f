#include "tools/redis_to_nsq/key_layout.h"

#include "absl/strings/str_format.h"

namespace nsq::redis_to_nsq {
namespace {

constexpr std::string_view kOwnKeys = "nsqmig:";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view FormatName(Format format) {
  return format == Format::kSidekiq ? "sidekiq" : "go-workers";
}

KeyLayout::KeyLayout(Format format, std::string_view ns) : format_(format) {
  if (!ns.empty()) {
    prefix_ = std::string(ns);
    if (prefix_.back() != ':') prefix_ += ':';
  }
}

std::string KeyLayout::Queue(std::string_view queue) const {
  return absl::StrFormat("%squeue:%s", prefix_, queue);
}

std::string KeyLayout::RetrySet() const {
  return prefix_ + (format_ == Format::kSidekiq ? "retry" : "goretry");
}

std::string KeyLayout::DeadSet() const {
  return format_ == Format::kSidekiq ? prefix_ + "dead" : std::string();
}

std::string_view KeyLayout::Unprefixed(std::string_view key) const {
  if (!StartsWith(key, prefix_)) return {};
  return key.substr(prefix_.size());
}

std::optional<Source> KeyLayout::ClassifyList(std::string_view key) const {
  if (!StartsWith(key, prefix_)) return std::nullopt;
  std::string_view name = Unprefixed(key);
  if (StartsWith(name, kOwnKeys)) return std::nullopt;
  Source source;
  source.key = std::string(key);

  constexpr std::string_view kWorking = "working:queue:";
  if (StartsWith(name, kWorking)) {
    // gitlab-sidekiq-fetcher: working:queue:<queue>:<hostname>:<pid>[:<nonce>]
    std::string_view rest = name.substr(kWorking.size());
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    source.kind = SourceKind::kInProgress;
    source.queue = std::string(rest.substr(0, colon));
    return source;
  }
  constexpr std::string_view kQueue = "queue:";
  if (!StartsWith(name, kQueue)) return std::nullopt;
  std::string_view rest = name.substr(kQueue.size());
  if (rest.empty()) return std::nullopt;

  constexpr std::string_view kInProgress = ":inprogress";
  constexpr std::string_view kSuperFetch = "sq|";
  constexpr std::string_view kReliableWorking = ":working";
  if (EndsWith(rest, kInProgress)) {
    // go-workers: queue:<queue>:<process>:inprogress
    rest.remove_suffix(kInProgress.size());
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    source.kind = SourceKind::kInProgress;
    source.queue = std::string(rest.substr(0, colon));
  } else if (StartsWith(rest, kSuperFetch)) {
    // Sidekiq Pro super_fetch: queue:sq|<identity>|<queue>
    const size_t bar = rest.rfind('|');
    if (bar + 1 >= rest.size() || bar < kSuperFetch.size()) return std::nullopt;
    source.kind = SourceKind::kInProgress;
    source.queue = std::string(rest.substr(bar + 1));
  } else if (EndsWith(rest, kReliableWorking) && rest.size() > kReliableWorking.size()) {
    // sidekiq-reliable-fetch: queue:<queue>:working
    rest.remove_suffix(kReliableWorking.size());
    source.kind = SourceKind::kInProgress;
    source.queue = std::string(rest);
  } else {
    source.kind = SourceKind::kQueue;
    source.queue = std::string(rest);
  }
  return source;
}

std::string KeyLayout::MemberQueue(std::string_view queue) const {
  if (format_ == Format::kGoWorkers && !prefix_.empty() && StartsWith(queue, prefix_)) {
    queue.remove_prefix(prefix_.size());
  }
  return std::string(queue);
}

std::string KeyLayout::Processing(std::string_view id, std::string_view source_key) const {
  std::string_view name = Unprefixed(source_key);
  if (name.empty()) name = source_key;
  return absl::StrFormat("%s%sproc:%s:%s", prefix_, kOwnKeys, id, name);
}

std::string KeyLayout::Quarantine(std::string_view source_key) const {
  std::string_view name = Unprefixed(source_key);
  if (name.empty()) name = source_key;
  return absl::StrFormat("%s%squarantine:%s", prefix_, kOwnKeys, name);
}

std::string KeyLayout::Lock(std::string_view id) const {
  return absl::StrFormat("%s%slock:%s", prefix_, kOwnKeys, id);
}

}  // namespace nsq::redis_to_nsq
