// Locks: record lock splitting, merging, conflicts and flock.
#include "daemon/meta/locks.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <limits>

namespace dos::meta {
namespace {

constexpr int64_t kEof = std::numeric_limits<int64_t>::max();

proto::LockReq Req(uint64_t client, uint64_t owner, uint32_t type, int64_t start, int64_t end,
                   bool is_flock = false) {
  proto::LockReq r;
  r.ino = 5;
  r.client = client;
  r.owner = owner;
  r.pid = static_cast<uint32_t>(client * 100 + owner);
  r.type = type;
  r.start = start;
  r.end = end;
  r.is_flock = is_flock;
  return r;
}

struct Range {
  uint32_t type;
  int64_t start, end;
  bool operator==(const Range&) const = default;
};

std::vector<Range> Held(const Locks& l, uint64_t client, uint64_t owner) {
  std::vector<Range> out;
  for (const auto& r : l.Held(5, client, owner)) out.push_back({r.type, r.start, r.end});
  return out;
}

TEST(LocksTest, SplitOnUnlock) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, 99)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_UNLCK, 40, 59)).ok());
  EXPECT_EQ(Held(l, 1, 1), (std::vector<Range>{{F_WRLCK, 0, 39}, {F_WRLCK, 60, 99}}));
}

TEST(LocksTest, SplitOnTypeChange) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 0, kEof)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 10, 19)).ok());
  EXPECT_EQ(Held(l, 1, 1),
            (std::vector<Range>{{F_RDLCK, 0, 9}, {F_WRLCK, 10, 19}, {F_RDLCK, 20, kEof}}));
  // Downgrade the middle back: the three join into one.
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 10, 19)).ok());
  EXPECT_EQ(Held(l, 1, 1), (std::vector<Range>{{F_RDLCK, 0, kEof}}));
}

TEST(LocksTest, MergeAdjacentAndOverlapping) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, 9)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 10, 19)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 30, 39)).ok());
  EXPECT_EQ(Held(l, 1, 1), (std::vector<Range>{{F_WRLCK, 0, 19}, {F_WRLCK, 30, 39}}));
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 15, 35)).ok());
  EXPECT_EQ(Held(l, 1, 1), (std::vector<Range>{{F_WRLCK, 0, 39}}));
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_UNLCK, 0, kEof)).ok());
  EXPECT_TRUE(Held(l, 1, 1).empty());
}

TEST(LocksTest, ConflictsBetweenOwnersOnly) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 0, 99)).ok());
  EXPECT_TRUE(l.Setlk(Req(2, 1, F_RDLCK, 50, 150)).ok());  // shared with shared
  EXPECT_EQ(l.Setlk(Req(2, 1, F_WRLCK, 90, 95)).err(), EAGAIN);
  EXPECT_EQ(l.Setlk(Req(1, 2, F_WRLCK, 0, 0)).err(), EAGAIN);  // same client, other owner
  EXPECT_TRUE(l.Setlk(Req(2, 1, F_WRLCK, 100, 200)).ok());     // past client 1's range
  EXPECT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 0, 99)).ok());        // own locks never conflict
  // Upgrade blocked by the other reader, then allowed once it unlocks.
  ASSERT_TRUE(l.Setlk(Req(3, 1, F_RDLCK, 10, 10)).ok());
  EXPECT_EQ(l.Setlk(Req(1, 1, F_WRLCK, 0, 49)).err(), EAGAIN);
  ASSERT_TRUE(l.Setlk(Req(3, 1, F_UNLCK, 0, kEof)).ok());
  EXPECT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, 49)).ok());
  EXPECT_EQ(l.Setlk(Req(1, 1, F_WRLCK, 0, 99)).err(), EAGAIN);  // client 2 reads 50..99
}

TEST(LocksTest, Getlk) {
  Locks l;
  proto::LockRep rep;
  l.Getlk(Req(2, 1, F_WRLCK, 0, kEof), &rep);
  EXPECT_EQ(rep.type, static_cast<uint32_t>(F_UNLCK));
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 10, 20)).ok());
  l.Getlk(Req(2, 1, F_RDLCK, 0, kEof), &rep);
  EXPECT_EQ(rep.type, static_cast<uint32_t>(F_UNLCK));
  l.Getlk(Req(2, 1, F_WRLCK, 15, 30), &rep);
  EXPECT_EQ(rep.type, static_cast<uint32_t>(F_RDLCK));
  EXPECT_EQ(rep.start, 10);
  EXPECT_EQ(rep.end, 20);
  EXPECT_EQ(rep.pid, 101u);
  l.Getlk(Req(1, 1, F_WRLCK, 0, kEof), &rep);  // own lock: no conflict
  EXPECT_EQ(rep.type, static_cast<uint32_t>(F_UNLCK));
}

TEST(LocksTest, ReleaseOneOwner) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, 9)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 2, F_WRLCK, 20, 29)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, kEof, true)).ok());
  l.Release(5, 1, 1, false);
  EXPECT_TRUE(Held(l, 1, 1).empty());
  EXPECT_EQ(Held(l, 1, 2).size(), 1u);
  EXPECT_EQ(l.Setlk(Req(2, 1, F_RDLCK, 0, kEof, true)).err(), EAGAIN);  // flock kept
  l.Release(5, 1, 1, true);
  EXPECT_TRUE(l.Setlk(Req(2, 1, F_RDLCK, 0, kEof, true)).ok());
  l.DropInode(5);
  EXPECT_TRUE(Held(l, 1, 2).empty());
}

TEST(LocksTest, Flock) {
  Locks l;
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_RDLCK, 0, kEof, true)).ok());
  ASSERT_TRUE(l.Setlk(Req(2, 1, F_RDLCK, 0, kEof, true)).ok());
  EXPECT_EQ(l.Setlk(Req(3, 1, F_WRLCK, 0, kEof, true)).err(), EAGAIN);
  EXPECT_EQ(l.Setlk(Req(1, 1, F_WRLCK, 0, kEof, true)).err(), EAGAIN);  // 2 still reads
  ASSERT_TRUE(l.Setlk(Req(2, 1, F_UNLCK, 0, kEof, true)).ok());
  EXPECT_TRUE(l.Setlk(Req(1, 1, F_WRLCK, 0, kEof, true)).ok());  // converted
  EXPECT_EQ(l.Setlk(Req(2, 1, F_RDLCK, 0, kEof, true)).err(), EAGAIN);
  // flock and record locks live apart.
  EXPECT_TRUE(l.Setlk(Req(2, 1, F_WRLCK, 0, kEof)).ok());
  ASSERT_TRUE(l.Setlk(Req(1, 1, F_UNLCK, 0, kEof, true)).ok());
  EXPECT_TRUE(l.Setlk(Req(2, 1, F_WRLCK, 0, kEof, true)).ok());
}

}  // namespace
}  // namespace dos::meta
