// The meta database's tables, created and migrated by PRAGMA user_version.
//
// inodes    one row per file, directory, symlink or node; `parent` is kept for
//           directories only (the walk that refuses a rename into a subtree);
//           repl 0 means "the cluster default"; target holds a symlink's path.
// dentries  (parent, name) -> ino; the rowid is the readdir cookie.
// chunks    (ino, idx) -> chunk id and version; ids are never reused
//           (settings.next_chunk_id only grows).
// replicas  which node holds which chunk.
// node_replicas  node -> how many rows of replicas name it (version 5; kept
//           by triggers on replicas, never written directly).
// xattrs    (ino, name) -> value.
// nodes     every node that ever sent a heartbeat, so meta knows them after a
//           restart.
// settings  key -> value (next_chunk_id, config_version).
// config    the cluster settings an admin set (config.h); others default.
// labels    (node, key) -> value; "zone" is the failure domain.
// node_admin  node -> CORDON, DRAIN (with the replicas it held then) or
//           REMOVED (its heartbeats are refused until it joins again).
// join_tokens  one-use tokens of `dosctl node add`, for one node name.
// keys      public keys allowed in (keys.h); uid/gid (version 4, NULL if
//           none): the credentials a user key is bound to.
#pragma once

#include "common/store/db.h"

namespace dos::meta {

inline constexpr int kSchemaVersion = 5;

// Brings db up to kSchemaVersion, creating the root directory (inode 1,
// 040755, uid 0, gid 0) with the first version. EIO for a database newer than
// this build.
Status Migrate(store::Db* db, uint64_t chunk_size);

}  // namespace dos::meta
