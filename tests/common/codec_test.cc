#include "common/proto/codec.h"

#include <gtest/gtest.h>

#include <random>

namespace dos::proto {
namespace {

TEST(Codec, RoundTripEveryField) {
  SetattrReq a;
  a.ino = 42;
  a.valid = kSetMode | kSetSize;
  a.mode = 0100644;
  a.size = 5ull << 32;
  a.mtime_ns = -1234567890123;
  SetattrReq b;
  ASSERT_TRUE(Decode(Encode(a), &b).ok());
  EXPECT_EQ(b.ino, 42u);
  EXPECT_EQ(b.valid, a.valid);
  EXPECT_EQ(b.mode, a.mode);
  EXPECT_EQ(b.size, a.size);
  EXPECT_EQ(b.mtime_ns, a.mtime_ns);
}

TEST(Codec, NestedStructsAndBinary) {
  ReaddirRep rep;
  for (int i = 0; i < 3; ++i) {
    DirEntry e;
    e.name = "f" + std::to_string(i);
    e.cookie = 10 + i;
    e.attr.ino = 100 + i;
    rep.entries.push_back(e);
  }
  rep.eof = true;
  ReaddirRep out;
  ASSERT_TRUE(Decode(Encode(rep), &out).ok());
  ASSERT_EQ(out.entries.size(), 3u);
  EXPECT_EQ(out.entries[2].name, "f2");
  EXPECT_EQ(out.entries[2].attr.ino, 102u);
  EXPECT_TRUE(out.eof);

  SetxattrReq x;
  x.ino = 1;
  x.name = "user.a";
  x.value = {'\0', '\xff', 'z'};
  SetxattrReq y;
  ASSERT_TRUE(Decode(Encode(x), &y).ok());
  EXPECT_EQ(y.value, x.value);
}

// An older reader skips a field it does not know; a newer reader leaves a
// field the sender did not have at its default.
struct OldLookup {
  uint64_t parent = 0;
  MSGPACK_DEFINE_MAP(parent)
};
TEST(Codec, VersionsDecodeEachOther) {
  LookupReq newer;
  newer.parent = 7;
  newer.name = "x";
  OldLookup old;
  ASSERT_TRUE(Decode(Encode(newer), &old).ok());
  EXPECT_EQ(old.parent, 7u);
  LookupReq back;
  back.name = "default";
  ASSERT_TRUE(Decode(Encode(old), &back).ok());
  EXPECT_EQ(back.parent, 7u);
  EXPECT_EQ(back.name, "default");
}

TEST(Codec, WrongTypeIsEproto) {
  // {"parent": "not a number"}
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(1);
  pk.pack(std::string("parent"));
  pk.pack(std::string("not a number"));
  LookupReq r;
  EXPECT_EQ(Decode(buf.data(), buf.size(), &r).err(), EPROTO);
  // A bare integer is not a map.
  std::string i = Encode(uint64_t{5});
  EXPECT_EQ(Decode(i, &r).err(), EPROTO);
}

TEST(Codec, TruncatedIsRejected) {
  ReaddirRep rep;
  rep.entries.resize(5);
  std::string bytes = Encode(rep);
  for (size_t n = 0; n < bytes.size(); ++n) {
    ReaddirRep out;
    EXPECT_FALSE(Decode(bytes.data(), n, &out).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(Codec, OversizedIsEinval) {
  std::string big(kMaxBody + 1, '\x90');
  Empty e;
  EXPECT_EQ(Decode(big, &e).err(), EINVAL);
  // A forged array header claiming 2^32-1 elements in a 6-byte message.
  const char forged[] = {'\xdd', '\xff', '\xff', '\xff', '\xff', '\x00'};
  ReaddirRep r;
  EXPECT_FALSE(Decode(forged, sizeof(forged), &r).ok());
}

TEST(Codec, GarbageNeverCrashes) {
  std::mt19937_64 rng(2);
  SetattrReq base;
  base.ino = 9;
  std::string good = Encode(base);
  for (int i = 0; i < 20000; ++i) {
    std::string b = good;
    if (i % 2) {
      b.resize(rng() % 64);
      for (auto& c : b) c = static_cast<char>(rng());
    } else {
      for (int k = 0; k < 3; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    }
    SetattrReq out;
    (void)Decode(b, &out);  // must return, not crash or throw
    ReaddirRep out2;
    (void)Decode(b, &out2);
  }
  SUCCEED();
}

TEST(Codec, NameRules) {
  EXPECT_TRUE(ValidName("a").ok());
  EXPECT_EQ(ValidName("").err(), EINVAL);
  EXPECT_EQ(ValidName(".").err(), EINVAL);
  EXPECT_EQ(ValidName("..").err(), EINVAL);
  EXPECT_EQ(ValidName("a/b").err(), EINVAL);
  EXPECT_EQ(ValidName(std::string(256, 'x')).err(), ENAMETOOLONG);
  EXPECT_TRUE(ValidName(std::string(255, 'x')).ok());
}

// A batch delete: up to kMaxDeleteBatch ids, none 0; the cap survives a round trip.
TEST(Codec, ChunkDeleteManyLimits) {
  ChunkDeleteManyReq req;
  EXPECT_TRUE(req.Valid().ok());
  for (uint64_t id = 1; id <= kMaxDeleteBatch; ++id) req.ids.push_back(id);
  EXPECT_TRUE(req.Valid().ok());
  ChunkDeleteManyReq back;
  ASSERT_TRUE(Decode(Encode(req), &back).ok());
  EXPECT_EQ(back.ids, req.ids);
  req.ids.push_back(kMaxDeleteBatch + 1);
  Status s = req.Valid();
  EXPECT_EQ(s.err(), EINVAL);
  EXPECT_NE(s.message().find("1025 chunk ids"), std::string::npos) << s.ToString();
  EXPECT_EQ((ChunkDeleteManyReq{{5, 0, 6}}.Valid().err()), EINVAL);
  ChunkDeleteManyRep rep{{FailedChunk{9, EIO}}}, rep_back;
  ASSERT_TRUE(Decode(Encode(rep), &rep_back).ok());
  ASSERT_EQ(rep_back.failed.size(), 1u);
  EXPECT_EQ(rep_back.failed[0].id, 9u);
  EXPECT_EQ(rep_back.failed[0].err, EIO);
}

TEST(Codec, ReleasedHandlesLimits) {
  ReleaseManyReq req{7, {}};
  EXPECT_TRUE(req.Valid().ok());
  for (uint64_t i = 0; i < kMaxReleased; ++i) req.inos.push_back(2 + i % 3);  // repeats allowed
  EXPECT_TRUE(req.Valid().ok());
  req.inos.push_back(2);
  EXPECT_EQ(req.Valid().err(), EINVAL);
  EXPECT_EQ((ReleaseManyReq{7, {2, 0}}.Valid().err()), EINVAL);
  OpenReq open{2, 7, 0, {3, 3}};
  EXPECT_TRUE(open.Valid().ok());
  OpenReq back;
  ASSERT_TRUE(Decode(Encode(open), &back).ok());
  EXPECT_EQ(back.released, open.released);
  open.released.push_back(0);
  EXPECT_EQ(open.Valid().err(), EINVAL);
  CreateReq create{1, "f", 0644, 0, 0, 7, 0, std::vector<uint64_t>(kMaxReleased + 1, 2)};
  EXPECT_EQ(create.Valid().err(), EINVAL);
}

TEST(Codec, ChunkWriteExtentsLimits) {
  ChunkWriteReq req{5, 1, 0, {}, {{0, 4096}, {65536, 13}}};
  EXPECT_TRUE(req.Valid().ok());
  ChunkWriteReq back;
  ASSERT_TRUE(Decode(Encode(req), &back).ok());
  ASSERT_EQ(back.extents.size(), 2u);
  EXPECT_EQ(back.extents[1].offset, 65536u);
  EXPECT_EQ(back.extents[1].length, 13u);
  req.extents.push_back({kMaxChunkSize, 1});
  EXPECT_EQ(req.Valid().err(), EFBIG);
  req.extents.pop_back();
  req.extents.resize(kMaxExtents + 1);
  EXPECT_EQ(req.Valid().err(), EINVAL);
}

}  // namespace
}  // namespace dos::proto
