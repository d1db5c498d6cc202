#!/bin/sh
# Which filesystem quota can hold an account's storage limit under a directory.
# Used by roles/account and roles/check (through the script module) and by
# `provisioner hosting server add` for a local server, so all three agree.
#
#   quota-probe.sh DIR   ->  probed_path= filesystem= mount= quota= reason=
#
# quota: btrfs (qgroups), xfs (mounted with project quotas), ext4 (mounted with
# user quotas) or unavailable, with the reason and how to turn quotas on.
# Read-only; DIR need not exist yet (its nearest existing parent is probed).
p="$1"
while [ ! -e "$p" ]; do p=$(dirname "$p"); done
fs=$(stat -f -c %T "$p")
mnt=$(findmnt -n -o TARGET --target "$p")
opts=$(findmnt -n -o OPTIONS --target "$p")
quota=unavailable
reason=""
case "$fs" in
  btrfs)
    # qgroups: roles/account turns them on when they are off
    if command -v btrfs >/dev/null 2>&1; then quota=btrfs
    else reason="btrfs on $mnt, but btrfs-progs is not installed"; fi ;;
  xfs)
    case ",$opts," in
      *,prjquota,*|*,pquota,*|*,pqnoenforce,*) quota=xfs ;;
      *) reason="XFS on $mnt is mounted without project quotas (mount it with prjquota)" ;;
    esac ;;
  ext2/ext3)
    case ",$opts," in
      *,usrquota,*|*,usrjquota=*|*,quota,*) quota=ext4 ;;
      *) reason="ext4 on $mnt is mounted without user quotas (mount it with usrquota, then quotaon)" ;;
    esac ;;
  *) reason="$fs on $mnt cannot hold per-account quotas (use btrfs, XFS or ext4)" ;;
esac
echo "probed_path=$p"
echo "filesystem=$fs"
echo "mount=$mnt"
echo "quota=$quota"
echo "reason=$reason"
