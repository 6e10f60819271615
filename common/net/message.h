// One request or reply as it travels: envelope, msgpack body, raw data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/proto/codec.h"

namespace dos::net {

// The key a message's data frame is sealed under (common/net/seal.h).
using DataKey = std::array<uint8_t, 32>;

// A data frame as it arrived sealed: its key and its ciphertext. A node
// passing the data on sends these instead of sealing the data again.
struct SealedData {
  DataKey key{};
  zmq::message_t wire;
  // Another handle on the same key and ciphertext (ZeroMQ shares the buffer).
  SealedData Share() {
    SealedData d;
    d.key = key;
    d.wire.copy(wire);
    return d;
  }
};

struct Message {
  proto::Envelope env;
  std::string body;                    // msgpack of the op's Req or Rep struct
  std::optional<zmq::message_t> data;  // raw bytes, never msgpack-encoded
  // Received requests: the sender's CURVE public key (Z85, the ZAP user id),
  // "" without CURVE. Set by the Server; never sent.
  std::string peer;
  // The data as it came sealed (received requests), or as it is to go
  // sealed (see SealMessage); never sent as a frame of its own.
  std::optional<SealedData> sealed_data;

  std::string_view DataView() const {
    if (!data) return {};
    return std::string_view(static_cast<const char*>(data->data()), data->size());
  }
};

// Frames of msg without routing id: [envelope][body] or [envelope][body][data].
// Sends on sock; false if the socket would block or is gone.
bool SendMessage(zmq::socket_t& sock, Message& msg, bool dontwait);

// Parses frames [envelope][body][data?] (routing id already taken off).
// EPROTO for a wrong frame count, an envelope that does not decode or a
// protocol version this build does not speak.
Status ParseMessage(std::vector<zmq::message_t>& frames, size_t first, Message* out);

}  // namespace dos::net
