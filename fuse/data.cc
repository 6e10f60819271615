#include "fuse/data.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <utility>
#include <vector>

namespace dos::fs {

namespace {

// Runs every task, in parallel when there is more than one, and returns the
// first failure (all tasks have finished by then).
Status RunAll(std::vector<std::function<Status()>>& tasks) {
  if (tasks.size() == 1) return Guard(tasks[0]);
  std::vector<std::future<Status>> futs;
  futs.reserve(tasks.size());
  for (auto& t : tasks) futs.push_back(std::async(std::launch::async, [&t] { return Guard(t); }));
  Status first;
  for (auto& f : futs) {
    Status s = f.get();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

struct Piece {
  uint64_t index;   // chunk index
  uint64_t offset;  // within the chunk
  size_t pos;       // within the caller's buffer
  size_t len;
};

std::vector<Piece> Split(uint64_t off, size_t size, uint64_t chunk_size) {
  std::vector<Piece> pieces;
  size_t pos = 0;
  while (pos < size) {
    uint64_t at = off + pos;
    uint64_t in = at % chunk_size;
    size_t len = static_cast<size_t>(std::min<uint64_t>(chunk_size - in, size - pos));
    pieces.push_back({at / chunk_size, in, pos, len});
    pos += len;
  }
  return pieces;
}

Result<proto::ChunkInfo> ChunkForWrite(Fs& fs, FileState& st, uint64_t index) {
  if (auto c = st.CachedChunk(index)) return *c;
  proto::ChunkAllocReq req{st.ino(), index};
  proto::ChunkAllocRep rep;
  if (Status s = fs.cluster->Meta(proto::Op::kChunkAlloc, req, &rep); !s.ok()) return s;
  if (rep.chunk.replicas.empty()) return Status::Err(EIO, "chunk placed on no replica");
  st.CacheChunk(rep.chunk);
  return rep.chunk;
}

// The head of a chain answered with this: the head itself (its disk, or the
// way to it) failed, not the request.
bool NodeFailure(const Status& s) {
  switch (s.err()) {
    case ETIMEDOUT:
    case EIO:
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case EHOSTUNREACH:
    case ECONNREFUSED:
    case ECONNRESET:
      return true;
    default:
      return false;
  }
}

// The data frame of a write: a view of owner's bytes handed to ZeroMQ
// without a copy (owner lives until ZeroMQ is done with it), or a copy.
zmq::message_t DataFrame(std::string_view piece, const std::shared_ptr<const std::string>& owner) {
  if (!owner || piece.empty()) return zmq::message_t(piece.data(), piece.size());
  using Hold = std::shared_ptr<const std::string>;
  return zmq::message_t(
      const_cast<char*>(piece.data()), piece.size(),
      [](void*, void* hint) { delete static_cast<Hold*>(hint); }, new Hold(owner));
}

// A lone write (one extent) of at most this many bytes goes to every
// replica at once instead of along the chain: it then waits for one hop,
// not one per replica (the chain's head forwards only after it has the
// whole request). Larger writes and batches of several keep the chain,
// which sends the bytes out of this client once: when writes queue up, this
// client's CPU is what limits them (4 KiB random writes, 10 s, both ways
// by turns: 9,300-10,900/s to every replica, 11,900-14,600/s by the chain).
constexpr size_t kFanOutMaxBytes = 128 * 1024;

// The write of c sent to each replica at once, with no chain. *missed gets
// every replica that failed with anything but ESTALE, as a chain's reply
// names them; ESTALE (the layout is old) is returned, and so is the last
// error when every replica failed.
Status WriteEachReplica(Fs& fs, const proto::ChunkInfo& c, const proto::ChunkWriteReq& req,
                        std::string_view data, const std::shared_ptr<const std::string>& owner,
                        std::vector<std::string>* missed) {
  const std::string body = proto::Encode(req);
  std::vector<net::Client::Ticket> tickets;
  for (const proto::Replica& r : c.replicas)
    tickets.push_back(fs.cluster->Node(r.addr).Send(proto::Op::kChunkWrite, body,
                                                    DataFrame(data, owner),
                                                    fs.cluster->chunk_timeout_ms()));
  Status stale, failed;
  size_t ok = 0;
  for (size_t i = 0; i < c.replicas.size(); ++i) {
    proto::ChunkWriteRep rep;
    Status s = fs.cluster->Node(c.replicas[i].addr).Wait(tickets[i], &rep);
    fs.cluster->NoteResult(c.replicas[i].addr, s);
    if (s.ok()) {
      ok++;
    } else if (s.err() == ESTALE) {
      stale = s;
    } else {  // as a chain reports any error of a later replica (ChunkWriteRep.failed)
      missed->push_back(c.replicas[i].node);
      failed = s;
    }
  }
  if (!stale.ok()) return stale;
  return ok == 0 ? failed : Status::Ok();
}

// One write of c: to every replica at once when small, else along the
// chain. *missed gets the nodes that did not take it: the head when it
// failed, and those the chain reported (see ChunkWriteRep).
Status WriteChunk(Fs& fs, const proto::ChunkInfo& c, const std::vector<proto::Extent>& extents,
                  std::string_view data, const std::shared_ptr<const std::string>& owner,
                  std::vector<std::string>* missed) {
  proto::ChunkWriteReq req;
  req.id = c.id;
  req.version = c.version;
  req.offset = extents.front().offset;
  if (extents.size() > 1) req.extents = extents;
  if (c.replicas.size() > 1 && extents.size() == 1 && data.size() <= kFanOutMaxBytes)
    return WriteEachReplica(fs, c, req, data, owner, missed);
  // Any replica may head the chain; a suspect one does not.
  std::vector<proto::Replica> order = fs.cluster->Ordered(c.replicas);
  if (order.empty()) return Status::Err(EIO, "chunk has no replica");
  for (size_t i = 1; i < order.size(); ++i) req.chain.push_back(order[i].addr);
  proto::ChunkWriteRep rep;
  net::Client& head = fs.cluster->Node(order[0].addr);
  net::Client::Ticket t = head.Send(proto::Op::kChunkWrite, proto::Encode(req),
                                    DataFrame(data, owner), fs.cluster->chunk_timeout_ms());
  Status s = head.Wait(t, &rep);
  fs.cluster->NoteResult(order[0].addr, s);
  if (!s.ok()) {
    if (NodeFailure(s)) missed->push_back(order[0].node);
    return s;
  }
  for (const proto::FailedReplica& f : rep.failed) {
    fs.cluster->NoteResult(f.addr, Status::Err(f.err));
    for (const proto::Replica& r : c.replicas)
      if (r.addr == f.addr) missed->push_back(r.node);
  }
  return s;
}

// Tells meta that nodes missed a write of c (kChunkFailed); the chunk as
// meta has it afterwards (fewer replicas, a new version) is cached and put
// in *c. False if meta changed nothing or could not be asked.
bool ReportFailed(Fs& fs, FileState& st, const std::vector<std::string>& nodes,
                  proto::ChunkInfo* c) {
  proto::ChunkFailedReq req{c->id, c->version, nodes};
  proto::ChunkAllocRep rep;
  Status s = fs.cluster->Meta(proto::Op::kChunkFailed, req, &rep);
  if (!s.ok()) {
    fprintf(stderr, "dosfs: report of failed replicas of chunk %llu: %s\n",
            static_cast<unsigned long long>(c->id), s.ToString().c_str());
    return false;
  }
  if (rep.chunk.version == c->version && rep.chunk.replicas.size() == c->replicas.size())
    return false;
  rep.chunk.index = c->index;
  *c = rep.chunk;
  st.CacheChunk(*c);
  return true;
}

// Replicas of c this process saw time out lately, if at least one other is
// left: they are dropped before the write instead of costing a timeout each.
std::vector<std::string> SuspectNodes(Fs& fs, const proto::ChunkInfo& c) {
  std::vector<std::string> out;
  for (const proto::Replica& r : c.replicas)
    if (fs.cluster->Suspect(r.addr)) out.push_back(r.node);
  if (out.size() == c.replicas.size()) out.clear();
  return out;
}

// Writes extents of chunk index (their bytes back to back in data, see
// proto::Extent). A replica that misses the write is reported to meta,
// which drops it and bumps the version; the write is then sent again, at
// the new version, to the replicas left (a late copy of the old write is
// refused by them with ESTALE). At most 2+R attempts.
Status WriteExtents(Fs& fs, FileState& st, uint64_t index,
                    const std::vector<proto::Extent>& extents, std::string_view data,
                    const std::shared_ptr<const std::string>& owner) {
  uint64_t end = 0;
  for (const proto::Extent& e : extents) end = std::max(end, e.offset + e.length);
  Status s;
  std::optional<proto::ChunkInfo> c;
  size_t limit = 0;
  for (size_t attempt = 0;; ++attempt) {
    if (!c) {
      auto r = ChunkForWrite(fs, st, index);
      if (!r.ok()) return r.status();
      c = *r;
      if (limit == 0) limit = 2 + c->replicas.size();
    }
    if (auto sus = SuspectNodes(fs, *c); !sus.empty()) (void)ReportFailed(fs, st, sus, &*c);
    std::vector<std::string> missed;
    s = WriteChunk(fs, *c, extents, data, owner, &missed);
    const bool dropped = !missed.empty() && ReportFailed(fs, st, missed, &*c);
    if (s.ok() && missed.empty()) {
      st.Wrote(*c, index * st.chunk_size() + end, NowNs());
      return s;
    }
    // A replica that missed the write and is still listed at this version
    // (meta could not be told, or dropped nothing) would give a reader the
    // old bytes: the write has not succeeded.
    if (s.ok() && !dropped)
      s = Status::Err(EIO, "a replica missed the write and meta did not drop it");
    if (attempt + 1 >= limit) return s.ok() ? Status::Err(EIO, "replicas keep failing") : s;
    if (dropped) continue;  // again, at the new version, on the replicas left
    if (s.err() == ENOSPC || s.err() == EDQUOT) return s;
    // Stale layout (ESTALE: a newer version exists) or a failure meta would
    // not act on: ask meta again. It leaves out replicas on dead nodes.
    st.ForgetChunk(index);
    c.reset();
  }
}

// Makes sure the layout cache holds every existing chunk of [first, last];
// indexes still missing afterwards are holes.
Status LoadLayout(Fs& fs, FileState& st, uint64_t first, uint64_t last) {
  bool all = true;
  for (uint64_t i = first; i <= last && all; ++i) all = st.CachedChunk(i).has_value();
  if (all) return Status::Ok();
  proto::ChunkListReq req;
  req.ino = st.ino();
  req.first = first;
  req.count = static_cast<uint32_t>(
      std::min<uint64_t>(proto::kMaxChunkList, std::max<uint64_t>(last - first + 1, 16)));
  proto::ChunkListRep rep;
  if (Status s = fs.cluster->Meta(proto::Op::kChunkList, req, &rep); !s.ok()) return s;
  for (const auto& c : rep.chunks) st.CacheChunk(c);
  return Status::Ok();
}

// A replica answered EIO: its copy failed a CRC check (or is cut short). Not
// a lost connection, which common/net also reports as EIO.
bool BadCopy(const Status& s) {
  return s.err() == EIO && s.message().rfind("no connection", 0) != 0;
}

// Tells meta which replicas of chunk id are bad, now that a good one was
// read: meta drops them and copies the chunk anew. Best effort.
void ReportBad(Fs& fs, uint64_t id, const std::vector<std::string>& nodes) {
  for (const std::string& node : nodes) {
    proto::Empty rep;
    Status s = fs.cluster->Meta(proto::Op::kChunkBad, proto::ChunkBadReq{id, node}, &rep);
    if (!s.ok())
      fprintf(stderr, "dosfs: report of bad chunk %llu on %s: %s\n",
              static_cast<unsigned long long>(id), node.c_str(), s.ToString().c_str());
  }
}

// Reads one piece into dst (zeroed beforehand): replicas in order, the next
// one on any error. EIO when all fail; ESTALE when every replica holds an
// older version than meta's.
Status ReadPiece(Fs& fs, const proto::ChunkInfo& c, const Piece& p, char* dst) {
  Status last = Status::Err(EIO, "chunk has no replica");
  std::vector<std::string> bad;
  bool all_stale = !c.replicas.empty();
  for (const auto& r : fs.cluster->Ordered(c.replicas)) {
    proto::ChunkReadReq req{c.id, c.version, p.offset, static_cast<uint32_t>(p.len)};
    proto::Empty rep;
    net::Message reply;
    net::Client& node = fs.cluster->Node(r.addr);
    net::Client::Ticket t =
        node.Send(proto::Op::kChunkRead, proto::Encode(req), {}, fs.cluster->chunk_timeout_ms());
    last = node.Wait(t, &rep, &reply, false);
    if (last.ok()) {
      // Straight from ZeroMQ's frame, opened into dst when it came sealed.
      Result<size_t> n = net::TakeData(reply, dst, p.len);
      if (!n.ok()) {
        std::memset(dst, 0, p.len);  // zeroed again for the next replica, which may hold less
        last = n.status();
      }
    }
    fs.cluster->NoteResult(r.addr, last);
    if (last.ok()) {
      if (!bad.empty()) ReportBad(fs, c.id, bad);
      return last;
    }
    if (BadCopy(last)) bad.push_back(r.node);
    if (last.err() != ESTALE) all_stale = false;
  }
  return all_stale ? Status::Err(ESTALE, "every replica is older than meta's version") : last;
}

// Every replica meta lists holds an older version than meta: a version bump
// (a dropped replica) whose writer died before it wrote again at the new
// version. The listed replicas took every acknowledged write (one that
// missed one is no longer listed), so an empty write at meta's version along
// all of them stamps it. Best effort.
void StampVersion(Fs& fs, const proto::ChunkInfo& c) {
  proto::ChunkWriteReq req;
  req.id = c.id;
  req.version = c.version;
  for (size_t i = 1; i < c.replicas.size(); ++i) req.chain.push_back(c.replicas[i].addr);
  proto::ChunkWriteRep rep;
  Status s = fs.cluster->Node(c.replicas[0].addr)
                 .Call(proto::Op::kChunkWrite, req, &rep, fs.cluster->chunk_timeout_ms(), {},
                       nullptr, true);
  fprintf(stderr, "dosfs: chunk %llu: replicas stamped with version %llu: %s\n",
          static_cast<unsigned long long>(c.id), static_cast<unsigned long long>(c.version),
          s.ToString().c_str());
}

// ReadPiece of the layout fetched again from meta (replicas may have moved),
// stamping a version no replica has yet (see StampVersion).
Status ReadFresh(Fs& fs, FileState& st, const Piece& p, char* dst) {
  st.ForgetChunk(p.index);
  if (Status ls = LoadLayout(fs, st, p.index, p.index); !ls.ok()) return ls;
  auto fresh = st.CachedChunk(p.index);
  if (!fresh) return Status::Ok();  // gone: truncated meanwhile
  Status s = ReadPiece(fs, *fresh, p, dst);
  if (s.err() != ESTALE) return s;
  StampVersion(fs, *fresh);
  return ReadPiece(fs, *fresh, p, dst);
}

}  // namespace

Status WriteData(Fs& fs, FileState& st, uint64_t off, std::string_view data,
                 const std::shared_ptr<const std::string>& owner) {
  std::vector<Piece> pieces = Split(off, data.size(), st.chunk_size());
  std::vector<std::function<Status()>> tasks;
  for (const Piece& p : pieces)
    tasks.push_back([&fs, &st, p, data, &owner] {
      std::vector<proto::Extent> one{{p.offset, static_cast<uint32_t>(p.len)}};
      return WriteExtents(fs, st, p.index, one, data.substr(p.pos, p.len), owner);
    });
  if (tasks.empty()) return Status::Ok();
  return DataError(RunAll(tasks));
}

namespace {

// Reads [off, off+size) of st (within its known size) into dst, zeroed
// beforehand: the pieces of every chunk in parallel; holes stay zero.
Status ReadRange(Fs& fs, FileState& st, uint64_t off, size_t size, char* dst) {
  std::vector<Piece> pieces = Split(off, size, st.chunk_size());
  Status s = LoadLayout(fs, st, pieces.front().index, pieces.back().index);
  if (!s.ok()) return DataError(s);
  std::vector<std::function<Status()>> tasks;
  for (const Piece& p : pieces) {
    tasks.push_back([&fs, &st, p, dst] {
      auto c = st.CachedChunk(p.index);
      if (!c) return Status::Ok();  // a hole
      Status rs = ReadPiece(fs, *c, p, dst + p.pos);
      if (rs.ok()) return rs;
      // The cached layout may be stale (replicas moved): ask meta once more.
      return ReadFresh(fs, st, p, dst + p.pos);
    });
  }
  return DataError(RunAll(tasks));
}

}  // namespace

Status ReadData(Fs& fs, FileState& st, uint64_t off, size_t size, std::string* out,
                bool cached) {
  out->clear();
  const uint64_t gen = st.DataGen();  // before the bytes are read (see ReadCache)
  uint64_t known = st.KnownSize();
  if (off >= known) return Status::Ok();
  size = static_cast<size_t>(std::min<uint64_t>(size, known - off));
  out->assign(size, '\0');
  if (size == 0) return Status::Ok();
  constexpr uint64_t kBlock = proto::kBlockSize;
  // A file larger than the cache would evict blocks before they are used
  // again, and a 64 KiB fetch costs more than a 4 KiB one (random 4 KiB
  // reads of a file 8 times the cache: 20-25% fewer per second with the
  // fetches; twice the cache, 10 s: no gain yet).
  if (!cached || size >= kBlock || known > fs.read_cache.capacity())
    return ReadRange(fs, st, off, size, out->data());
  if (fs.read_cache.Get(st.ino(), gen, off, size, out->data())) return Status::Ok();
  // A small read: the whole blocks it touches, which the node reads and
  // checks anyway, kept for the next small reads.
  const uint64_t from = off - off % kBlock;
  const uint64_t to = std::min((off + size + kBlock - 1) / kBlock * kBlock, known);
  std::string blocks(to - from, '\0');
  if (Status s = ReadRange(fs, st, from, to - from, blocks.data()); !s.ok()) return s;
  std::memcpy(out->data(), blocks.data() + (off - from), size);
  for (uint64_t b = from; b < to; b += kBlock)
    fs.read_cache.Put(st.ino(), gen, b, blocks.substr(b - from, std::min(kBlock, to - b)));
  return Status::Ok();
}

Status SyncDirty(Fs& fs, FileState& st) {
  std::vector<proto::ChunkInfo> dirty = st.TakeDirty();
  if (dirty.empty()) return Status::Ok();
  // One kChunkSync per (chunk, replica), all sent before any is waited for
  // (a 1 GiB file has 256 chunks: no thread each).
  std::vector<std::pair<size_t, std::string>> targets;
  for (size_t i = 0; i < dirty.size(); ++i)
    for (const auto& r : dirty[i].replicas) targets.emplace_back(i, r.addr);
  std::vector<Status> results(targets.size());
  std::vector<std::optional<net::Client::Ticket>> tickets(targets.size());
  for (size_t k = 0; k < targets.size(); ++k) {
    const auto& [i, addr] = targets[k];
    if (fs.cluster->Suspect(addr)) {
      results[k] = Status::Err(ETIMEDOUT, addr + " did not answer lately");
      continue;
    }
    tickets[k] = fs.cluster->Node(addr).Send(proto::Op::kChunkSync,
                                             proto::Encode(proto::ChunkIdReq{dirty[i].id}), {},
                                             fs.cluster->timeout_ms());
  }
  for (size_t k = 0; k < targets.size(); ++k) {
    if (!tickets[k]) continue;
    const std::string& addr = targets[k].second;
    proto::Empty rep;
    Status s = fs.cluster->Node(addr).Wait(*tickets[k], &rep);
    fs.cluster->NoteResult(addr, s);
    results[k] = s.err() == ENOENT ? Status::Ok() : s;  // ENOENT: truncated away meanwhile
  }
  // A chunk is synced when every replica that answered synced it and at
  // least one did; a replica that does not answer at all (a dead node) is
  // left to meta's re-replication.
  Status bad;
  std::vector<size_t> synced(dirty.size(), 0);
  for (size_t k = 0; k < targets.size(); ++k) {
    const Status& r = results[k];
    if (r.ok())
      ++synced[targets[k].first];
    else if (bad.ok() || r.err() != ETIMEDOUT)
      bad = r;
  }
  for (size_t i = 0; i < dirty.size(); ++i) {
    if (synced[i] == 0 || (!bad.ok() && bad.err() != ETIMEDOUT)) {
      st.Redirty(dirty);
      return DataError(bad.ok() ? Status::Err(EIO, "chunk has no replica") : bad);
    }
  }
  return Status::Ok();
}

Status CommitPending(Fs& fs, FileState& st) {
  auto p = st.Pending();
  if (!p) return Status::Ok();
  proto::CommitWriteReq req{st.ino(), p->end, p->mtime_ns, p->set};
  proto::AttrRep rep;
  Status s = fs.cluster->Meta(proto::Op::kCommitWrite, req, &rep);
  fs.listings.Changed(st.ino());  // size and mtime
  if (!s.ok()) return s;
  st.Committed(*p, rep.attr);
  fs.fresh_attrs.Put(rep.attr);
  return Status::Ok();
}

namespace {

// Bytes of queued writes sent in one chunk write: small writes are joined
// (one copy, far fewer messages); a write of 1 MiB goes alone, uncopied.
constexpr uint64_t kMaxBatchBytes = 1 << 20;

// Sends a batch TakeBatch made: one write as WriteData sends it; several
// (all in one chunk, none overlapping) sorted, the adjacent ones joined, as
// one chunk write with extents.
Status SendBatch(Fs& fs, FileState& st, std::vector<FileState::QueuedWrite>& batch) {
  if (batch.size() == 1) return WriteData(fs, st, batch[0].off, *batch[0].data, batch[0].data);
  std::sort(batch.begin(), batch.end(),
            [](const auto& a, const auto& b) { return a.off < b.off; });
  const uint64_t cs = st.chunk_size();
  const uint64_t index = batch[0].off / cs;
  auto joined = std::make_shared<std::string>();
  std::vector<proto::Extent> extents;
  for (const FileState::QueuedWrite& w : batch) {
    const uint64_t at = w.off - index * cs;
    if (!extents.empty() && extents.back().offset + extents.back().length == at)
      extents.back().length += static_cast<uint32_t>(w.data->size());
    else
      extents.push_back({at, static_cast<uint32_t>(w.data->size())});
    joined->append(*w.data);
  }
  return DataError(WriteExtents(fs, st, index, extents, *joined, joined));
}

// A sender's job: batches of st's queued writes while there are any (see
// TakeBatch; a job whose write another sender took ends at once).
void SendQueued(Fs& fs, FileState& st) {
  std::optional<uint64_t> sent;  // the chunk of the batch just sent
  for (;;) {
    std::vector<FileState::QueuedWrite> batch = st.TakeBatch(kMaxBatchBytes, &sent);
    if (batch.empty()) return;
    Status s = Guard([&] { return SendBatch(fs, st, batch); });
    for (const FileState::QueuedWrite& w : batch) st.EndWrite(w.ticket, s);
  }
}

}  // namespace

Status QueueWrite(Fs& fs, const std::shared_ptr<FileState>& st, uint64_t off,
                  std::string_view data, const uint64_t* seen) {
  Result<uint64_t> ticket = st->BeginWrite(off, data.size(), seen);
  if (!ticket.ok()) return ticket.status();
  // A sender already out takes the write on its next round: no thread is
  // woken just to find the queue empty.
  if (st->Queue({*ticket, off, std::make_shared<const std::string>(data)}, kMaxBatchBytes))
    fs.writers->Submit([&fs, st] { SendQueued(fs, *st); });
  return Status::Ok();
}

Status Settle(Fs& fs, uint64_t ino) {
  auto st = fs.files.Get(ino);
  if (!st) return Status::Ok();
  st->WaitWrites();  // an error of theirs is for flush and fsync
  return CommitPending(fs, *st);
}

Status SyncAndCommit(Fs& fs, FileState& st, uint64_t* seen) {
  if (Status w = st.WaitWritesError(seen, true); !w.ok()) return w;
  Status s = SyncDirty(fs, st);
  Status c = CommitPending(fs, st);
  return s.ok() ? c : s;
}

}  // namespace dos::fs
