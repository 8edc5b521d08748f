#include "nsqd/broker/deferred_queue.h"

#include <algorithm>

namespace nsq::nsqd {

// std::push_heap builds a max-heap; "later" as the comparison puts the earliest item on top.
bool DeferredQueue::Later(const Item& a, const Item& b) {
  if (a.due_ns != b.due_ns) return a.due_ns > b.due_ns;
  return a.sequence > b.sequence;
}

void DeferredQueue::Push(protocol::Message message, int64_t due_ns) {
  heap_.push_back(Item{due_ns, next_sequence_++, std::move(message)});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

std::optional<protocol::Message> DeferredQueue::PopDue(int64_t now_ns) {
  if (heap_.empty() || heap_.front().due_ns > now_ns) return std::nullopt;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  protocol::Message message = std::move(heap_.back().message);
  heap_.pop_back();
  return message;
}

std::optional<int64_t> DeferredQueue::NextDue() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due_ns;
}

std::vector<std::pair<int64_t, protocol::Message>> DeferredQueue::Items() const {
  std::vector<Item> sorted = heap_;
  std::sort(sorted.begin(), sorted.end(), [](const Item& a, const Item& b) { return Later(b, a); });
  std::vector<std::pair<int64_t, protocol::Message>> out;
  out.reserve(sorted.size());
  for (auto& item : sorted) out.emplace_back(item.due_ns, std::move(item.message));
  return out;
}

std::vector<protocol::Message> DeferredQueue::Clear() {
  std::sort(heap_.begin(), heap_.end(), [](const Item& a, const Item& b) { return Later(b, a); });
  std::vector<protocol::Message> out;
  out.reserve(heap_.size());
  for (auto& item : heap_) out.push_back(std::move(item.message));
  heap_.clear();
  return out;
}

}  // namespace nsq::nsqd
