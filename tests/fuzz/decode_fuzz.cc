// The fuzz entry point: bytes -> proto::Decode / net::ParseMessage. See
// decode_fuzz.h for the input layout. Built into fuzz_test (gtest, always)
// and, by run-libfuzzer, into a clang -fsanitize=fuzzer binary.
#include "tests/fuzz/decode_fuzz.h"

#include <cstdio>
#include <cstdlib>

#include "common/net/message.h"
#include "common/net/seal.h"
#include "common/proto/codec.h"

namespace dos::fuzz {

namespace {

using proto::Op;

[[noreturn]] void Fail(const char* type, const std::string& what, const std::string& bytes) {
  std::fprintf(stderr, "decode_fuzz: %s: %s; re-encoded %zu bytes:", type, what.c_str(),
               bytes.size());
  for (size_t i = 0; i < bytes.size() && i < 256; ++i)
    std::fprintf(stderr, " %02x", static_cast<unsigned char>(bytes[i]));
  std::fprintf(stderr, "\n");
  std::abort();
}

// Decode, Valid(), then encode -> decode -> encode must give the same bytes
// twice: what decodes must be a fixed point of the codec after one pass.
template <typename T, StructId kId>
bool RoundTrip(const char* data, size_t len) {
  T first;
  if (!proto::Decode(data, len, &first).ok()) return false;
  if constexpr (requires { first.Valid(); }) (void)first.Valid();
  const std::string once = proto::Encode(first);
  T second;
  // The limits follow the length: a message that grows on re-encoding (keys
  // the sender left out come back with their defaults) must still decode.
  if (Status s = proto::Decode(once, &second, once.size()); !s.ok())
    Fail(kStructNames[kId], "re-encoded message does not decode: " + s.ToString(), once);
  const std::string twice = proto::Encode(second);
  if (once != twice) Fail(kStructNames[kId], "second encoding differs from the first", twice);
  return true;
}

using Decoder = bool (*)(const char*, size_t);

const Decoder kDecoders[kStructCount] = {
#define DOS_FUZZ_DECODER(T) &RoundTrip<proto::T, k##T>,
    DOS_FUZZ_STRUCTS(DOS_FUZZ_DECODER)
#undef DOS_FUZZ_DECODER
};

bool Frames(const uint8_t* data, size_t len) {
  std::vector<zmq::message_t> frames;
  size_t off = 0;
  while (off < len && frames.size() < 8) {
    size_t n = data[off];
    if (off + 1 < len) n |= static_cast<size_t>(data[off + 1]) << 8;
    off = std::min(len, off + 2);
    n = std::min(n, len - off);
    frames.emplace_back(data + off, n);
    off += n;
  }
  // As Server::Dispatch: the routing id, then the message.
  if (frames.size() < 2) return false;
  if (net::IsSealNotice(frames[1])) return net::ReadSealNotice(frames[1]).ok();
  if (net::IsSealedHeader(frames[1])) {
    auto h = net::ReadSealHeader(frames[1]);
    if (!h.ok()) return false;
    net::SealKey key;  // all zero: the input cannot know a real one
    std::vector<zmq::message_t> plain;
    return net::OpenFrames(key, net::SealDir::kToServer, *h, frames, 1, &plain).ok();
  }
  net::Message msg;
  if (!net::ParseMessage(frames, 1, &msg).ok()) return false;
  for (const OpRoute& r : kOpRoutes) {
    if (r.op != msg.env.op) continue;
    bool req = kDecoders[r.req](msg.body.data(), msg.body.size());
    (void)kDecoders[r.rep](msg.body.data(), msg.body.size());
    return req;
  }
  return false;
}

}  // namespace

const char* const kStructNames[kStructCount] = {
#define DOS_FUZZ_NAME(T) #T,
    DOS_FUZZ_STRUCTS(DOS_FUZZ_NAME)
#undef DOS_FUZZ_NAME
};

// As daemon/meta/handlers.cc and daemon/chunk/handlers.cc register them.
const std::vector<OpRoute> kOpRoutes = {
    {uint32_t(Op::kLookup), kLookupReq, kEntryRep},
    {uint32_t(Op::kGetattr), kInoReq, kAttrRep},
    {uint32_t(Op::kSetattr), kSetattrReq, kAttrRep},
    {uint32_t(Op::kMknod), kMknodReq, kEntryRep},
    {uint32_t(Op::kMkdir), kMkdirReq, kEntryRep},
    {uint32_t(Op::kUnlink), kRemoveReq, kRemoveRep},
    {uint32_t(Op::kRmdir), kRemoveReq, kRemoveRep},
    {uint32_t(Op::kSymlink), kSymlinkReq, kEntryRep},
    {uint32_t(Op::kReadlink), kInoReq, kReadlinkRep},
    {uint32_t(Op::kLink), kLinkReq, kEntryRep},
    {uint32_t(Op::kRename), kRenameReq, kRenameRep},
    {uint32_t(Op::kReaddir), kReaddirReq, kReaddirRep},
    {uint32_t(Op::kStatfs), kEmpty, kStatfsRep},
    {uint32_t(Op::kSetxattr), kSetxattrReq, kEmpty},
    {uint32_t(Op::kGetxattr), kXattrNameReq, kXattrRep},
    {uint32_t(Op::kListxattr), kInoReq, kListxattrRep},
    {uint32_t(Op::kRemovexattr), kXattrNameReq, kEmpty},
    {uint32_t(Op::kOpen), kOpenReq, kOpenRep},
    {uint32_t(Op::kCreate), kCreateReq, kOpenRep},
    {uint32_t(Op::kRelease), kReleaseReq, kEmpty},
    {uint32_t(Op::kReleaseMany), kReleaseManyReq, kEmpty},
    {uint32_t(Op::kChunkList), kChunkListReq, kChunkListRep},
    {uint32_t(Op::kChunkAlloc), kChunkAllocReq, kChunkAllocRep},
    {uint32_t(Op::kCommitWrite), kCommitWriteReq, kAttrRep},
    {uint32_t(Op::kSetRepl), kSetReplReq, kEmpty},
    {uint32_t(Op::kChunkFailed), kChunkFailedReq, kChunkAllocRep},
    {uint32_t(Op::kGetlk), kLockReq, kLockRep},
    {uint32_t(Op::kSetlk), kLockReq, kEmpty},
    {uint32_t(Op::kReleaseLocks), kReleaseLocksReq, kEmpty},
    {uint32_t(Op::kHeartbeat), kHeartbeatReq, kHeartbeatRep},
    {uint32_t(Op::kNodeList), kEmpty, kNodeListRep},
    {uint32_t(Op::kPing), kEmpty, kEmpty},
    {uint32_t(Op::kChunkWrite), kChunkWriteReq, kChunkWriteRep},
    {uint32_t(Op::kChunkForward), kChunkWriteReq, kChunkWriteRep},
    {uint32_t(Op::kChunkForwardLast), kChunkWriteReq, kChunkWriteRep},
    {uint32_t(Op::kConfigList), kEmpty, kConfigListRep},
    {uint32_t(Op::kConfigSet), kConfigSetReq, kConfigListRep},
    {uint32_t(Op::kNodeLabel), kNodeLabelReq, kEmpty},
    {uint32_t(Op::kNodeAdmin), kNodeAdminReq, kEmpty},
    {uint32_t(Op::kNodeRemove), kNodeNameReq, kEmpty},
    {uint32_t(Op::kNodeAdd), kNodeNameReq, kNodeAddRep},
    {uint32_t(Op::kJoin), kJoinReq, kEmpty},
    {uint32_t(Op::kNetPing), kEmpty, kNetPingRep},
    {uint32_t(Op::kChunkRead), kChunkReadReq, kEmpty},
    {uint32_t(Op::kChunkTruncate), kChunkTruncateReq, kEmpty},
    {uint32_t(Op::kChunkDelete), kChunkIdReq, kEmpty},
    {uint32_t(Op::kChunkDeleteMany), kChunkDeleteManyReq, kChunkDeleteManyRep},
    {uint32_t(Op::kChunkStat), kChunkIdReq, kChunkStatRep},
    {uint32_t(Op::kChunkSync), kChunkIdReq, kEmpty},
    {uint32_t(Op::kFsHealth), kEmpty, kFsHealthRep},
    {uint32_t(Op::kFsck), kFsckReq, kFsckRep},
    {uint32_t(Op::kChunkInventory), kChunkInventoryReq, kChunkInventoryRep},
    {uint32_t(Op::kChunkScrub), kChunkScrubReq, kChunkScrubRep},
    {uint32_t(Op::kPeerPing), kPeerPingReq, kPeerPingRep},
    {uint32_t(Op::kNodeEcho), kEmpty, kEmpty},
    {uint32_t(Op::kSealOpen), kEmpty, kSealOpenRep},
    {uint32_t(Op::kKeyAdd), kKeyAddReq, kEmpty},
    {uint32_t(Op::kKeyList), kEmpty, kKeyListRep},
    {uint32_t(Op::kKeyRevoke), kKeyRevokeReq, kEmpty},
    {uint32_t(Op::kKeySync), kKeySyncReq, kKeyListRep},
};

bool RunOne(const uint8_t* data, size_t size) {
  if (size == 0) return false;
  const uint8_t target = data[0] % kTargetCount;
  if (target == kFramesTarget) return Frames(data + 1, size - 1);
  return kDecoders[target](reinterpret_cast<const char*>(data + 1), size - 1);
}

std::string FramesInput(const std::vector<std::string>& frames) {
  std::string out(1, static_cast<char>(kFramesTarget));
  for (const std::string& f : frames) {
    const size_t n = std::min<size_t>(f.size(), 0xffff);
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    out.append(f, 0, n);
  }
  return out;
}

}  // namespace dos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)dos::fuzz::RunOne(data, size);
  return 0;
}
