#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per kernel) the small initramfs that mounts the host tree over
# 9p: busybox plus the modules a distribution kernel keeps outside its image.
#   initramfs.sh <kernel-dir>   prints the path of the cpio archive
. "$(dirname "$0")/lib.sh"

kdir=$1
rel=$(cat "$kdir/release")
mods=$(readlink -f "$kdir/modules")
img=$AFS_CACHE/initramfs/$rel.cpio.gz
stamp=$(cat "$AFS_TOP/scripts/guest/initramfs-init" /bin/busybox | sha256sum | cut -c1-16)
if [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$img"
	exit 0
fi
mkdir -p "$AFS_CACHE/initramfs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,modules}
cp /bin/busybox "$tmp/bin/busybox"
cp "$AFS_TOP/scripts/guest/initramfs-init" "$tmp/init"
chmod +x "$tmp/init"
base=${mods%/lib/modules/$rel}
base=${base%/modules/$rel}
# Built-in drivers produce no insmod lines; modular ones come in load order.
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$base" -S "$rel" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	name=$(basename "$ko")
	case "$name" in
	*.xz) xz -dc "$ko" >"$tmp/modules/${name%.xz}"; name=${name%.xz} ;;
	*.zst) zstd -qdc "$ko" >"$tmp/modules/${name%.zst}"; name=${name%.zst} ;;
	*) cp "$ko" "$tmp/modules/$name" ;;
	esac
	echo "$name" >>"$tmp/modules.list"
done
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$img.new"
mv "$img.new" "$img"
echo "$stamp" >"$img.stamp"
echo "$img"
