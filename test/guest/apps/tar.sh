# Usage: tar.sh DIR, with DIR/src a tree. Paths are relative, so the output is the same wherever DIR
# is; the tar file is reproducible (sorted names, fixed times and owners), so its bytes compare too.
set -e
cd "$1"
export TZ=UTC LC_ALL=C
tar --sort=name --mtime='2021-01-01 00:00Z' --owner=0 --group=0 --numeric-owner -czf t.tgz src
sha256sum t.tgz
mkdir out && tar xzf t.tgz -C out
find out -type f -name 'f1*' -exec sha256sum {} + | sort
find out -type f -print0 | sort -z | xargs -0 -n 4 wc -c | grep -v total
cp -a out/src copy
find copy -printf '%P %m %y %l %TY\n' | sort
diff -r --no-dereference out/src copy && echo same copy
