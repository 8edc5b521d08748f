// The error codes nsqd sends in type-1 frames, and the ClientError value that carries one.
//
// Every E_* code lives here so the daemon, the client and the tests compare the same strings.
// The text after the code is free-form but clients and upstream tests compare it too, so the
// exact texts are built where the error is detected (see command_decoder.cc, nsqd/client_*.cc).
//
//   return ClientError::Fatal(kBadTopic, absl::StrCat("PUB topic name \"", t, "\" is not valid"));
#pragma once

#include <string>
#include <string_view>

namespace nsq::protocol {

inline constexpr std::string_view kInvalid = "E_INVALID";
inline constexpr std::string_view kBadBody = "E_BAD_BODY";
inline constexpr std::string_view kBadTopic = "E_BAD_TOPIC";
inline constexpr std::string_view kBadChannel = "E_BAD_CHANNEL";
inline constexpr std::string_view kBadMessage = "E_BAD_MESSAGE";
inline constexpr std::string_view kPubFailed = "E_PUB_FAILED";
inline constexpr std::string_view kMpubFailed = "E_MPUB_FAILED";
inline constexpr std::string_view kDpubFailed = "E_DPUB_FAILED";
inline constexpr std::string_view kSubFailed = "E_SUB_FAILED";
inline constexpr std::string_view kFinFailed = "E_FIN_FAILED";
inline constexpr std::string_view kReqFailed = "E_REQ_FAILED";
inline constexpr std::string_view kTouchFailed = "E_TOUCH_FAILED";
inline constexpr std::string_view kIdentifyFailed = "E_IDENTIFY_FAILED";
inline constexpr std::string_view kAuthDisabled = "E_AUTH_DISABLED";
inline constexpr std::string_view kAuthFailed = "E_AUTH_FAILED";
inline constexpr std::string_view kUnauthorized = "E_UNAUTHORIZED";
inline constexpr std::string_view kAuthFirst = "E_AUTH_FIRST";
inline constexpr std::string_view kAuthError = "E_AUTH_ERROR";
inline constexpr std::string_view kBadProtocol = "E_BAD_PROTOCOL";

// An error to report to a client. Fatal errors close the connection after the error frame;
// only E_FIN_FAILED, E_REQ_FAILED and E_TOUCH_FAILED are sent as non-fatal.
struct ClientError {
  std::string code;  // one of the k* constants above
  std::string text;  // description after the code, e.g. "invalid command ASDF"
  bool fatal = true;

  static ClientError Fatal(std::string_view code, std::string text) {
    return ClientError{std::string(code), std::move(text), true};
  }
  static ClientError NonFatal(std::string_view code, std::string text) {
    return ClientError{std::string(code), std::move(text), false};
  }

  // The data of the error frame: "E_CODE description".
  std::string FrameData() const { return code + " " + text; }

  bool operator==(const ClientError&) const = default;
};

}  // namespace nsq::protocol
