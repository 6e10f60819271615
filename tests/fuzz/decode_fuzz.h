// The decoder fuzz target: what LLVMFuzzerTestOneInput does with its bytes,
// and the seed corpus that the gtest driver and run-libfuzzer start from.
//
// Input layout: byte 0 picks a target (modulo kTargetCount), the rest is
// that target's input.
//   0 .. kStructCount-1   one struct of messages.h (StructId): the rest is
//                         decoded with proto::Decode; on success it is
//                         encoded, decoded again and encoded again, and the
//                         two encodings must be equal (abort otherwise).
//                         A request also runs Valid().
//   kFramesTarget         the daemon's path: the rest is cut into frames
//                         (each a 2-byte little-endian length, then as many
//                         bytes as are left up to it); frame 0 stands for the
//                         routing id, the others go through
//                         net::ParseMessage as in Server::Dispatch and, for a
//                         known op, the body is decoded into the op's request
//                         (then Valid(), as net::Typed does) and its reply
//                         (as net::Client's caller does). Frames that
//                         start with a sealed header or notice go through
//                         their readers and net::OpenFrames (under a fixed
//                         key) as on a sealed port.
// Nothing here may throw, leak or read out of bounds for any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace dos::fuzz {

// Every struct of common/proto/messages.h, Envelope first. A struct added
// there goes here too (fuzz_test checks that each one has decodable seeds).
// clang-format off
#define DOS_FUZZ_STRUCTS(X)                                                                      \
  X(Envelope) X(Empty) X(Attr) X(Replica) X(ChunkInfo) X(EntryRep) X(AttrRep) X(LookupReq)       \
  X(InoReq) X(SetattrReq) X(MknodReq) X(MkdirReq) X(RemoveReq) X(SymlinkReq) X(ReadlinkRep)      \
  X(LinkReq) X(RenameReq) X(ReaddirReq) X(DirEntry) X(ReaddirRep) X(StatfsRep) X(SetxattrReq)    \
  X(XattrNameReq) X(XattrRep) X(ListxattrRep) X(OpenReq) X(OpenRep) X(ReleaseReq) X(CreateReq)   \
  X(ChunkListReq) X(ChunkListRep) X(ChunkAllocReq) X(ChunkAllocRep) X(CommitWriteReq)            \
  X(SetReplReq) X(LockReq) X(LockRep) X(ReleaseLocksReq) X(HeartbeatReq) X(NodeInfo)            \
  X(NodeListRep) X(ChunkWriteReq) X(ChunkReadReq) X(ChunkTruncateReq) X(ChunkIdReq)             \
  X(ChunkStatRep) X(ChunkFailedReq) X(FailedReplica) X(ChunkWriteRep) X(FsHealthRep)             \
  X(ChunkInventoryReq) X(ChunkInventoryRep) X(ChunkScrubReq) X(ChunkScrubRep) X(FsckReq)          \
  X(FsckItem) X(FsckRep) X(ConfigEntry) X(ConfigListRep) X(ConfigSetReq) X(NodeLabelReq)         \
  X(NodeAdminReq) X(NodeNameReq) X(NodeAddRep) X(JoinReq) X(NetPingRow) X(NetPingRep)            \
  X(PeerPingReq) X(PeerPingRep) X(HeartbeatRep)  \
  X(KeyInfo) X(KeyAddReq) X(KeyRevokeReq) X(KeySyncReq) X(KeyListRep)                           \
  X(ChunkDeleteManyReq) X(FailedChunk) X(ChunkDeleteManyRep) X(Extent) X(ReleaseManyReq)    \
  X(RemoveRep) X(RenameRep) X(SealOpenRep)

enum StructId : uint8_t {
#define DOS_FUZZ_ENUM(T) k##T,
  DOS_FUZZ_STRUCTS(DOS_FUZZ_ENUM)
#undef DOS_FUZZ_ENUM
  kStructCount
};
// clang-format on
inline constexpr uint8_t kFramesTarget = kStructCount;
inline constexpr uint8_t kTargetCount = kStructCount + 1;

extern const char* const kStructNames[kStructCount];

// What the daemons register: op number -> request and reply struct.
struct OpRoute {
  uint32_t op;
  StructId req;
  StructId rep;
};
extern const std::vector<OpRoute> kOpRoutes;

// Runs one input (as LLVMFuzzerTestOneInput) and says whether it got past
// the decoders: the struct decoded, or the frames parsed and the body decoded
// into the op's request. Aborts on a round-trip mismatch.
bool RunOne(const uint8_t* data, size_t size);

// Inputs for the entry point, each starting with its selector byte: every
// struct encoded with interesting values (defaults, extremes, wrong types,
// missing, duplicate and unknown keys, forged containers) and frame sets for
// every op (good, wrong version, wrong frame count, oversized).
std::vector<std::string> SeedCorpus();

// One kFramesTarget input holding frames (routing id first).
std::string FramesInput(const std::vector<std::string>& frames);

}  // namespace dos::fuzz
