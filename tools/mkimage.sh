#!/bin/sh
# mkimage.sh ESP.img OUT.img - a GPT disk whose one partition is the ESP, to
# write to a USB stick (dd if=OUT.img of=/dev/sdX bs=4M) and boot on a UEFI PC.
set -eu
esp=$1
out=$2
esp_sectors=$(( $(stat -c %s "$esp") / 512 ))
total_sectors=$(( 2048 + esp_sectors + 2048 ))   # 1 MiB before, room for the backup GPT after

rm -f "$out"
dd if=/dev/zero of="$out" bs=512 count="$total_sectors" status=none
printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="irqlab ESP"\n' \
    "$esp_sectors" | sfdisk --quiet "$out"
dd if="$esp" of="$out" bs=512 seek=2048 conv=notrunc status=none
echo "irqlab: wrote $out (GPT, ESP at 1 MiB); write it to a USB stick with dd"
