// Fsck: the namespace checked against the chunks (issue 3, crash safety).
// Pure logic on the database plus the inventories of the UP nodes, so it is
// tested on a real SQLite file without sockets; handlers_repair.cc gathers
// the inventories and runs the file deletes it asks for.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/proto/messages.h"
#include "common/store/db.h"
#include "daemon/meta/repair.h"

namespace dos::meta {

struct FsckInput {
  bool repair = false;
  std::map<std::string, std::vector<HeldCopy>> held;  // inventory of each node read
  std::vector<std::string> unreachable;               // UP nodes whose inventory failed
  std::set<uint64_t> busy;                            // chunks with a copy or delete running
};

// Fills *out with what is wrong (see proto::FsckRep for the kinds). With
// in.repair it also fixes the database in one transaction and appends to
// *deletes the (chunk, node) copies to remove from disks. Counts are of what
// was found, fixed or not.
Status Fsck(store::Db* db, const FsckInput& in, proto::FsckRep* out,
            std::vector<std::pair<uint64_t, std::string>>* deletes);

// True when out reports any problem.
bool FsckFound(const proto::FsckRep& out);

}  // namespace dos::meta
