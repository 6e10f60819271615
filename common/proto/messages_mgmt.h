// Cluster administration messages (meta ops 50-59, node ops 115-119): the
// cluster settings, node labels, cordon/drain/remove, join tokens and the
// round-trip time matrix. Included from messages.h, which holds the op
// numbers.
#pragma once

#include <map>

namespace dos::proto {

inline constexpr size_t kMaxConfigKey = 64;
inline constexpr size_t kMaxConfigValue = 64;
inline constexpr size_t kMaxLabel = 63;     // a label key or value
inline constexpr size_t kMaxToken = 128;    // a join token
inline constexpr uint32_t kMaxPeers = 256;  // peers one PeerPing measures

// One cluster setting: its value now, its default and what it means.
struct ConfigEntry {
  std::string key;
  std::string value;
  std::string def;
  std::string help;
  MSGPACK_DEFINE_MAP(key, value, def, help)
};
// Meta -> anyone (request Empty, op kConfigList): every setting; version
// grows by one with each change (heartbeat replies carry it too).
struct ConfigListRep {
  uint64_t version = 0;
  std::vector<ConfigEntry> entries;
  MSGPACK_DEFINE_MAP(version, entries)
};
// Admin -> meta: set key to value (checked: ENOENT for an unknown key,
// EINVAL for a bad value or one out of range). Reply ConfigListRep.
struct ConfigSetReq {
  std::string key;
  std::string value;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(key, value)
};

// Admin -> meta: set label key=value on node name, or drop it (remove).
// ENOENT for an unknown node. Reply Empty.
struct NodeLabelReq {
  std::string name;
  std::string key;
  std::string value;
  bool remove = false;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name, key, value, remove)
};
// Admin -> meta: action is "cordon" (no new chunks there), "uncordon" (back
// to normal, also ends a drain) or "drain" (no new chunks, and its chunks
// move to other nodes). ENOENT for an unknown node. Reply Empty.
struct NodeAdminReq {
  std::string name;
  std::string action;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name, action)
};
// Admin -> meta: one node by name: kNodeRemove (forget it; EBUSY while it
// holds the only copy of a chunk) and kNodeAdd (reply NodeAddRep: a join
// token for a node of that name).
struct NodeNameReq {
  std::string name;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name)
};
struct NodeAddRep {
  std::string token;
  MSGPACK_DEFINE_MAP(token)
};
// New node -> meta: admit node name at addr with a token from kNodeAdd (used
// once), or without one (token empty) when the sender's key is registered
// with role node (`dosctl key add --role node`: the admin's consent). EACCES
// for an unknown or used token, one made for another name, or no token from
// another key. Reply Empty.
struct JoinReq {
  std::string name;
  std::string addr;
  std::string token;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name, addr, token)
};

// One row of the round-trip matrix: from node to each node of
// NetPingRep::nodes, microseconds (-1: no answer).
struct NetPingRow {
  std::string node;
  std::vector<int64_t> rtt_us;
  MSGPACK_DEFINE_MAP(node, rtt_us)
};
// Meta -> anyone (request Empty, op kNetPing): each UP node pings every UP
// node (itself included); rows follow nodes' order.
struct NetPingRep {
  std::vector<std::string> nodes;
  std::vector<NetPingRow> rows;
  MSGPACK_DEFINE_MAP(nodes, rows)
};
// Meta -> node: ping each endpoint count times (kNodeEcho), reply the best
// round trip per peer in microseconds, -1 for no answer.
struct PeerPingReq {
  std::vector<std::string> peers;
  uint32_t count = 3;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(peers, count)
};
struct PeerPingRep {
  std::vector<int64_t> rtt_us;
  MSGPACK_DEFINE_MAP(rtt_us)
};

// Meta -> node, reply to a heartbeat: the cluster settings now (so every
// node sees a change within one heartbeat) and the cluster's state.
struct HeartbeatRep {
  uint64_t config_version = 0;
  std::map<std::string, std::string> config;
  uint32_t nodes_up = 0;
  uint32_t nodes_total = 0;
  MSGPACK_DEFINE_MAP(config_version, config, nodes_up, nodes_total)
};

}  // namespace dos::proto
