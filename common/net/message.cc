#include "common/net/message.h"

namespace dos::net {

bool SendMessage(zmq::socket_t& sock, Message& msg, bool dontwait) {
  std::string env = proto::Encode(msg.env);
  auto more = zmq::send_flags::sndmore | (dontwait ? zmq::send_flags::dontwait : zmq::send_flags::none);
  auto last = dontwait ? zmq::send_flags::dontwait : zmq::send_flags::none;
  try {
    if (!sock.send(zmq::buffer(env), more)) return false;
    if (!sock.send(zmq::buffer(msg.body), msg.data ? more : last)) return false;
    if (msg.data && !sock.send(*msg.data, last)) return false;
  } catch (const zmq::error_t&) {
    return false;
  }
  return true;
}

Status ParseMessage(std::vector<zmq::message_t>& frames, size_t first, Message* out) {
  const size_t n = frames.size() - first;
  if (n != 2 && n != 3) return Status::Err(EPROTO, "message has " + std::to_string(n) + " frames");
  auto& env = frames[first];
  Status s = proto::Decode(static_cast<const char*>(env.data()), env.size(), &out->env,
                           proto::kMaxEnvelope);
  if (!s.ok()) return Status::Err(s.err(), "envelope: " + s.message());
  if (out->env.v != proto::kProtocolVersion)
    return Status::Err(EPROTO, "protocol version " + std::to_string(out->env.v) + ", want " +
                                   std::to_string(proto::kProtocolVersion));
  auto& body = frames[first + 1];
  if (body.size() > proto::kMaxBody) return Status::Err(EINVAL, "body over size limit");
  out->body.assign(static_cast<const char*>(body.data()), body.size());
  if (n == 3) {
    if (frames[first + 2].size() > proto::kMaxData)
      return Status::Err(EINVAL, "data frame over size limit");
    out->data = std::move(frames[first + 2]);
  }
  return Status::Ok();
}

}  // namespace dos::net
