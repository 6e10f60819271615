// Field rules of the cluster administration requests (messages_mgmt.h).
#include "common/proto/messages.h"

namespace dos::proto {

namespace {
Status NodeName(const std::string& name) {
  if (name.empty() || name.size() > kMaxName) return Status::Err(EINVAL, "bad node name");
  if (name.find('\0') != std::string::npos) return Status::Err(EINVAL, "NUL in node name");
  return Status::Ok();
}
// Label keys: [a-z0-9_.-], 1..kMaxLabel; values the same or empty.
bool LabelText(const std::string& s, bool allow_empty) {
  if (s.size() > kMaxLabel || (s.empty() && !allow_empty)) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  return true;
}
Status Endpoint(const std::string& addr) {
  if (addr.rfind("tcp://", 0) != 0 || addr.size() > kMaxAddr)
    return Status::Err(EINVAL, "address is not a tcp:// endpoint");
  return Status::Ok();
}
}  // namespace

Status ConfigSetReq::Valid() const {
  if (key.empty() || key.size() > kMaxConfigKey) return Status::Err(EINVAL, "bad setting name");
  if (value.size() > kMaxConfigValue) return Status::Err(EINVAL, "setting value too long");
  return Status::Ok();
}
Status NodeLabelReq::Valid() const {
  if (Status s = NodeName(name); !s.ok()) return s;
  if (!LabelText(key, false))
    return Status::Err(EINVAL, "label key must be 1-63 of [A-Za-z0-9_.-]");
  if (!LabelText(value, remove))
    return Status::Err(EINVAL, "label value must be 1-63 of [A-Za-z0-9_.-]");
  return Status::Ok();
}
Status NodeAdminReq::Valid() const {
  if (Status s = NodeName(name); !s.ok()) return s;
  if (action != "cordon" && action != "uncordon" && action != "drain")
    return Status::Err(EINVAL, "action must be cordon, uncordon or drain");
  return Status::Ok();
}
Status NodeNameReq::Valid() const { return NodeName(name); }
Status JoinReq::Valid() const {
  if (Status s = NodeName(name); !s.ok()) return s;
  if (Status s = Endpoint(addr); !s.ok()) return s;
  if (token.size() > kMaxToken) return Status::Err(EACCES, "bad join token");
  return Status::Ok();
}
Status PeerPingReq::Valid() const {
  if (peers.size() > kMaxPeers) return Status::Err(EINVAL, "too many peers");
  if (count == 0 || count > 10) return Status::Err(EINVAL, "count out of 1..10");
  for (const std::string& p : peers)
    if (Status s = Endpoint(p); !s.ok()) return s;
  return Status::Ok();
}

}  // namespace dos::proto
