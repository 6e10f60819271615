// The seed corpus of the decoder fuzz target.
//
// Rather than one hand-written filler per struct, each struct is encoded
// once as it is by default and once filled (every container holding
// elements), and then varied at the msgpack level: each field in turn gets
// the extreme values of its own type and a value of every other type; keys go
// missing, come twice, come unknown or not as strings; containers are
// emptied, repeated and written with wider headers than needed. A struct
// added to messages.h gets all of this once it is in DOS_FUZZ_STRUCTS.
#include <cstdint>
#include <limits>

#include "common/net/seal.h"
#include "common/proto/codec.h"
#include "tests/fuzz/decode_fuzz.h"

namespace dos::fuzz {

namespace {

using msgpack::object;
using Packer = msgpack::packer<msgpack::sbuffer>;

// A packer that can also splice in bytes that are already encoded.
struct Writer {
  msgpack::sbuffer buf;
  Packer pk{buf};
  void Raw(const std::string& s) { buf.write(s.data(), s.size()); }
  std::string Take() const { return std::string(buf.data(), buf.size()); }
};

template <typename F>
std::string Pack(F&& f) {
  Writer w;
  f(w.pk);
  return w.Take();
}

std::string Bin(size_t n) {
  return Pack([n](Packer& pk) {
    std::string b(n, '\xa5');
    pk.pack_bin(static_cast<uint32_t>(n));
    pk.pack_bin_body(b.data(), static_cast<uint32_t>(n));
  });
}

// One value of each msgpack type: the wrong type for nearly every field.
std::vector<std::string> AnyTypeValues() {
  return {
      Pack([](Packer& pk) { pk.pack_nil(); }),
      Pack([](Packer& pk) { pk.pack_true(); }),
      Pack([](Packer& pk) { pk.pack(-1); }),
      Pack([](Packer& pk) { pk.pack(7u); }),
      Pack([](Packer& pk) { pk.pack(1.5); }),
      Pack([](Packer& pk) { pk.pack(std::string("x")); }),
      Bin(1),
      Pack([](Packer& pk) { pk.pack_array(1).pack(1); }),
      Pack([](Packer& pk) { pk.pack_map(1).pack(std::string("k")).pack(1); }),
      Pack([](Packer& pk) {
        pk.pack_ext(1, 7);
        pk.pack_ext_body("e", 1);
      }),
      // Deeper than the decoder's depth limit.
      Pack([](Packer& pk) {
        for (int i = 0; i < 40; ++i) pk.pack_array(1);
        pk.pack(0);
      }),
  };
}

std::vector<std::string> IntValues() {
  std::vector<std::string> out;
  // clang-format off
  for (uint64_t v : {0ull, 1ull, 2ull, 3ull, 4ull, 127ull, 128ull, 255ull, 256ull, 4096ull,
                     4097ull, 65535ull, 65536ull, 0xffffffffull, 0x100000000ull, 1ull << 40,
                     (1ull << 40) + 1, 1ull << 50, 0x7fffffffffffffffull, 0x8000000000000000ull,
                     ~0ull})
    out.push_back(Pack([v](Packer& pk) { pk.pack(v); }));
  // clang-format on
  for (int64_t v : {int64_t{-1}, int64_t{-33}, int64_t{-129}, int64_t{INT32_MIN},
                    std::numeric_limits<int64_t>::min()})
    out.push_back(Pack([v](Packer& pk) { pk.pack(v); }));
  // The same small number in a needlessly wide encoding.
  out.push_back(std::string("\xcf\0\0\0\0\0\0\0\x05", 9));
  out.push_back(std::string("\xd3\xff\xff\xff\xff\xff\xff\xff\xff", 9));
  return out;
}

std::vector<std::string> StrValues() {
  // clang-format off
  const std::string strs[] = {
      "", ".", "..", "/", "a/b", std::string("a\0b", 3), "\xff\xfe\x80", "user.x",
      "security.capability", "trusted.", "system.posix_acl_access", "UP",
      "tcp://127.0.0.1:1", "tcp://256.0.0.1:99999", "inproc://x", "ipc:///nonexistent/x",
      std::string(31, 'a'), std::string(32, 'a'), std::string(255, 'n'), std::string(256, 'n'),
      std::string(300, 'n'), std::string(4095, 'p'), std::string(4096, 'p'),
      std::string(65537, 'q')};
  // clang-format on
  std::vector<std::string> out;
  for (const std::string& s : strs) out.push_back(Pack([&s](Packer& pk) { pk.pack(s); }));
  out.push_back(std::string("\xdb\0\0\0\x01z", 6));  // str32 of one byte
  return out;
}

std::vector<std::string> BinValues() {
  std::vector<std::string> out;
  for (size_t n : {0, 1, 255, 256, 65536, 65537}) out.push_back(Bin(n));
  out.push_back(Pack([](Packer& pk) { pk.pack(std::string("as str")); }));
  return out;
}

void Vary(const object& o, std::vector<std::string>* out);

// A map with value i replaced by each of vals.
void SpliceMapValue(const object& o, uint32_t i, const std::vector<std::string>& vals,
                    std::vector<std::string>* out) {
  const auto& m = o.via.map;
  for (const std::string& v : vals) {
    Writer w;
    w.pk.pack_map(m.size);
    for (uint32_t j = 0; j < m.size; ++j) {
      w.pk.pack(m.ptr[j].key);
      if (j == i) {
        w.Raw(v);
      } else {
        w.pk.pack(m.ptr[j].val);
      }
    }
    out->push_back(w.Take());
  }
}

void VaryMapShape(const object& o, std::vector<std::string>* out) {
  const auto& m = o.via.map;
  for (uint32_t i = 0; i < m.size; ++i) {
    Writer missing, twice;
    missing.pk.pack_map(m.size - 1);
    twice.pk.pack_map(m.size + 1);
    twice.pk.pack(m.ptr[i].key).pack_nil();  // the first of two wins
    for (uint32_t j = 0; j < m.size; ++j) {
      twice.pk.pack(m.ptr[j].key).pack(m.ptr[j].val);
      if (j != i) missing.pk.pack(m.ptr[j].key).pack(m.ptr[j].val);
    }
    out->push_back(missing.Take());
    out->push_back(twice.Take());
  }
  Writer unknown, int_key, bin_key, wide;
  unknown.pk.pack_map(m.size + 1);
  unknown.pk.pack(std::string("zz_unknown"));
  unknown.pk.pack_array(2).pack(1).pack_map(1).pack(std::string("a")).pack_nil();
  int_key.pk.pack_map(m.size + 1).pack(1).pack(1);
  bin_key.pk.pack_map(m.size + 1);
  bin_key.pk.pack_bin(2).pack_bin_body("id", 2);
  bin_key.pk.pack(1);
  wide.Raw(std::string("\xdf\0\0\0", 4) + static_cast<char>(m.size));
  for (uint32_t j = 0; j < m.size; ++j) {
    for (Writer* w : {&unknown, &int_key, &bin_key, &wide})
      w->pk.pack(m.ptr[j].key).pack(m.ptr[j].val);
  }
  for (Writer* w : {&unknown, &int_key, &bin_key, &wide}) out->push_back(w->Take());
}

void VaryArray(const object& o, std::vector<std::string>* out) {
  const auto& a = o.via.array;
  out->push_back(Pack([](Packer& pk) { pk.pack_array(0); }));
  if (a.size == 0) return;
  std::vector<std::string> first;
  Vary(a.ptr[0], &first);
  for (const std::string& v : first) {
    Writer w;
    w.pk.pack_array(a.size);
    w.Raw(v);
    for (uint32_t j = 1; j < a.size; ++j) w.pk.pack(a.ptr[j]);
    out->push_back(w.Take());
  }
  for (uint32_t n : {17u, 100u, 4097u}) {
    Writer w;
    w.pk.pack_array(n);
    for (uint32_t j = 0; j < n; ++j) w.pk.pack(a.ptr[0]);
    out->push_back(w.Take());
  }
  Writer wide;  // array32 header for a short array
  wide.Raw(std::string("\xdd\0\0\0", 4) + static_cast<char>(a.size));
  for (uint32_t j = 0; j < a.size; ++j) wide.pk.pack(a.ptr[j]);
  out->push_back(wide.Take());
}

// Encodings of o with one thing changed, for every thing in it.
void Vary(const object& o, std::vector<std::string>* out) {
  switch (o.type) {
    case msgpack::type::MAP:
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        std::vector<std::string> vals;
        Vary(o.via.map.ptr[i].val, &vals);
        SpliceMapValue(o, i, vals, out);
      }
      VaryMapShape(o, out);
      break;
    case msgpack::type::ARRAY:
      VaryArray(o, out);
      break;
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      for (std::string& v : IntValues()) out->push_back(std::move(v));
      break;
    case msgpack::type::STR:
      for (std::string& v : StrValues()) out->push_back(std::move(v));
      break;
    case msgpack::type::BIN:
      for (std::string& v : BinValues()) out->push_back(std::move(v));
      break;
    default:
      break;
  }
  for (std::string& v : AnyTypeValues()) out->push_back(std::move(v));
}

// ---- filled instances: every container holds something ---------------------

proto::Attr FullAttr(uint64_t ino) {
  proto::Attr a;
  a.ino = ino;
  a.mode = 0100644;
  a.nlink = 1;
  a.uid = 1000;
  a.gid = 1000;
  a.rdev = 0x0801;
  a.size = 5ull << 32;
  a.atime_ns = -1;
  a.mtime_ns = 1700000000123456789;
  a.ctime_ns = std::numeric_limits<int64_t>::max();
  a.has_xattrs = true;
  return a;
}

proto::ChunkInfo FullChunk(uint64_t index) {
  proto::ChunkInfo c;
  c.index = index;
  c.id = 0x1000 + index;
  c.version = 3;
  c.replicas = {{"node1", "tcp://127.0.0.1:7701"}, {"node2", "tcp://127.0.0.1:7702"}};
  return c;
}

proto::NodeInfo FullNode(int i) {
  proto::NodeInfo n;
  n.name = "node" + std::to_string(i);
  n.addr = "tcp://127.0.0.1:770" + std::to_string(i);
  n.state = "UP";
  n.capacity = 1ull << 40;
  n.used = 1ull << 30;
  n.chunks = 12;
  n.last_seen_ms = 1700000000000;
  return n;
}

// Encodings to vary, per struct: the default and, where it differs in shape,
// a filled one.
std::vector<std::vector<std::string>> Bases() {
  using namespace proto;
  std::vector<std::vector<std::string>> b(kStructCount);
#define DOS_FUZZ_DEFAULT(T) b[k##T].push_back(Encode(T{}));
  DOS_FUZZ_STRUCTS(DOS_FUZZ_DEFAULT)
#undef DOS_FUZZ_DEFAULT
  b[kEnvelope].push_back(Encode(Envelope{kProtocolVersion, 100, ~0ull, 15000, EPROTO, "oops"}));
  b[kAttr].push_back(Encode(FullAttr(7)));
  b[kEntryRep].push_back(Encode(EntryRep{FullAttr(7)}));
  b[kEntryRep].push_back(Encode(EntryRep{FullAttr(7), FullAttr(1)}));
  b[kChunkInfo].push_back(Encode(FullChunk(0)));
  b[kChunkAllocRep].push_back(Encode(ChunkAllocRep{FullChunk(9)}));
  b[kChunkListRep].push_back(Encode(ChunkListRep{kDefaultChunkSize, {FullChunk(0), FullChunk(1)}}));
  b[kReaddirRep].push_back(
      Encode(ReaddirRep{{DirEntry{"a", 1, FullAttr(2)}, DirEntry{"b", 2, FullAttr(3)}}, true}));
  b[kListxattrRep].push_back(Encode(ListxattrRep{{"user.a", "user.b"}}));
  b[kNodeListRep].push_back(Encode(NodeListRep{{FullNode(1), FullNode(2)}}));
  b[kSetxattrReq].push_back(Encode(SetxattrReq{1, "user.a", {'\0', '\xff'}, 1}));
  b[kXattrRep].push_back(Encode(XattrRep{{'v', '\0'}}));
  b[kChunkWriteReq].push_back(
      Encode(ChunkWriteReq{5, 1, 4096, {"tcp://127.0.0.1:7702", "tcp://127.0.0.1:7703"}, {}}));
  b[kChunkWriteReq].push_back(
      Encode(ChunkWriteReq{5, 1, 0, {"tcp://127.0.0.1:7703"}, {{0, 4096}, {65536, 13}}}));
  b[kChunkDeleteManyReq].push_back(Encode(ChunkDeleteManyReq{{1, 0x1000, ~0ull}}));
  b[kExtent].push_back(Encode(Extent{65536, 4096}));
  b[kReleaseManyReq].push_back(Encode(ReleaseManyReq{7, {2, 2, 0x1000}}));
  b[kRemoveRep].push_back(Encode(RemoveRep{}));
  b[kRemoveRep].push_back(Encode(RemoveRep{Attr{1, 040755, 3, 0, 0, 0, 4096, 1, 2, 3}}));
  b[kOpenReq].push_back(Encode(OpenReq{2, 7, 0, {3, 4}}));
  b[kFailedChunk].push_back(Encode(FailedChunk{0x1000, EIO}));
  b[kChunkDeleteManyRep].push_back(
      Encode(ChunkDeleteManyRep{{FailedChunk{0x1000, EIO}, FailedChunk{7, EROFS}}}));
  b[kChunkFailedReq].push_back(Encode(ChunkFailedReq{5, 2, {"node2", "node3"}}));
  b[kFailedReplica].push_back(Encode(FailedReplica{"tcp://127.0.0.1:7703", ETIMEDOUT}));
  b[kChunkWriteRep].push_back(
      Encode(ChunkWriteRep{{FailedReplica{"tcp://127.0.0.1:7703", ETIMEDOUT}}}));
  b[kLockReq].push_back(
      Encode(LockReq{1, 2, 3, 4, 1, 0, std::numeric_limits<int64_t>::max(), true}));
  b[kHeartbeatReq].push_back(Encode(
      HeartbeatReq{"node1", "tcp://127.0.0.1:7701", "/var/lib/dos", 1 << 30, 1 << 20, 3, 42}));
  b[kChunkInventoryRep].push_back(Encode(ChunkInventoryRep{{1, 2}, {3, 4}, true}));
  b[kChunkScrubRep].push_back(Encode(ChunkScrubRep{2, 1 << 20, {7}}));
  b[kFsckRep].push_back(Encode(FsckRep{1, 0, 0, 0, 1, 0, true, {FsckItem{"stray_files", 9, 0, "node2"}}}));
  b[kConfigListRep].push_back(
      Encode(ConfigListRep{7, {ConfigEntry{"replication", "2", "3", "replicas"}}}));
  b[kNetPingRep].push_back(Encode(NetPingRep{{"a", "b"}, {NetPingRow{"a", {12, -1}}}}));
  b[kPeerPingReq].push_back(Encode(PeerPingReq{{"tcp://127.0.0.1:7702"}, 3}));
  b[kPeerPingRep].push_back(Encode(PeerPingRep{{5, -1}}));
  b[kHeartbeatRep].push_back(Encode(HeartbeatRep{3, {{"replication", "2"}}, 2, 3}));
  b[kSealOpenRep].push_back(Encode(SealOpenRep{~0ull, std::string(32, '\0'), 65535}));
  b[kJoinReq].push_back(Encode(JoinReq{"node4", "tcp://127.0.0.1:7704", "abc"}));
  const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  b[kKeyInfo].push_back(Encode(KeyInfo{"admin", key, "admin", true, 1700000000000}));
  b[kKeyAddReq].push_back(Encode(KeyAddReq{"node-1", key, "node"}));
  b[kKeyAddReq].push_back(Encode(KeyAddReq{"alice", key, "user", 1000, 100}));
  b[kKeyRevokeReq].push_back(Encode(KeyRevokeReq{"user.1"}));
  b[kKeySyncReq].push_back(Encode(KeySyncReq{~0ull}));
  b[kKeyListRep].push_back(
      Encode(KeyListRep{7,
                        true,
                        {KeyInfo{"a", key, "user", false, 1, 1000, 1000},
                         KeyInfo{"b", key, "node", true, 2}}}));
  return b;
}

// Whole-message shapes that are not the struct at all.
std::vector<std::string> Shapes(const std::string& good) {
  std::vector<std::string> out = AnyTypeValues();
  out.push_back("");
  out.push_back(std::string("\xc1", 1));                         // never used in msgpack
  out.push_back(std::string("\xdf\xff\xff\xff\xff", 5) + good);  // map of 2^32-1 pairs
  out.push_back(std::string("\xdd\xff\xff\xff\xff", 5));         // array of 2^32-1
  out.push_back(std::string("\xdb\xff\xff\xff\xff", 5));         // str of 4 GiB
  out.push_back(std::string("\xc6\x7f\xff\xff\xff", 5));         // bin of 2 GiB
  out.push_back(good + good);                                    // trailing message
  out.push_back(good + std::string(1, '\0'));                    // trailing byte
  for (size_t n = 1; n < good.size(); n += 1 + good.size() / 16) out.push_back(good.substr(0, n));
  return out;
}

void AddFrameSeeds(const std::vector<std::vector<std::string>>& bases,
                   std::vector<std::string>* out) {
  auto env = [](uint32_t op, uint32_t v) {
    proto::Envelope e;
    e.v = v;
    e.op = op;
    e.id = 77;
    e.timeout_ms = 1000;
    return proto::Encode(e);
  };
  const std::string id("\0routing", 8);
  for (const OpRoute& r : kOpRoutes) {
    for (const std::string& body : bases[r.req]) {
      out->push_back(FramesInput({id, env(r.op, proto::kProtocolVersion), body}));
      out->push_back(FramesInput({id, env(r.op, proto::kProtocolVersion), body, "data"}));
    }
    for (const std::string& body : bases[r.rep])
      out->push_back(FramesInput({id, env(r.op, proto::kProtocolVersion), body}));
    out->push_back(FramesInput({id, env(r.op, 0), bases[r.req][0]}));
    out->push_back(FramesInput({id, env(r.op, 2), bases[r.req][0]}));
    out->push_back(FramesInput({id, env(r.op, proto::kProtocolVersion)}));
    out->push_back(FramesInput({id, env(r.op, 1), bases[r.req][0], "d", "extra"}));
    out->push_back(FramesInput({id, env(r.op, 1), ""}));
  }
  for (uint32_t op : {0u, 24u, 43u, 99u, 106u, 200u, ~0u})
    out->push_back(FramesInput({id, env(op, 1), proto::Encode(proto::Empty{})}));
  // A sealed chunk write under the all-zero key the fuzz target opens with,
  // and a notice.
  net::Message w;
  w.env.op = static_cast<uint32_t>(proto::Op::kChunkWrite);
  w.env.id = 77;
  w.body = bases[kChunkWriteReq][0];
  w.data.emplace("data", 4);
  if (auto sealed = net::SealMessage(net::SealKey{}, net::SealDir::kToServer, 1, w); sealed.ok()) {
    std::vector<std::string> f{id};
    for (auto& m : *sealed) f.push_back(m.to_string());
    out->push_back(FramesInput(f));
  }
  out->push_back(FramesInput({id, net::SealNotice(1, 77, "x")[0].to_string()}));
  out->push_back(FramesInput({id}));
  out->push_back(FramesInput({id, "garbage", "x"}));
  out->push_back(FramesInput({id, "", ""}));
}

}  // namespace

std::vector<std::string> SeedCorpus() {
  const std::vector<std::vector<std::string>> bases = Bases();
  std::vector<std::string> out;
  for (uint8_t t = 0; t < kStructCount; ++t) {
    std::vector<std::string> bodies;
    for (const std::string& base : bases[t]) {
      bodies.push_back(base);
      msgpack::object_handle oh = msgpack::unpack(base.data(), base.size());
      Vary(oh.get(), &bodies);
      for (std::string& s : Shapes(base)) bodies.push_back(std::move(s));
    }
    for (const std::string& body : bodies) out.push_back(static_cast<char>(t) + body);
  }
  AddFrameSeeds(bases, &out);
  return out;
}

}  // namespace dos::fuzz
