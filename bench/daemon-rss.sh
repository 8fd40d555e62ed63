#!/usr/bin/env bash
# Peak RSS and wall time of reading the same synthetic image from a
# docker save archive and from a real Podman's Docker-compatible API
# (podman:REF), to show the daemon source streams the export instead of
# holding it: both peaks should be about the same, far below the image size.
# Needs podman (vfs storage in a temporary directory). SIZE: files per layer
# (default 4000, about 320 MiB uncompressed over 8 layers).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench-daemon
files="${SIZE:-4000}"
mkdir -p "$out"
[ -f "$out/image.tar" ] || go run ./bench/gen -o "$out/image.tar" -layers 8 -files "$files" -avg 10000
go build -o "$out/read" ./bench/read
root=$(mktemp -d)
pm=(podman --storage-driver vfs --root "$root/storage" --runroot "$root/run" --cgroup-manager cgroupfs --events-backend file)
export XDG_RUNTIME_DIR="$root/xdg"; mkdir -p "$XDG_RUNTIME_DIR"
"${pm[@]}" system service --time=0 "unix://$root/api.sock" & svc=$!
trap 'kill $svc 2>/dev/null; wait $svc 2>/dev/null; "${pm[@]}" system reset --force >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
for _ in $(seq 100); do [ -S "$root/api.sock" ] && break; sleep 0.1; done
tag=$("${pm[@]}" load -q -i "$out/image.tar" | sed -n 's/^Loaded image: //p' | head -1)
echo "image: $(du -h "$out/image.tar" | cut -f1) archive, podman tag $tag"
measure() {
  /usr/bin/time -v "$@" >/dev/null 2>"$out/time.txt"
  echo "wall $(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time.txt"), peak RSS $(($(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt") / 1024)) MiB"
}
echo "== docker-archive:"; measure "$out/read" -j 1 "docker-archive:$out/image.tar"
echo "== podman: (API socket)"; CONTAINER_HOST="unix://$root/api.sock" measure "$out/read" -j 1 "podman:$tag"
