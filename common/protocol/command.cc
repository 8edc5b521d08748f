#include "common/protocol/command.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"

namespace nsq::protocol {
namespace {

void AppendSize(size_t size, std::string* out) {
  char bytes[4];
  StoreBigEndian32(bytes, static_cast<uint32_t>(size));
  out->append(bytes, sizeof(bytes));
}

void AppendSizedBody(std::string_view body, std::string* out) {
  AppendSize(body.size(), out);
  out->append(body);
}

// "NAME param param\n". (Debian's abseil has its own string_view type, which absl::StrCat
// wants, so text is appended with std::string's own members.)
void AppendLine(std::string_view name, std::initializer_list<std::string_view> params,
                std::string* out) {
  out->append(name);
  for (std::string_view param : params) out->append(" ").append(param);
  out->append("\n");
}

}  // namespace

std::string_view CommandNameText(CommandName name) {
  switch (name) {
    case CommandName::kIdentify:
      return "IDENTIFY";
    case CommandName::kAuth:
      return "AUTH";
    case CommandName::kSub:
      return "SUB";
    case CommandName::kPub:
      return "PUB";
    case CommandName::kMpub:
      return "MPUB";
    case CommandName::kDpub:
      return "DPUB";
    case CommandName::kRdy:
      return "RDY";
    case CommandName::kFin:
      return "FIN";
    case CommandName::kReq:
      return "REQ";
    case CommandName::kTouch:
      return "TOUCH";
    case CommandName::kCls:
      return "CLS";
    case CommandName::kNop:
      return "NOP";
  }
  return "";
}

void EncodeIdentify(std::string_view json, std::string* out) {
  out->append("IDENTIFY\n");
  AppendSizedBody(json, out);
}

void EncodeAuth(std::string_view secret, std::string* out) {
  out->append("AUTH\n");
  AppendSizedBody(secret, out);
}

void EncodeSub(std::string_view topic, std::string_view channel, std::string* out) {
  AppendLine("SUB", {topic, channel}, out);
}

void EncodePub(std::string_view topic, std::string_view body, std::string* out) {
  AppendLine("PUB", {topic}, out);
  AppendSizedBody(body, out);
}

void EncodeMpub(std::string_view topic, const std::vector<std::string_view>& bodies,
                std::string* out) {
  size_t body_size = 4;  // the message count
  for (std::string_view body : bodies) body_size += 4 + body.size();
  AppendLine("MPUB", {topic}, out);
  out->reserve(out->size() + 4 + body_size);
  AppendSize(body_size, out);
  AppendSize(bodies.size(), out);
  for (std::string_view body : bodies) AppendSizedBody(body, out);
}

void EncodeDpub(std::string_view topic, int64_t defer_ms, std::string_view body, std::string* out) {
  AppendLine("DPUB", {topic, absl::StrCat(defer_ms)}, out);
  AppendSizedBody(body, out);
}

void EncodeRdy(int64_t count, std::string* out) { AppendLine("RDY", {absl::StrCat(count)}, out); }

void EncodeFin(std::string_view id, std::string* out) { AppendLine("FIN", {id}, out); }

void EncodeReq(std::string_view id, int64_t delay_ms, std::string* out) {
  AppendLine("REQ", {id, absl::StrCat(delay_ms)}, out);
}

void EncodeTouch(std::string_view id, std::string* out) { AppendLine("TOUCH", {id}, out); }

void EncodeCls(std::string* out) { out->append("CLS\n"); }

void EncodeNop(std::string* out) { out->append("NOP\n"); }

}  // namespace nsq::protocol
