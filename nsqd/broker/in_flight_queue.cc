#include "nsqd/broker/in_flight_queue.h"

#include <algorithm>
#include <utility>

namespace nsq::nsqd {

bool InFlightQueue::Push(protocol::Message message, Consumer* owner, int64_t now_ns,
                         int64_t deadline_ns) {
  auto [it, inserted] = entries_.try_emplace(message.id);
  if (!inserted) return false;
  Entry& entry = it->second;
  entry.message = std::move(message);
  entry.owner = owner;
  entry.delivered_at_ns = now_ns;
  entry.deadline_ns = deadline_ns;
  entry.heap_index = heap_.size();
  heap_.push_back({deadline_ns, &entry});
  SiftUp(entry.heap_index);
  return true;
}

InFlightQueue::Entry* InFlightQueue::Find(const protocol::MessageId& id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<InFlightQueue::Entry> InFlightQueue::Remove(const protocol::MessageId& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  EraseFromHeap(it->second.heap_index);
  Entry entry = std::move(it->second);
  entries_.erase(it);
  return entry;
}

void InFlightQueue::UpdateDeadline(Entry* entry, int64_t deadline_ns) {
  int64_t old = entry->deadline_ns;
  entry->deadline_ns = deadline_ns;
  heap_[entry->heap_index].deadline_ns = deadline_ns;
  if (deadline_ns < old) {
    SiftUp(entry->heap_index);
  } else {
    SiftDown(entry->heap_index);
  }
}

std::optional<InFlightQueue::Entry> InFlightQueue::PopExpired(int64_t now_ns) {
  if (heap_.empty() || heap_.front().deadline_ns > now_ns) return std::nullopt;
  return Remove(heap_.front().entry->message.id);
}

std::optional<int64_t> InFlightQueue::NextDeadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline_ns;
}

std::vector<InFlightQueue::Entry> InFlightQueue::RemoveOwnedBy(const Consumer* owner) {
  std::vector<protocol::MessageId> ids;
  for (const auto& [id, entry] : entries_) {
    if (entry.owner == owner) ids.push_back(id);
  }
  std::vector<Entry> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(*Remove(id));
  // Ids of one topic increase with publish order, so they break deadline ties.
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (a.deadline_ns != b.deadline_ns) return a.deadline_ns < b.deadline_ns;
    return a.message.id < b.message.id;
  });
  return out;
}

std::vector<InFlightQueue::Entry> InFlightQueue::Clear() {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (auto& [id, entry] : entries_) out.push_back(std::move(entry));
  entries_.clear();
  heap_.clear();
  return out;
}

std::vector<const InFlightQueue::Entry*> InFlightQueue::ByDeliveryTime() const {
  std::vector<const Entry*> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(&entry);
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) {
    if (a->delivered_at_ns != b->delivered_at_ns) return a->delivered_at_ns < b->delivered_at_ns;
    return a->message.id < b->message.id;
  });
  return out;
}

void InFlightQueue::Swap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a].entry->heap_index = a;
  heap_[b].entry->heap_index = b;
}

void InFlightQueue::SiftUp(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap_[parent].deadline_ns <= heap_[i].deadline_ns) break;
    Swap(i, parent);
    i = parent;
  }
}

void InFlightQueue::SiftDown(size_t i) {
  const size_t n = heap_.size();
  while (true) {
    size_t smallest = i;
    size_t left = 2 * i + 1;
    size_t right = left + 1;
    if (left < n && heap_[left].deadline_ns < heap_[smallest].deadline_ns) smallest = left;
    if (right < n && heap_[right].deadline_ns < heap_[smallest].deadline_ns) smallest = right;
    if (smallest == i) return;
    Swap(i, smallest);
    i = smallest;
  }
}

void InFlightQueue::EraseFromHeap(size_t i) {
  size_t last = heap_.size() - 1;
  if (i != last) {
    Swap(i, last);
    heap_.pop_back();
    SiftDown(i);
    SiftUp(i);
  } else {
    heap_.pop_back();
  }
}

}  // namespace nsq::nsqd
