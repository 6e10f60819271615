// ReadCache: blocks kept after small reads, served only at the generation
// they were read at, evicted least recently used first.
#include "fuse/read_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "common/proto/messages.h"
#include "fuse/file_state.h"

namespace dos::fs {
namespace {

constexpr uint64_t kB = proto::kBlockSize;

// A block whose every byte tells where it is: byte i of the file is i % 251.
std::string BlockAt(uint64_t off, size_t len = kB) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>((off + i) % 251);
  return s;
}

std::string Got(ReadCache& c, uint64_t ino, uint64_t gen, uint64_t off, size_t len, bool* hit) {
  std::string out(len, 'x');
  *hit = c.Get(ino, gen, off, len, out.data());
  return out;
}

TEST(ReadCache, ServesAnyRangeInsideKeptBlocks) {
  ReadCache c;
  c.Put(1, 5, 0, BlockAt(0));
  c.Put(1, 5, kB, BlockAt(kB));
  bool hit = false;
  EXPECT_EQ(Got(c, 1, 5, 4096, 4096, &hit), BlockAt(4096, 4096));
  EXPECT_TRUE(hit);
  EXPECT_EQ(Got(c, 1, 5, kB - 100, 300, &hit), BlockAt(kB - 100, 300));  // across two
  EXPECT_TRUE(hit);
  EXPECT_EQ(Got(c, 1, 5, 0, 2 * kB, &hit), BlockAt(0, 2 * kB));
  EXPECT_TRUE(hit);
  // A byte outside, another inode, a miss copies nothing.
  EXPECT_EQ(Got(c, 1, 5, 2 * kB - 10, 20, &hit), std::string(20, 'x'));
  EXPECT_FALSE(hit);
  Got(c, 2, 5, 0, 10, &hit);
  EXPECT_FALSE(hit);
  Got(c, 1, 5, 0, 0, &hit);
  EXPECT_FALSE(hit);
}

TEST(ReadCache, AShortLastBlockServesOnlyWhatItHolds) {
  ReadCache c;
  c.Put(1, 5, kB, BlockAt(kB, 1000));  // the file ends at kB + 1000
  bool hit = false;
  EXPECT_EQ(Got(c, 1, 5, kB + 900, 100, &hit), BlockAt(kB + 900, 100));
  EXPECT_TRUE(hit);
  Got(c, 1, 5, kB + 900, 101, &hit);
  EXPECT_FALSE(hit);
}

TEST(ReadCache, ABlockOfAnotherGenerationIsNeverServedAndIsDropped) {
  ReadCache c;
  c.Put(1, 5, 0, BlockAt(0));
  bool hit = false;
  Got(c, 1, 6, 0, 10, &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(c.blocks(), 0u);
  Got(c, 1, 5, 0, 10, &hit);  // gone, not only hidden
  EXPECT_FALSE(hit);
  // Put again replaces the block of the same place, unless it is newer.
  c.Put(1, 6, 0, BlockAt(0));
  c.Put(1, 7, 0, std::string(kB, 'n'));
  EXPECT_EQ(c.blocks(), 1u);
  EXPECT_EQ(Got(c, 1, 7, 10, 5, &hit), "nnnnn");
  c.Put(1, 6, 0, BlockAt(0));  // a read that began before the last change
  EXPECT_EQ(Got(c, 1, 7, 10, 5, &hit), "nnnnn");
  Got(c, 1, 6, 10, 5, &hit);  // an older reader neither gets nor drops it
  EXPECT_FALSE(hit);
  EXPECT_EQ(c.blocks(), 1u);
}

TEST(ReadCache, EvictsTheLeastRecentlyUsedBeyondItsCapacity) {
  ReadCache c(3 * kB);
  for (uint64_t b = 0; b < 3; ++b) c.Put(1, 5, b * kB, BlockAt(b * kB));
  bool hit = false;
  Got(c, 1, 5, 0, 10, &hit);  // block 0 used: block 1 is now the oldest
  ASSERT_TRUE(hit);
  c.Put(1, 5, 3 * kB, BlockAt(3 * kB));
  EXPECT_EQ(c.bytes(), 3 * kB);
  Got(c, 1, 5, kB, 10, &hit);
  EXPECT_FALSE(hit);
  for (uint64_t b : {0u, 2u, 3u}) {
    Got(c, 1, 5, b * kB, 10, &hit);
    EXPECT_TRUE(hit) << b;
  }
  c.set_capacity(kB);
  EXPECT_EQ(c.blocks(), 1u);
  c.set_capacity(0);  // off: nothing kept, nothing served
  c.Put(1, 5, 0, BlockAt(0));
  EXPECT_EQ(c.blocks(), 0u);
  Got(c, 1, 5, 0, 10, &hit);
  EXPECT_FALSE(hit);
}

TEST(ReadCache, ForgetDropsOneInodeOnly) {
  ReadCache c;
  for (uint64_t ino : {1u, 2u, 3u}) c.Put(ino, 5, 0, BlockAt(0));
  c.Forget(2);
  bool hit = false;
  Got(c, 2, 5, 0, 10, &hit);
  EXPECT_FALSE(hit);
  for (uint64_t ino : {1u, 3u}) {
    Got(c, ino, 5, 0, 10, &hit);
    EXPECT_TRUE(hit) << ino;
  }
  EXPECT_EQ(c.bytes(), 2 * kB);
}

TEST(ReadCache, BadPlacesAreRefused) {
  ReadCache c;
  c.Put(1, 5, 100, BlockAt(100));          // not at a block boundary
  c.Put(1, 5, 0, std::string(kB + 1, 'a'));  // longer than a block
  EXPECT_EQ(c.blocks(), 0u);
}

// The generation a file's blocks are kept under moves at every change of
// its bytes as this process sees them.
TEST(FileStateDataGen, MovesAtOpenWriteCommitTruncateAndAChangeSeenFromMeta) {
  FileState st(42);
  proto::Attr a;
  a.ino = 42;
  a.size = 100;
  a.mtime_ns = a.ctime_ns = 1000;
  uint64_t g = st.DataGen();
  st.Opened(a, 1 << 20, false);
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();

  proto::Attr same = a;
  st.Merge(&same);
  EXPECT_EQ(st.DataGen(), g);  // nothing changed
  proto::Attr touched = a;
  touched.ctime_ns = 2000;  // chmod elsewhere: the bytes are the same
  st.Merge(&touched);
  EXPECT_EQ(st.DataGen(), g);
  proto::Attr written = touched;
  written.mtime_ns = written.ctime_ns = 3000;  // written elsewhere
  st.Merge(&written);
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();
  proto::Attr grown = written;
  grown.size = 200;
  grown.ctime_ns = 4000;
  st.Merge(&grown);
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();
  proto::Attr older = a;  // an answer older than the newest seen changes nothing
  st.Merge(&older);
  EXPECT_EQ(st.DataGen(), g);

  PendingWrite p;
  st.Committed(p, grown);  // may carry another client's change under its own size and mtime
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();

  uint64_t seen = st.ErrorCount();
  Result<uint64_t> t = st.BeginWrite(0, 10, &seen);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(st.DataGen(), g);  // not yet: the bytes may not have landed
  st.EndWrite(*t, Status::Ok());
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();
  t = st.BeginWrite(0, 10, &seen);
  ASSERT_TRUE(t.ok());
  st.EndWrite(*t, Status::Err(EIO, "a replica failed"));  // may have landed somewhere
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();

  st.Truncated(5);
  EXPECT_NE(st.DataGen(), g);
  g = st.DataGen();
  st.DataChanged();
  EXPECT_NE(st.DataGen(), g);

  FileState other(42);  // the same inode opened again later
  EXPECT_NE(other.DataGen(), st.DataGen());
}

}  // namespace
}  // namespace dos::fs
