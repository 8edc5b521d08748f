// A push-fed, resumable decoder for the client-to-server byte stream of protocol V2.
//
// Feed it bytes as they arrive, in any split; it returns the same commands and errors for any
// split of the same input. Declared sizes are checked against the limits before any memory is
// reserved for them, so a 2 GB size field costs nothing. The 4-byte magic is not part of this
// stream: the connection reads it first.
//
//   CommandDecoder decoder(limits);
//   std::string_view input = ...;
//   while (true) {
//     size_t used = 0;
//     auto result = decoder.Decode(input, &used);
//     input.remove_prefix(used);
//     if (result == CommandDecoder::Result::kNeedMore) break;            // wait for bytes
//     if (result == CommandDecoder::Result::kError) { send(decoder.error()); close(); }
//     handle(decoder.command());                                          // kCommand
//   }
//
// After kError the decoder stays broken (every later call returns kError): all decode errors
// are fatal in NSQ.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol/command.h"
#include "common/protocol/errors.h"

namespace nsq::protocol {

struct DecoderLimits {
  int64_t max_msg_size = 1048576;        // --max-msg-size: PUB/DPUB body, each MPUB message
  int64_t max_body_size = 5242880;       // --max-body-size: IDENTIFY/AUTH/MPUB body
  int64_t max_req_timeout_ms = 3600000;  // --max-req-timeout: DPUB upper bound (inclusive)
  size_t max_line_length = 4096;         // a longer command line is E_INVALID and fatal
};

// Why decoding stopped, with what nsqd's answer to it depends on.
struct DecodeFailure {
  ClientError error;
  // The command it is about, as the client wrote its name ("PUB", "ASDF"); empty when it is
  // about no command (a line too long). nsqd's --tls-required answer names it.
  std::string command;
  // See CommandDecoder::refused_mpub_topic.
  std::string refused_mpub_topic;
};

class CommandDecoder {
 public:
  enum class Result { kNeedMore, kCommand, kError };

  explicit CommandDecoder(DecoderLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from `input` (sets *consumed) and stops after at most one command.
  // kCommand: command() holds it until the next call. kError: error() says why.
  Result Decode(std::string_view input, size_t* consumed);

  const Command& command() const { return command_; }
  // The command (after kCommand), for a handler that may move parts out of it; what it leaves
  // is reused by the next command (decoding it does not depend on what is left).
  Command& mutable_command() { return command_; }
  const ClientError& error() const { return error_; }

  // The error nsqd sends when the client's input ends here (it closed its write side in the
  // middle of a command's size or body: "E_BAD_MESSAGE PUB failed to read message body");
  // nullopt when ending here needs no answer (between commands, or inside a command line).
  std::optional<ClientError> ErrorAtEndOfInput() const;

  // After an MPUB was refused for its body: its topic, which nsqd creates before it reads the
  // body (so it exists in /stats even though nothing was published). Empty otherwise.
  const std::string& refused_mpub_topic() const { return refused_mpub_topic_; }

  // After kError: the error with the command's name and the refused MPUB topic. With
  // `error` (ErrorAtEndOfInput's): the same for input that ended inside a command.
  DecodeFailure Failure() const { return Failure(error_); }
  DecodeFailure Failure(const ClientError& error) const;

  // Limits may change at run time (e.g. a config reload); every check made after the call uses
  // them, including the size checks of a command whose line was already read.
  void set_limits(const DecoderLimits& limits) { limits_ = limits; }

 private:
  enum class State { kLine, kBodySize, kBody, kBroken };

  Result Fail(ClientError error);
  Result OnLine(std::string_view line);
  Result OnBodySize(int32_t size);
  Result OnBody();
  // MPUB's message count, checked as soon as its 4 bytes are in (before the rest of the body).
  std::optional<ClientError> CheckMpubCount(std::string_view body) const;
  // Splits an MPUB body into messages with nsqd's checks; `complete` is false for a body cut
  // short, which then fails where nsqd's reads would have.
  std::optional<ClientError> ParseMpub(std::string_view body, bool complete,
                                       std::vector<Body>* messages) const;

  DecoderLimits limits_;
  State state_ = State::kLine;
  std::string line_;  // partial command line
  char size_bytes_[4] = {};
  size_t size_have_ = 0;
  size_t body_expected_ = 0;
  bool mpub_count_checked_ = false;
  Command command_;
  ClientError error_;
  std::string refused_mpub_topic_;
  std::string_view command_name_;  // the known command being decoded (static text)
  std::string unknown_command_;    // the name of a line refused as an unknown command
};

}  // namespace nsq::protocol
