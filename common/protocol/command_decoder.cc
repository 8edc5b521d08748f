#include "common/protocol/command_decoder.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/names.h"

namespace nsq::protocol {
namespace {

// Most frequent first (one FIN per message consumed, then RDY and the publishes): the lookup
// below tries them in this order.
constexpr std::array<CommandName, 12> kAllCommands = {
    CommandName::kFin,  CommandName::kRdy,  CommandName::kPub,      CommandName::kMpub,
    CommandName::kReq,  CommandName::kTouch, CommandName::kNop,     CommandName::kDpub,
    CommandName::kSub,  CommandName::kIdentify, CommandName::kAuth, CommandName::kCls,
};
// A body up to this size keeps its buffer for the next command; a larger one is given back
// (a connection that once published 1 MB should not keep 1 MB while idle).
constexpr size_t kKeepBodyBytes = 4096;

// Debian's abseil has its own string_view type; absl::StrCat takes only that one.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

// Splits on every single space, keeping empty tokens ("a  b" is "a", "", "b"), as nsqd does.
// Splits into the strings already in *tokens where there are some (reusing their buffers: a
// FIN's 16-byte id would otherwise be an allocation per message), then resizes to the count.
void SplitOnSpaces(std::string_view text, std::vector<std::string>* tokens) {
  size_t count = 0;
  while (true) {
    const size_t space = text.find(' ');
    if (count < tokens->size()) {
      (*tokens)[count].assign(text.substr(0, space));
    } else {
      tokens->emplace_back(text.substr(0, space));
    }
    ++count;
    if (space == text.npos) break;
    text.remove_prefix(space + 1);
  }
  tokens->resize(count);
}

std::optional<CommandName> LookUpCommand(std::string_view text) {
  for (CommandName name : kAllCommands) {
    if (CommandNameText(name) == text) return name;
  }
  return std::nullopt;
}


}  // namespace

CommandDecoder::Result CommandDecoder::Decode(std::string_view input, size_t* consumed) {
  size_t pos = 0;
  *consumed = 0;
  while (true) {
    const std::string_view rest = input.substr(pos);
    switch (state_) {
      case State::kBroken:
        return Result::kError;

      case State::kLine: {
        const size_t newline = rest.find('\n');
        const size_t line_length = line_.size() + (newline == rest.npos ? rest.size() : newline);
        // Checked before buffering, so a client that never sends '\n' costs at most the limit.
        if (line_length > limits_.max_line_length) {
          *consumed = input.size();
          command_name_ = {};  // about no command
          return Fail(ClientError::Fatal(
              kInvalid,
              absl::StrCat("command line too long (over ", limits_.max_line_length, " bytes)")));
        }
        if (newline == rest.npos) {
          line_.append(rest);
          *consumed = input.size();
          return Result::kNeedMore;
        }
        pos += newline + 1;
        Result result;
        if (line_.empty()) {
          result = OnLine(rest.substr(0, newline));
        } else {
          // Moved out first: OnLine may fail, and failing resets line_.
          std::string line = std::move(line_);
          line_.clear();
          line.append(rest.substr(0, newline));
          result = OnLine(line);
        }
        if (result != Result::kNeedMore) {
          *consumed = pos;
          return result;
        }
        break;  // a body command: its size field follows
      }

      case State::kBodySize: {
        const size_t take = std::min(sizeof(size_bytes_) - size_have_, rest.size());
        std::copy_n(rest.data(), take, size_bytes_ + size_have_);
        size_have_ += take;
        pos += take;
        if (size_have_ < sizeof(size_bytes_)) {
          *consumed = pos;
          return Result::kNeedMore;
        }
        size_have_ = 0;
        if (OnBodySize(static_cast<int32_t>(LoadBigEndian32(size_bytes_))) == Result::kError) {
          *consumed = pos;
          return Result::kError;
        }
        break;
      }

      case State::kBody: {
        std::string& body = command_.body;
        const size_t take = std::min(body_expected_ - body.size(), rest.size());
        body.append(rest.substr(0, take));
        pos += take;
        *consumed = pos;
        if (command_.name == CommandName::kMpub && !mpub_count_checked_ && body.size() >= 4) {
          // nsqd reads the count first: an impossible one is refused before the rest arrives.
          mpub_count_checked_ = true;
          if (std::optional<ClientError> error = CheckMpubCount(body)) return Fail(*error);
        }
        if (body.size() < body_expected_) return Result::kNeedMore;
        return OnBody();
      }
    }
  }
}

CommandDecoder::Result CommandDecoder::Fail(ClientError error) {
  // An MPUB whose line was accepted: nsqd has created its topic before reading the body.
  if (command_.name == CommandName::kMpub && state_ != State::kLine && !command_.params.empty()) {
    refused_mpub_topic_ = command_.params[0];
  }
  state_ = State::kBroken;
  error_ = std::move(error);
  // Nothing more will be decoded: give the buffers back now.
  line_ = std::string();
  command_ = Command();
  return Result::kError;
}

CommandDecoder::Result CommandDecoder::OnLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // The previous command's object is reused (its parameters' buffers); a big body goes.
  command_.name = CommandName::kNop;
  command_.defer_ms = 0;
  command_.messages.clear();
  if (command_.body.capacity() > kKeepBodyBytes) {
    command_.body = std::string();
  } else {
    command_.body.clear();
  }

  const size_t space = line.find(' ');
  const std::string_view name_text = line.substr(0, space);
  std::optional<CommandName> name = LookUpCommand(name_text);
  if (!name.has_value()) {
    unknown_command_ = std::string(name_text);
    return Fail(ClientError::Fatal(kInvalid, absl::StrCat("invalid command ", AsAbsl(name_text))));
  }
  command_.name = *name;
  command_name_ = CommandNameText(*name);
  if (space != line.npos) {
    SplitOnSpaces(line.substr(space + 1), &command_.params);
  } else {
    command_.params.clear();
  }
  const std::vector<std::string>& params = command_.params;

  // The checks nsqd makes before reading the body that do not depend on connection state, in
  // nsqd's order. (nsqd's state, TLS and auth checks come first upstream; they are the
  // session's, which sees the command only once its body has been read.)
  switch (command_.name) {
    case CommandName::kIdentify:
      break;

    case CommandName::kAuth:
      if (!params.empty()) {
        return Fail(ClientError::Fatal(kInvalid, "AUTH invalid number of parameters"));
      }
      break;

    case CommandName::kPub:
    case CommandName::kMpub:
    case CommandName::kDpub: {
      const std::string_view text = CommandNameText(command_.name);
      const size_t needed = command_.name == CommandName::kDpub ? 2 : 1;
      if (params.size() < needed) {
        return Fail(ClientError::Fatal(
            kInvalid, absl::StrCat(AsAbsl(text), " insufficient number of parameters")));
      }
      if (!IsValidTopicName(params[0])) {
        // nsqd's MPUB repeats the code inside the text, so its frame reads
        // "E_BAD_TOPIC E_BAD_TOPIC MPUB topic name ..." (quirk kept for compatibility).
        const std::string_view prefix = command_.name == CommandName::kMpub ? "E_BAD_TOPIC " : "";
        return Fail(
            ClientError::Fatal(kBadTopic, absl::StrCat(AsAbsl(prefix), AsAbsl(text), " topic name ",
                                                       QuoteName(params[0]), " is not valid")));
      }
      if (command_.name == CommandName::kDpub) {
        std::optional<uint64_t> defer_ms = ParseDecimal(params[1]);
        if (!defer_ms.has_value()) {
          return Fail(ClientError::Fatal(kInvalid,
                                         absl::StrCat("DPUB could not parse timeout ", params[1])));
        }
        const uint64_t max_ms =
            static_cast<uint64_t>(std::max<int64_t>(limits_.max_req_timeout_ms, 0));
        if (*defer_ms > max_ms) {
          // A saturated value would print as 2^64-1; the text the client sent is clearer.
          const std::string shown = *defer_ms == std::numeric_limits<uint64_t>::max()
                                        ? params[1]
                                        : absl::StrCat(*defer_ms);
          return Fail(ClientError::Fatal(
              kInvalid, absl::StrCat("DPUB timeout ", shown, " out of range 0-", max_ms)));
        }
        command_.defer_ms = static_cast<int64_t>(*defer_ms);
      }
      break;
    }

    default:
      // SUB, RDY, FIN, REQ, TOUCH, CLS, NOP: their checks depend on connection state, so the
      // session makes them.
      return Result::kCommand;
  }
  state_ = State::kBodySize;
  return Result::kNeedMore;
}

CommandDecoder::Result CommandDecoder::OnBodySize(int32_t size) {
  const std::string_view name = CommandNameText(command_.name);
  switch (command_.name) {
    case CommandName::kPub:
    case CommandName::kDpub:
      if (size <= 0) {
        return Fail(ClientError::Fatal(
            kBadMessage, absl::StrCat(AsAbsl(name), " invalid message body size ", size)));
      }
      if (size > limits_.max_msg_size) {
        return Fail(ClientError::Fatal(
            kBadMessage,
            absl::StrCat(AsAbsl(name), " message too big ", size, " > ", limits_.max_msg_size)));
      }
      break;

    default:  // IDENTIFY, AUTH, MPUB
      if (size <= 0) {
        return Fail(
            ClientError::Fatal(kBadBody, absl::StrCat(AsAbsl(name), " invalid body size ", size)));
      }
      if (size > limits_.max_body_size) {
        return Fail(ClientError::Fatal(kBadBody, absl::StrCat(AsAbsl(name), " body too big ", size,
                                                              " > ", limits_.max_body_size)));
      }
      break;
  }
  // The size is within the limits now, so reserving it up front is safe (and one allocation).
  body_expected_ = static_cast<size_t>(size);
  mpub_count_checked_ = false;
  command_.body.reserve(body_expected_);
  state_ = State::kBody;
  return Result::kNeedMore;
}

CommandDecoder::Result CommandDecoder::OnBody() {
  state_ = State::kLine;
  if (command_.name != CommandName::kMpub) return Result::kCommand;
  // MPUB: the whole declared body is here; split it into messages with nsqd's checks and texts.
  if (std::optional<ClientError> error = ParseMpub(command_.body, true, &command_.messages)) {
    state_ = State::kBody;  // for Fail: the line was accepted
    return Fail(*error);
  }
  command_.body = std::string();
  return Result::kCommand;
}

std::optional<ClientError> CommandDecoder::CheckMpubCount(std::string_view body) const {
  const int32_t count = static_cast<int32_t>(LoadBigEndian32(body.data()));
  // Each message takes at least 5 bytes (size + one byte), after the 4-byte count.
  const int64_t max_messages = (limits_.max_body_size - 4) / 5;
  if (count <= 0 || count > max_messages) {
    return ClientError::Fatal(kBadBody, absl::StrCat("MPUB invalid message count ", count));
  }
  return std::nullopt;
}

std::optional<ClientError> CommandDecoder::ParseMpub(std::string_view rest, bool complete,
                                                     std::vector<Body>* messages) const {
  if (rest.size() < 4) return ClientError::Fatal(kBadBody, "MPUB failed to read message count");
  if (std::optional<ClientError> error = CheckMpubCount(rest)) return error;
  const int32_t count = static_cast<int32_t>(LoadBigEndian32(rest.data()));
  const size_t declared = rest.size();
  rest.remove_prefix(4);
  // The count is only an upper bound until the bytes back it up.
  messages->reserve(std::min<size_t>(static_cast<size_t>(count), rest.size() / 5));
  for (int32_t i = 0; i < count; ++i) {
    if (rest.size() < 4) {
      return ClientError::Fatal(kBadMessage,
                                absl::StrCat("MPUB failed to read message(", i, ") body size"));
    }
    const int32_t size = static_cast<int32_t>(LoadBigEndian32(rest.data()));
    rest.remove_prefix(4);
    if (size <= 0) {
      return ClientError::Fatal(kBadMessage,
                                absl::StrCat("MPUB invalid message(", i, ") body size ", size));
    }
    if (size > limits_.max_msg_size) {
      return ClientError::Fatal(
          kBadMessage, absl::StrCat("MPUB message too big ", size, " > ", limits_.max_msg_size));
    }
    if (rest.size() < static_cast<size_t>(size)) {
      return ClientError::Fatal(kBadMessage, "MPUB failed to read message body");
    }
    messages->push_back(Body::Copy(rest.substr(0, size)));
    rest.remove_prefix(size);
  }
  // nsqd never checks that the declared size matches the messages, and a mismatch silently
  // desynchronises its stream. We read exactly the declared size, so leftover bytes mean the
  // client and we disagree about the framing: refuse instead of guessing.
  if (complete && !rest.empty()) {
    return ClientError::Fatal(
        kBadBody, absl::StrCat("MPUB invalid body size ", declared, ": ", rest.size(),
                               " bytes left after message(", count - 1, ")"));
  }
  return std::nullopt;
}

DecodeFailure CommandDecoder::Failure(const ClientError& error) const {
  return DecodeFailure{error,
                       unknown_command_.empty() ? std::string(command_name_) : unknown_command_,
                       refused_mpub_topic_};
}

std::optional<ClientError> CommandDecoder::ErrorAtEndOfInput() const {
  const std::string_view name = CommandNameText(command_.name);
  const bool message = command_.name == CommandName::kPub || command_.name == CommandName::kDpub;
  switch (state_) {
    case State::kBodySize:
      if (message) {
        return ClientError::Fatal(
            kBadMessage, absl::StrCat(AsAbsl(name), " failed to read message body size"));
      }
      return ClientError::Fatal(kBadBody, absl::StrCat(AsAbsl(name), " failed to read body size"));
    case State::kBody:
      if (message) {
        return ClientError::Fatal(kBadMessage,
                                  absl::StrCat(AsAbsl(name), " failed to read message body"));
      }
      if (command_.name == CommandName::kMpub) {
        std::vector<Body> ignored;
        return ParseMpub(command_.body, false, &ignored);
      }
      return ClientError::Fatal(kBadBody, absl::StrCat(AsAbsl(name), " failed to read body"));
    default:
      return std::nullopt;
  }
}

// nsqd's ByteToBase10: decimal digits only, no sign; an empty string is 0 (quirk). Unlike Go,
// which silently wraps, an overflow saturates so it lands in the out-of-range error.
std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  return value;
}

}  // namespace nsq::protocol
