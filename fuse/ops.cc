#include "fuse/ops.h"

namespace dos::fs {

namespace {

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops o{};
  o.init = Init;
  o.lookup = Lookup;
  o.forget = Forget;
  o.forget_multi = ForgetMulti;
  o.getattr = Getattr;
  o.setattr = Setattr;
  o.readlink = Readlink;
  o.mknod = Mknod;
  o.mkdir = Mkdir;
  o.unlink = Unlink;
  o.rmdir = Rmdir;
  o.symlink = Symlink;
  o.rename = Rename;
  o.link = Link;
  o.open = Open;
  o.read = Read;
  o.write = Write;
  o.flush = Flush;
  o.release = Release;
  o.fsync = Fsync;
  o.opendir = Opendir;
  o.readdir = Readdir;
  o.readdirplus = Readdirplus;
  o.releasedir = Releasedir;
  o.fsyncdir = Fsyncdir;
  o.statfs = Statfs;
  o.setxattr = Setxattr;
  o.getxattr = Getxattr;
  o.listxattr = Listxattr;
  o.removexattr = Removexattr;
  o.create = Create;
  o.getlk = Getlk;
  o.setlk = Setlk;
  o.flock = Flock;
  return o;
}

}  // namespace

const fuse_lowlevel_ops& Ops() {
  static const fuse_lowlevel_ops ops = MakeOps();
  return ops;
}

}  // namespace dos::fs
