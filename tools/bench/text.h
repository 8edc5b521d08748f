// String building for nsq_bench's messages without absl::StrCat: this system's abseil is
// built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), which does not
// accept std::string_view arguments.
//
//   std::string text = Cat("connect ", address, ": port ", 4150);
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace nsq::bench {

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  auto append = [&out](const auto& part) {
    if constexpr (std::integral<std::decay_t<decltype(part)>>) {
      out += std::to_string(part);
    } else {
      out += std::string_view(part);
    }
  };
  (append(parts), ...);
  return out;
}

// absl::Status messages are absl::string_view here; this copies one into a std::string.
template <typename AbslStringView>
std::string ToString(const AbslStringView& view) {
  return std::string(view.data(), view.size());
}

}  // namespace nsq::bench
