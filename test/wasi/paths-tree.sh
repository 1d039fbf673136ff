#!/usr/bin/env bash
# Makes the tree paths.c looks at under DIR (DIR/sb is the sandbox) and
# prints the paths to ask about.  Used by run-cli.sh and run-arm64.sh.
#   test/wasi/paths-tree.sh DIR
set -eu
t=$1
rm -rf "$t"; mkdir -p "$t/sb/dir" "$t/outside"
echo in > "$t/sb/file"; echo inner > "$t/sb/dir/inner"; echo secret > "$t/secret"
ln -s ../file "$t/sb/dir/up";  ln -s ../../secret "$t/sb/dir/out"
ln -s /etc/passwd "$t/sb/dir/abs"; ln -s loop2 "$t/sb/dir/loop1"; ln -s loop1 "$t/sb/dir/loop2"
ln -s . "$t/sb/dir/sub"; ln -s up "$t/sb/dir/chain"; ln -s dir "$t/sb/dlink"
ln -s nothere "$t/sb/dangling"; ln -s ../../outside "$t/sb/dir/out2"
echo "file ./file dir/../file dir/inner dir/up dir/chain dir/out dir/abs dir/loop1"
echo "dlink/inner dlink/../file dir/sub/sub/inner ../secret dir/.. dir/../.. dlink/up"
echo "dangling file/ dir/inner/x dir/sub/../file dlink dir/out2 dlink/ dir/up/ dir/"
