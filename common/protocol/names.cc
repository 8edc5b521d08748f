#include "common/protocol/names.h"

#include <cstdint>

namespace nsq::protocol {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::string_view stem = name;
  if (stem.ends_with(kEphemeralSuffix)) stem.remove_suffix(kEphemeralSuffix.size());
  // "#ephemeral" alone has no stem: upstream's regex requires at least one name character.
  if (stem.empty()) return false;
  for (char c : stem) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at s[0], or 0 if it is not valid UTF-8.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto is_continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  uint8_t lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF) return is_continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!is_continuation(1) || !is_continuation(2)) return 0;
    // Reject overlong forms and UTF-16 surrogates, as Go's decoder does.
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;
    if (lead == 0xED && byte(1) > 0x9F) return 0;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!is_continuation(1) || !is_continuation(2) || !is_continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;
    if (lead == 0xF4 && byte(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

bool IsValidTopicName(std::string_view name) { return IsValidName(name); }

bool IsValidChannelName(std::string_view name) { return IsValidName(name); }

bool IsEphemeralName(std::string_view name) { return name.ends_with(kEphemeralSuffix); }

std::string QuoteName(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < name.size()) {
    const uint8_t c = static_cast<uint8_t>(name[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(name.substr(i));
      if (n > 0) {
        out.append(name.substr(i, n));
        i += n;
        continue;
      }
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c >= 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace nsq::protocol
