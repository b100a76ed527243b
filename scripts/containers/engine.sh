# The Docker engine, compose v2 and buildx for the containers test (sourced by scripts/containers/run).
#
# Debian 12's docker.io (20.10) is the engine. Its docker-compose is v1, which cannot read our files
# (top-level `name:`), and without buildx BuildKit builds refuse to run; Debian trixie packages both
# as CLI plugins that work against the 20.10 engine, so their .debs are fetched with an apt
# configuration of their own (nothing is added to the host's sources) and unpacked under STATE.
#
# Everything lives under STATE (outside the clone, default /var/lib/wa-onprem-test): the engine's
# data root keeps the images and BuildKit's cache between CI runs, which run fresh clones on the
# same machine. The engine listens on a socket of its own so it never takes over, or is taken
# over by, a `docker` the host may run for other purposes.

STATE="${WA_CONTAINERS_STATE:-/var/lib/wa-onprem-test}"
RUN_DIR=/run/wa-onprem-test
export DOCKER_HOST="unix://$RUN_DIR/docker.sock"
# The CLI plugins (compose, buildx) are looked up here before the system directories.
export DOCKER_CONFIG="$STATE/cli"

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_engine() {
    if ! command -v dockerd >/dev/null 2>&1; then apt_install docker.io; fi
    apt_install iptables
    if engine_up; then return 0; fi
    step "starting dockerd (data root $STATE/docker, socket $RUN_DIR/docker.sock)"
    as_root mkdir -p "$STATE/docker" "$RUN_DIR"
    # setsid: the engine outlives this script (the next run reuses it) and is not in its process
    # group, so an interrupted test does not take the engine down with it.
    as_root setsid dockerd --data-root "$STATE/docker" --exec-root "$RUN_DIR/exec" \
        --pidfile "$RUN_DIR/dockerd.pid" -H "$DOCKER_HOST" --storage-driver overlay2 \
        >>"$STATE/dockerd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 120); do
        engine_up && { echo "engine $(docker version --format '{{.Server.Version}}')"; return 0; }
        sleep 1
    done
    tail -n 40 "$STATE/dockerd.log" >&2
    echo "dockerd did not answer on $DOCKER_HOST within 120 s" >&2
    return 1
}

# Fetch trixie's docker-compose and docker-buildx .debs with a private apt state directory and
# install their plugin binaries under $DOCKER_CONFIG/cli-plugins.
ensure_cli_plugins() {
    local plugins="$DOCKER_CONFIG/cli-plugins"
    if [ -x "$plugins/docker-compose" ] && [ -x "$plugins/docker-buildx" ] \
        && docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
        return 0
    fi
    step "fetching compose v2 and buildx from Debian trixie (private apt configuration)"
    local apt_dir="$STATE/apt-trixie"
    as_root mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" "$plugins"
    echo "deb http://deb.debian.org/debian trixie main" | as_root tee "$apt_dir/etc/sources.list" >/dev/null
    local opts=(-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list" -o "Dir::Etc::SourceParts=-"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
        -o "Dir::State::status=/dev/null" -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1")
    as_root apt-get "${opts[@]}" -qq update
    (cd "$apt_dir/cache" && as_root apt-get "${opts[@]}" -qq download docker-compose docker-buildx)
    local deb tmp
    for deb in "$apt_dir"/cache/docker-compose_*.deb "$apt_dir"/cache/docker-buildx_*.deb; do
        tmp=$(mktemp -d)
        dpkg-deb -x "$deb" "$tmp"
        as_root install -m 0755 "$tmp"/usr/libexec/docker/cli-plugins/* "$plugins/"
        rm -rf "$tmp"
    done
    docker compose version
    docker buildx version
}
