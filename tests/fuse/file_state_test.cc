// FileState: the uncommitted writes and kept setattrs of an open file, as
// getattr sees them and as the next commit sends them.
#include "fuse/file_state.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <thread>
#include <vector>

namespace dos::fs {
namespace {

constexpr uint64_t kIno = 42;
constexpr int64_t kSec = 1'000'000'000;

proto::Attr MetaAttr() {
  proto::Attr a;
  a.ino = kIno;
  a.mode = 0100600;
  a.nlink = 1;
  a.uid = 1000;
  a.gid = 1000;
  a.mtime_ns = a.ctime_ns = a.atime_ns = 100 * kSec;
  return a;
}

proto::ChunkInfo Chunk0() {
  proto::ChunkInfo c;
  c.id = 7;
  return c;
}

// A file opened (unbound client) and written up to 4096 at t=200 s.
struct Written {
  FileState st{kIno};
  Written(bool setattr_checked = false) {
    st.Opened(MetaAttr(), 1 << 20, setattr_checked);
    st.Wrote(Chunk0(), 4096, 200 * kSec);
  }
};

proto::SetattrReq Chmod(uint32_t mode, int64_t now) {
  proto::SetattrReq r;
  r.ino = kIno;
  r.valid = proto::kSetMode;
  r.mode = mode;
  r.ctime_ns = now;
  return r;
}

TEST(FileStateKeep, KeptSetattrsShowAndGoWithTheCommit) {
  Written w;
  proto::Attr now, base;
  proto::SetattrReq times;
  times.ino = kIno;
  times.valid = proto::kSetMtime;  // futimens(fd, {OMIT, 150 s}): older than the write
  times.mtime_ns = 150 * kSec;
  times.ctime_ns = 300 * kSec;
  ASSERT_TRUE(w.st.KeepSetattr(times, &now, &base));
  EXPECT_EQ(base.mtime_ns, 100 * kSec);  // meta's, untouched
  EXPECT_EQ(now.mtime_ns, 150 * kSec);   // the explicit time wins over the earlier write's
  EXPECT_EQ(now.size, 4096u);
  EXPECT_EQ(now.ctime_ns, 300 * kSec);

  proto::SetattrReq chown;
  chown.ino = kIno;
  chown.valid = proto::kSetUid | proto::kSetGid;
  chown.uid = 0;
  chown.gid = 5;
  chown.ctime_ns = 301 * kSec;
  ASSERT_TRUE(w.st.KeepSetattr(chown, &now, &base));
  ASSERT_TRUE(w.st.KeepSetattr(Chmod(0644, 302 * kSec), &now, &base));
  EXPECT_EQ(now.mode, 0100644u);
  EXPECT_EQ(now.uid, 0u);
  EXPECT_EQ(now.gid, 5u);
  EXPECT_EQ(now.mtime_ns, 150 * kSec);

  // getattr from meta (which has none of it yet) shows all of it.
  proto::Attr from_meta = MetaAttr();
  w.st.Merge(&from_meta);
  EXPECT_EQ(from_meta.mode, 0100644u);
  EXPECT_EQ(from_meta.uid, 0u);
  EXPECT_EQ(from_meta.size, 4096u);
  EXPECT_EQ(from_meta.mtime_ns, 150 * kSec);

  std::optional<PendingWrite> p = w.st.Pending();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->end, 4096u);
  EXPECT_EQ(p->set.ino, kIno);
  EXPECT_EQ(p->set.valid,
            uint32_t{proto::kSetMode | proto::kSetUid | proto::kSetGid | proto::kSetMtime});
  EXPECT_EQ(p->set.mode, 0644u);
  EXPECT_EQ(p->set.mtime_ns, 150 * kSec);
  EXPECT_EQ(p->set.ctime_ns, 0);  // meta stamps it

  proto::Attr committed = from_meta;
  w.st.Committed(*p, committed);
  EXPECT_FALSE(w.st.Pending().has_value());
}

TEST(FileStateKeep, OnlyModeOwnerAndTimesOfAFileWithAWriteDue) {
  FileState fresh(kIno);
  fresh.Opened(MetaAttr(), 1 << 20, false);
  proto::Attr now, base;
  EXPECT_FALSE(fresh.KeepSetattr(Chmod(0644, kSec), &now, &base));  // nothing to commit

  Written w;
  proto::SetattrReq size = Chmod(0644, kSec);
  size.valid |= proto::kSetSize;
  EXPECT_FALSE(w.st.KeepSetattr(size, &now, &base));
  proto::SetattrReq ctime = Chmod(0644, kSec);
  ctime.valid |= proto::kSetCtime;
  EXPECT_FALSE(w.st.KeepSetattr(ctime, &now, &base));
  proto::SetattrReq none;
  none.ino = kIno;
  EXPECT_FALSE(w.st.KeepSetattr(none, &now, &base));
  std::optional<PendingWrite> p = w.st.Pending();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->set.valid, 0u);

  Written bound(true);  // meta checks this client's setattrs
  EXPECT_FALSE(bound.st.KeepSetattr(Chmod(0644, kSec), &now, &base));

  Written busy;
  uint64_t seen = busy.st.ErrorCount();
  Result<uint64_t> t = busy.st.BeginWrite(4096, 10, &seen);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(busy.st.KeepSetattr(Chmod(0644, kSec), &now, &base));  // a write in flight
  busy.st.EndWrite(*t, Status::Ok());
  EXPECT_TRUE(busy.st.KeepSetattr(Chmod(0644, kSec), &now, &base));
}

TEST(FileStateKeep, ALaterWriteWinsOverAKeptMtime) {
  Written w;
  proto::Attr now, base;
  proto::SetattrReq touch;
  touch.ino = kIno;
  touch.valid = proto::kSetMtime | proto::kSetMode;
  touch.mtime_ns = 150 * kSec;
  touch.mode = 0640;
  touch.ctime_ns = 300 * kSec;
  ASSERT_TRUE(w.st.KeepSetattr(touch, &now, &base));
  w.st.Wrote(Chunk0(), 8192, 400 * kSec);
  std::optional<PendingWrite> p = w.st.Pending();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->set.valid, uint32_t{proto::kSetMode});  // the mode stays
  EXPECT_EQ(p->mtime_ns, 400 * kSec);
  proto::Attr from_meta = MetaAttr();
  w.st.Merge(&from_meta);
  EXPECT_EQ(from_meta.mtime_ns, 400 * kSec);
  EXPECT_EQ(from_meta.mode, 0100640u);
  EXPECT_EQ(from_meta.size, 8192u);
}

TEST(FileStateKeep, ASetattrKeptDuringACommitWaitsForTheNext) {
  Written w;
  proto::Attr now, base;
  ASSERT_TRUE(w.st.KeepSetattr(Chmod(0644, 300 * kSec), &now, &base));
  std::optional<PendingWrite> sent = w.st.Pending();  // a commit goes out with 0644
  ASSERT_TRUE(sent.has_value());
  ASSERT_TRUE(w.st.KeepSetattr(Chmod(0600, 301 * kSec), &now, &base));  // meanwhile
  proto::Attr reply = MetaAttr();
  reply.mode = 0100644;
  reply.size = 4096;
  reply.ctime_ns = 302 * kSec;
  w.st.Committed(*sent, reply);
  std::optional<PendingWrite> next = w.st.Pending();
  ASSERT_TRUE(next.has_value());  // the write is committed, the second chmod is not
  EXPECT_EQ(next->set.valid, uint32_t{proto::kSetMode});
  EXPECT_EQ(next->set.mode, 0600u);
  proto::Attr again = reply;
  w.st.Merge(&again);
  EXPECT_EQ(again.mode, 0100600u);
  w.st.Committed(*next, again);
  EXPECT_FALSE(w.st.Pending().has_value());
  // Nothing is due any more: the next chmod goes to meta at once.
  EXPECT_FALSE(w.st.KeepSetattr(Chmod(0640, 303 * kSec), &now, &base));
}

TEST(FileStateKeep, NewerAttributesFromMetaAreTheBase) {
  Written w;
  proto::Attr linked = MetaAttr();
  linked.nlink = 2;  // a link made meanwhile
  linked.ctime_ns = 250 * kSec;
  w.st.Merge(&linked);
  proto::Attr older = MetaAttr();  // a listing fetched before the link
  w.st.Merge(&older);
  proto::Attr now, base;
  ASSERT_TRUE(w.st.KeepSetattr(Chmod(0644, 300 * kSec), &now, &base));
  EXPECT_EQ(base.nlink, 2u);
  EXPECT_EQ(now.nlink, 2u);
  EXPECT_EQ(now.mode, 0100644u);
}

}  // namespace
}  // namespace dos::fs

namespace dos::fs {
namespace {

// Opens ino, writes one chunk and closes it: its chunk waits unsynced.
void WriteAndClose(FileTable& t, uint64_t ino) {
  auto st = t.Open(ino);
  proto::ChunkInfo c;
  c.id = 1000 + ino;
  st->Wrote(c, 10, kSec);
  t.Release(ino);
}

// BeginWrite in another thread; the future is ready once it returned.
std::future<Result<uint64_t>> BeginAsync(FileState& st, uint64_t off, uint64_t len,
                                         const uint64_t* seen) {
  return std::async(std::launch::async, [&st, off, len, seen] { return st.BeginWrite(off, len, seen); });
}

TEST(FileStateWindow, AWriteOverlappingOneInFlightWaitsForIt) {
  Written w;
  uint64_t seen = w.st.ErrorCount();
  Result<uint64_t> a = w.st.BeginWrite(8192, 4096, &seen);
  ASSERT_TRUE(a.ok());
  // Touching both ends of [8192, 12288) goes at once; one byte inside waits.
  for (uint64_t off : {4096u, 12288u}) {
    auto f = BeginAsync(w.st, off, 4096, &seen);
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready) << off;
    w.st.EndWrite(*f.get(), Status::Ok());
  }
  w.st.EndWrite(*a, Status::Ok());
  for (auto [off, len] : {std::pair<uint64_t, uint64_t>{12287, 1}, {0, 8193}, {9000, 100}, {0, 1 << 20}}) {
    a = w.st.BeginWrite(8192, 4096, &seen);
    ASSERT_TRUE(a.ok());
    auto f = BeginAsync(w.st, off, len, &seen);
    EXPECT_EQ(f.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout) << off;
    Result<uint64_t> other = w.st.BeginWrite(2 << 20, 10, &seen);  // elsewhere: no wait
    ASSERT_TRUE(other.ok());
    w.st.EndWrite(*other, Status::Ok());
    w.st.EndWrite(*a, Status::Ok());
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready) << off;
    Result<uint64_t> b = f.get();
    ASSERT_TRUE(b.ok());
    w.st.EndWrite(*b, Status::Ok());
  }
}

TEST(FileStateWindow, ThousandsOfSmallDisjointWritesAreInFlightAtOnce) {
  Written w;
  uint64_t seen = w.st.ErrorCount();
  // 4 KiB blocks of 16 MiB in random order, as fio's randwrite: all of
  // them fit in the window (kMaxWritesInFlight, kMaxBytesInFlight).
  std::vector<uint64_t> blocks(FileState::kMaxBytesInFlight / 4096);
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i] = i * 4096;
  std::shuffle(blocks.begin(), blocks.end(), std::mt19937(7));
  ASSERT_LE(blocks.size(), FileState::kMaxWritesInFlight);
  auto all = std::async(std::launch::async, [&] {
    std::vector<uint64_t> tickets;
    for (uint64_t off : blocks) {
      Result<uint64_t> t = w.st.BeginWrite(off, 4096, &seen);
      if (!t.ok()) break;
      tickets.push_back(*t);
    }
    return tickets;
  });
  ASSERT_EQ(all.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  std::vector<uint64_t> tickets = all.get();
  ASSERT_EQ(tickets.size(), blocks.size());
  // The size seen is the end of the furthest write in flight.
  proto::Attr a = MetaAttr();
  w.st.Merge(&a);
  EXPECT_EQ(a.size, FileState::kMaxBytesInFlight);
  // The window is full: one more byte waits until a write ends.
  auto more = BeginAsync(w.st, FileState::kMaxBytesInFlight, 1, &seen);
  EXPECT_EQ(more.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  w.st.EndWrite(tickets.back(), Status::Ok());
  ASSERT_EQ(more.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Result<uint64_t> m = more.get();
  ASSERT_TRUE(m.ok());
  w.st.EndWrite(*m, Status::Ok());
  for (size_t i = 0; i + 1 < tickets.size(); ++i) w.st.EndWrite(tickets[i], Status::Ok());
  auto done = std::async(std::launch::async, [&] { w.st.WaitWrites(); });
  EXPECT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST(FileTable, TheOldestUnsyncedFileIsForgottenFirst) {
  FileTable t;
  WriteAndClose(t, 1);
  WriteAndClose(t, 2);
  WriteAndClose(t, 1);  // reopened: its first place in the order is stale
  for (uint64_t ino = 3; ino < 3 + 4095; ++ino) WriteAndClose(t, ino);  // one past the limit
  auto two = t.Open(2);
  EXPECT_TRUE(two->TakeDirty().empty());  // the oldest: forgotten
  auto one = t.Open(1);
  std::vector<proto::ChunkInfo> kept = one->TakeDirty();
  ASSERT_EQ(kept.size(), 1u);  // closed after 2: kept
  EXPECT_EQ(kept[0].id, 1001u);
  auto last = t.Open(3 + 4094);
  EXPECT_EQ(last->TakeDirty().size(), 1u);
}

}  // namespace
}  // namespace dos::fs
