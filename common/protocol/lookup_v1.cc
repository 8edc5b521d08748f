#include "common/protocol/lookup_v1.h"

#include <boost/json.hpp>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/json_fields.h"
#include "common/protocol/names.h"

namespace nsq::protocol {
namespace {

namespace json = boost::json;

// Debian's abseil has its own string_view type.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string EncodeTopicCommand(std::string_view name, std::string_view topic,
                               std::string_view channel) {
  std::string line = absl::StrCat(Absl(name), " ", Absl(topic));
  if (!channel.empty()) absl::StrAppend(&line, " ", Absl(channel));
  line += '\n';
  return line;
}

// Go's strings.TrimSpace for the ASCII white space (Go also trims a few Unicode spaces, which
// no NSQ client sends).
std::string_view TrimAsciiSpace(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Go's strings.Split(line, " "): every single space separates, so "a  b" has an empty middle.
std::vector<std::string_view> SplitOnSpaces(std::string_view line) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) break;
    parts.push_back(line.substr(0, space));
    line.remove_prefix(space + 1);
  }
  parts.push_back(line);
  return parts;
}

// The readers ParseJsonObject picks by member type.
absl::Status ReadJsonField(const json::value& value, std::string_view key, std::string* out) {
  return ReadJsonString(value, key, out);
}

// Go's json.Unmarshal into an int field takes only an integer literal in range (not 4150.0).
absl::Status ReadJsonField(const json::value& value, std::string_view key, int64_t* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_int64()) return JsonFieldTypeError(key, "an integer");
  *out = value.get_int64();
  return absl::OkStatus();
}

// Applies every member of a JSON object to the struct fields named in `fields` (a list of
// {key, member pointer}); later duplicates win, as in Go.
template <typename T, typename... Fields>
absl::StatusOr<T> ParseJsonObject(std::string_view text, const Fields&... fields) {
  absl::StatusOr<json::value> document = ParseJson(text);
  if (!document.ok()) return document.status();
  T result;
  if (document->is_null()) return result;
  if (!document->is_object()) return absl::InvalidArgumentError("JSON body is not an object");
  for (const auto& member : document->get_object()) {
    const std::string_view key(member.key().data(), member.key().size());
    absl::Status status = absl::OkStatus();
    const auto apply = [&](const auto& field) {
      if (status.ok() && JsonKeyMatches(key, field.first)) {
        status = ReadJsonField(member.value(), field.first, &(result.*(field.second)));
      }
    };
    (apply(fields), ...);
    if (!status.ok()) return status;
  }
  return result;
}

template <typename T, typename M>
std::pair<std::string_view, M T::*> Field(std::string_view key, M T::*member) {
  return {key, member};
}

}  // namespace

std::string EncodeLookupPing() { return "PING\n"; }

std::string EncodeLookupIdentify(const LookupPeerInfo& peer) {
  const std::string body = EncodeLookupPeerInfo(peer);
  std::string out = "IDENTIFY\n";
  char size[4];
  StoreBigEndian32(size, static_cast<uint32_t>(body.size()));
  out.append(size, 4);
  out += body;
  return out;
}

std::string EncodeLookupRegister(std::string_view topic, std::string_view channel) {
  return EncodeTopicCommand("REGISTER", topic, channel);
}

std::string EncodeLookupUnregister(std::string_view topic, std::string_view channel) {
  return EncodeTopicCommand("UNREGISTER", topic, channel);
}

std::string EncodeLookupPeerInfo(const LookupPeerInfo& peer) {
  json::object object;
  object["broadcast_address"] = peer.broadcast_address;
  object["hostname"] = peer.hostname;
  object["http_port"] = peer.http_port;
  object["tcp_port"] = peer.tcp_port;
  object["topology_region"] = peer.topology_region;
  object["topology_zone"] = peer.topology_zone;
  object["version"] = peer.version;
  return json::serialize(object);
}

absl::StatusOr<LookupPeerInfo> ParseLookupPeerInfo(std::string_view text) {
  return ParseJsonObject<LookupPeerInfo>(
      text, Field("broadcast_address", &LookupPeerInfo::broadcast_address),
      Field("hostname", &LookupPeerInfo::hostname), Field("tcp_port", &LookupPeerInfo::tcp_port),
      Field("http_port", &LookupPeerInfo::http_port), Field("version", &LookupPeerInfo::version),
      Field("topology_zone", &LookupPeerInfo::topology_zone),
      Field("topology_region", &LookupPeerInfo::topology_region));
}

LookupRequestDecoder::Result LookupRequestDecoder::Fail(std::string_view code, std::string text) {
  state_ = State::kBroken;
  pending_.clear();
  error_ = ClientError::Fatal(code, std::move(text));
  return Result::kError;
}

LookupRequestDecoder::Result LookupRequestDecoder::Decode(std::string_view input,
                                                          size_t* consumed) {
  *consumed = 0;
  // Takes bytes from `input` until pending_ holds `want` bytes; false when input ran out.
  const auto fill = [&](size_t want) {
    const size_t take = std::min(want - pending_.size(), input.size() - *consumed);
    pending_.append(input.substr(*consumed, take));
    *consumed += take;
    return pending_.size() == want;
  };

  for (;;) {
    switch (state_) {
      case State::kBroken:
        return Result::kError;

      case State::kMagic: {
        if (!fill(kMagicV1.size())) return Result::kNeedMore;
        const bool ok = pending_ == kMagicV1;
        pending_.clear();
        if (!ok) return Fail(kBadProtocol, "");
        state_ = State::kLine;
        break;
      }

      case State::kLine: {
        const std::string_view rest = input.substr(*consumed);
        const size_t newline = rest.find('\n');
        const size_t take = newline == std::string_view::npos ? rest.size() : newline + 1;
        // The newline itself does not count toward the limit.
        const size_t line_length = pending_.size() + take - (newline == rest.npos ? 0 : 1);
        if (line_length > kMaxLookupLineLength) {
          *consumed += take;
          return Fail(kInvalid, absl::StrCat("command line too long (over ", kMaxLookupLineLength,
                                             " bytes)"));
        }
        pending_.append(rest.substr(0, take));
        *consumed += take;
        if (newline == std::string_view::npos) return Result::kNeedMore;
        std::string line = std::move(pending_);
        pending_.clear();
        const Result result = OnLine(line);
        if (result != Result::kNeedMore) return result;
        break;  // IDENTIFY: its body follows
      }

      case State::kBodySize: {
        if (!fill(4)) return Result::kNeedMore;
        const auto size = static_cast<int32_t>(LoadBigEndian32(pending_.data()));
        pending_.clear();
        if (size < 0) {
          return Fail(kBadBody, absl::StrCat("IDENTIFY invalid body size ", size));
        }
        if (size > kMaxLookupIdentifySize) {
          return Fail(kBadBody,
                      absl::StrCat("IDENTIFY body too big ", size, " > ", kMaxLookupIdentifySize));
        }
        body_size_ = static_cast<size_t>(size);
        state_ = State::kBody;
        break;
      }

      case State::kBody:
        if (!fill(body_size_)) return Result::kNeedMore;
        return OnBody();
    }
  }
}

LookupRequestDecoder::Result LookupRequestDecoder::OnLine(std::string_view raw) {
  const std::vector<std::string_view> params = SplitOnSpaces(TrimAsciiSpace(raw));
  const std::string_view name = params[0];
  if (name == "PING") {
    command_ = LookupCommand{};
    return Result::kCommand;
  }
  if (name == "IDENTIFY") {
    if (identified_) return Fail(kInvalid, "cannot IDENTIFY again");
    state_ = State::kBodySize;
    return Result::kNeedMore;
  }
  if (name != "REGISTER" && name != "UNREGISTER") {
    return Fail(kInvalid, absl::StrCat("invalid command ", Absl(name)));
  }
  if (!identified_) return Fail(kInvalid, "client must IDENTIFY");
  if (params.size() < 2) {
    return Fail(kInvalid, absl::StrCat(Absl(name), " insufficient number of params"));
  }
  const std::string_view topic = params[1];
  const std::string_view channel = params.size() >= 3 ? params[2] : std::string_view();
  if (!IsValidTopicName(topic)) {
    return Fail(kBadTopic,
                absl::StrCat(Absl(name), " topic name '", Absl(topic), "' is not valid"));
  }
  if (!channel.empty() && !IsValidChannelName(channel)) {
    return Fail(kBadChannel,
                absl::StrCat(Absl(name), " channel name '", Absl(channel), "' is not valid"));
  }
  command_ = LookupCommand{};
  command_.type =
      name == "REGISTER" ? LookupCommandType::kRegister : LookupCommandType::kUnregister;
  command_.topic = std::string(topic);
  command_.channel = std::string(channel);
  return Result::kCommand;
}

LookupRequestDecoder::Result LookupRequestDecoder::OnBody() {
  absl::StatusOr<LookupPeerInfo> peer = ParseLookupPeerInfo(pending_);
  pending_.clear();
  if (!peer.ok()) return Fail(kBadBody, "IDENTIFY failed to decode JSON body");
  if (peer->broadcast_address.empty() || peer->tcp_port == 0 || peer->http_port == 0 ||
      peer->version.empty()) {
    return Fail(kBadBody, "IDENTIFY missing fields");
  }
  identified_ = true;
  state_ = State::kLine;
  command_ = LookupCommand{};
  command_.type = LookupCommandType::kIdentify;
  command_.peer = std::move(*peer);
  return Result::kCommand;
}

std::optional<ClientError> LookupRequestDecoder::ErrorAtEndOfInput() const {
  if (state_ == State::kBodySize) {
    return ClientError::Fatal(kBadBody, "IDENTIFY failed to read body size");
  }
  if (state_ == State::kBody) return ClientError::Fatal(kBadBody, "IDENTIFY failed to read body");
  return std::nullopt;
}

void AppendLookupResponse(std::string_view data, std::string* out) {
  char size[4];
  StoreBigEndian32(size, static_cast<uint32_t>(data.size()));
  out->append(size, 4);
  out->append(data);
}

std::string LookupErrorData(const ClientError& error) {
  return error.text.empty() ? error.code : error.FrameData();
}

std::string EncodeLookupIdentifyResponse(const LookupdInfo& info) {
  json::object object;
  object["broadcast_address"] = info.broadcast_address;
  object["hostname"] = info.hostname;
  object["http_port"] = info.http_port;
  object["tcp_port"] = info.tcp_port;
  object["version"] = info.version;
  return json::serialize(object);
}

absl::StatusOr<LookupdInfo> ParseLookupIdentifyResponse(std::string_view text) {
  return ParseJsonObject<LookupdInfo>(
      text, Field("broadcast_address", &LookupdInfo::broadcast_address),
      Field("hostname", &LookupdInfo::hostname), Field("http_port", &LookupdInfo::http_port),
      Field("tcp_port", &LookupdInfo::tcp_port), Field("version", &LookupdInfo::version));
}

LookupResponseDecoder::Result LookupResponseDecoder::Decode(std::string_view input,
                                                            size_t* consumed) {
  *consumed = 0;
  if (broken_) return Result::kError;
  if (!size_) {
    const size_t take = std::min<size_t>(4 - pending_.size(), input.size());
    pending_.append(input.substr(0, take));
    *consumed += take;
    if (pending_.size() < 4) return Result::kNeedMore;
    const uint32_t size = LoadBigEndian32(pending_.data());
    pending_.clear();
    if (size > max_size_) {
      broken_ = true;
      error_ =
          absl::StrCat("response body size (", size, ") is greater than limit (", max_size_, ")");
      return Result::kError;
    }
    size_ = size;
  }
  const size_t take = std::min<size_t>(*size_ - pending_.size(), input.size() - *consumed);
  pending_.append(input.substr(*consumed, take));
  *consumed += take;
  if (pending_.size() < *size_) return Result::kNeedMore;
  response_ = std::move(pending_);
  pending_.clear();
  size_.reset();
  return Result::kResponse;
}

bool IsLookupErrorResponse(std::string_view data) { return data.substr(0, 2) == "E_"; }

}  // namespace nsq::protocol
