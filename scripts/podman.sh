#!/usr/bin/env bash
# podman with every file of its own under the project's cache (~/.cache/airunway/podman): its image storage,
# run state, events log and configuration (a containers.conf passed by CONTAINERS_CONF). Nothing in /etc, /run or
# /var/lib. The runc runtime and the cgroupfs manager work on hosts with hybrid cgroups, where crun does not.
#   scripts/podman.sh images
set -euo pipefail
cache="${AIRUNWAY_CACHE_DIR:-$HOME/.cache/airunway}/podman"
mkdir -p "$cache/storage" "$cache/run" "$cache/tmp" "$cache/networks"
conf="$cache/containers.conf"
# Default ulimits at or below the ones this shell has (a container may not raise them).
nofile=$(ulimit -n); nproc=$(ulimit -u)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 20000 ] && nofile=20000
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat > "$conf.new" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "host"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$cache/events.log"
runtime = "runc"
tmp_dir = "$cache/tmp"
volume_path = "$cache/storage/volumes"

[network]
network_config_dir = "$cache/networks"
CONF
cmp -s "$conf.new" "$conf" && rm "$conf.new" || mv "$conf.new" "$conf"
cat > "$cache/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$cache/storage"
runroot = "$cache/run"
CONF
export CONTAINERS_CONF="$conf" CONTAINERS_STORAGE_CONF="$cache/storage.conf" TMPDIR="$cache/tmp"
exec podman --root "$cache/storage" --runroot "$cache/run" --cgroup-manager=cgroupfs --events-backend=file \
  --runtime=runc "$@"
