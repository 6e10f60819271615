// Replies to the kernel: with a Status (errno), an entry or attributes made
// from a proto::Attr. fuse_ino_t is the cluster inode number itself (root = 1),
// and so is st_ino.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include "common/proto/messages.h"
#include "fuse/fs.h"

namespace dos::fs {

void FillStat(const proto::Attr& attr, struct stat* st);
// Timeouts default to kEntryTimeout and kAttrTimeout; a cached answer gives
// the validity it has left.
void FillEntry(const proto::Attr& attr, fuse_entry_param* e, double valid_s = -1);

// fuse_reply_err with s.err() (0 for OK), logging unexpected errors.
void ReplyStatus(fuse_req_t req, const char* op, uint64_t ino, const Status& s);

// ENOENT from lookup: a negative entry cached for kEntryTimeout.
void ReplyNegativeEntry(fuse_req_t req);

}  // namespace dos::fs
