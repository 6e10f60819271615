#include "daemon/meta/schema.h"

#include <ctime>
#include <string>

#include "common/store/stmt.h"
#include "common/store/txn.h"

namespace dos::meta {

namespace {

const char* const kVersion1 = R"sql(
CREATE TABLE inodes(
  ino INTEGER PRIMARY KEY AUTOINCREMENT,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL DEFAULT 0,
  gid INTEGER NOT NULL DEFAULT 0,
  nlink INTEGER NOT NULL DEFAULT 1,
  size INTEGER NOT NULL DEFAULT 0,
  rdev INTEGER NOT NULL DEFAULT 0,
  atime_ns INTEGER NOT NULL DEFAULT 0,
  mtime_ns INTEGER NOT NULL DEFAULT 0,
  ctime_ns INTEGER NOT NULL DEFAULT 0,
  parent INTEGER NOT NULL DEFAULT 0,
  repl INTEGER NOT NULL DEFAULT 0,
  chunk_size INTEGER NOT NULL,
  target TEXT);
CREATE INDEX inodes_nlink ON inodes(nlink) WHERE nlink = 0;
CREATE TABLE dentries(
  cookie INTEGER PRIMARY KEY AUTOINCREMENT,
  parent INTEGER NOT NULL,
  name TEXT NOT NULL,
  ino INTEGER NOT NULL,
  UNIQUE(parent, name));
CREATE TABLE chunks(
  ino INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  id INTEGER NOT NULL UNIQUE,
  version INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(ino, idx)) WITHOUT ROWID;
CREATE TABLE replicas(
  chunk_id INTEGER NOT NULL,
  node TEXT NOT NULL,
  pos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(chunk_id, node)) WITHOUT ROWID;
CREATE INDEX replicas_node ON replicas(node);
CREATE TABLE xattrs(
  ino INTEGER NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY(ino, name)) WITHOUT ROWID;
CREATE TABLE nodes(
  name TEXT PRIMARY KEY,
  addr TEXT NOT NULL,
  data_dir TEXT NOT NULL DEFAULT '',
  capacity INTEGER NOT NULL DEFAULT 0,
  used INTEGER NOT NULL DEFAULT 0,
  chunks INTEGER NOT NULL DEFAULT 0,
  pid INTEGER NOT NULL DEFAULT 0);
CREATE TABLE settings(key TEXT PRIMARY KEY, value);
INSERT INTO settings(key, value) VALUES ('next_chunk_id', 1);
)sql";

// Cluster administration: settings, node labels, cordon/drain/removed
// marks and join tokens. Idempotent.
const char* const kVersion2 = R"sql(
CREATE TABLE IF NOT EXISTS config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels(
  node TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(node, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS node_admin(
  node TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  drain_total INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS join_tokens(
  token TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
INSERT OR IGNORE INTO settings(key, value) VALUES ('config_version', 0);
)sql";

// Version 3: the public keys allowed into the cluster (daemon/meta/keys.h).
const char* const kVersion3 = R"sql(
CREATE TABLE IF NOT EXISTS keys(
  name TEXT PRIMARY KEY,
  public_key TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('user', 'admin', 'node')),
  revoked INTEGER NOT NULL DEFAULT 0,
  added_ms INTEGER NOT NULL DEFAULT 0);
INSERT OR IGNORE INTO settings(key, value) VALUES ('keys_version', 1);
)sql";

// Version 4: a user key may be bound to a uid and gid (NULL: not bound).
const char* const kVersion4 = R"sql(
ALTER TABLE keys ADD COLUMN uid INTEGER;
ALTER TABLE keys ADD COLUMN gid INTEGER;
)sql";

// Version 5: how many chunk replicas each node holds, kept by triggers on
// replicas, so that placing a chunk does not count the whole table.
const char* const kVersion5 = R"sql(
CREATE TABLE IF NOT EXISTS node_replicas(
  node TEXT PRIMARY KEY,
  count INTEGER NOT NULL) WITHOUT ROWID;
DELETE FROM node_replicas;
INSERT INTO node_replicas(node, count) SELECT node, COUNT(*) FROM replicas GROUP BY node;
CREATE TRIGGER IF NOT EXISTS replicas_insert AFTER INSERT ON replicas BEGIN
  INSERT INTO node_replicas(node, count) VALUES (NEW.node, 1)
    ON CONFLICT(node) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS replicas_delete AFTER DELETE ON replicas BEGIN
  UPDATE node_replicas SET count = count - 1 WHERE node = OLD.node;
END;
CREATE TRIGGER IF NOT EXISTS replicas_move AFTER UPDATE OF node ON replicas BEGIN
  UPDATE node_replicas SET count = count - 1 WHERE node = OLD.node;
  INSERT INTO node_replicas(node, count) VALUES (NEW.node, 1)
    ON CONFLICT(node) DO UPDATE SET count = count + 1;
END;
)sql";

int64_t WallNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Status CreateRoot(store::Db* db, uint64_t chunk_size) {
  store::Stmt st(db,
                 "INSERT INTO inodes(ino, mode, uid, gid, nlink, atime_ns, mtime_ns, ctime_ns,"
                 " parent, chunk_size) VALUES (1, ?1, 0, 0, 2, ?2, ?2, ?2, 1, ?3)");
  st.Bind(1, 040755).Bind(2, WallNs()).Bind(3, chunk_size);
  return st.Run();
}

Result<int> UserVersion(store::Db* db) {
  store::Stmt st(db, "PRAGMA user_version");
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(st.Int(0));
}

}  // namespace

Status Migrate(store::Db* db, uint64_t chunk_size) {
  store::Txn txn(db);
  if (Status s = txn.Begin(); !s.ok()) return s;
  Result<int> version = UserVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion)
    return Status::Err(EIO, db->path() + ": schema version " + std::to_string(*version) +
                                " is newer than this build's " + std::to_string(kSchemaVersion));
  if (*version < 1) {
    if (Status s = db->Exec(kVersion1); !s.ok()) return s;
    if (Status s = CreateRoot(db, chunk_size); !s.ok()) return s;
  }
  if (*version < 2) {
    if (Status s = db->Exec(kVersion2); !s.ok()) return s;
  }
  if (*version < 3) {
    if (Status s = db->Exec(kVersion3); !s.ok()) return s;
  }
  if (*version < 4) {
    if (Status s = db->Exec(kVersion4); !s.ok()) return s;
  }
  if (*version < 5) {
    if (Status s = db->Exec(kVersion5); !s.ok()) return s;
  }
  if (Status s = db->Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)); !s.ok())
    return s;
  return txn.Commit();
}

}  // namespace dos::meta
