# Base images made offline when the engine does not have them (sourced by scripts/containers/run).
# No container registry is needed: debootstrap fetches from Debian's mirror, and the Rust build
# image takes the machine's own toolchain. An image already present (pulled or made earlier) is used
# as it is.

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# debootstrap into a fresh directory under STATE; the caller imports and removes it.
bootstrap_rootfs() {
    local dir=$1; shift
    as_root rm -rf "$dir"
    as_root mkdir -p "$dir"
    apt_install debootstrap
    as_root debootstrap --variant=minbase "$@" bookworm "$dir" http://deb.debian.org/debian >"$dir.log" 2>&1 \
        || { tail -n 30 "$dir.log" >&2; return 1; }
    # The sources the official image has (its updates and security suites matter: the runtime image
    # needs libmariadb3 from them, see deploy/Dockerfile).
    as_root rm -f "$dir/etc/apt/sources.list"
    as_root tee "$dir/etc/apt/sources.list.d/debian.sources" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    as_root chroot "$dir" apt-get clean
    as_root rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log "$dir"/tmp/*
}

# The settings that make the official slim image slim, written out here: apt removes downloaded
# packages and its binary caches after every run, fetches no translations and keeps indexes
# compressed; dpkg skips documentation, manual pages and locales. Without them every later
# `apt-get install` layer keeps its caches (images about three times bigger).
slim_settings() {
    local dir=$1
    as_root tee "$dir/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
    echo 'Acquire::Languages "none";' | as_root tee "$dir/etc/apt/apt.conf.d/docker-no-languages" >/dev/null
    echo 'Acquire::GzipIndexes "true";' | as_root tee "$dir/etc/apt/apt.conf.d/docker-gzip-indexes" >/dev/null
    printf 'Apt::AutoRemove::SuggestsImportant "false";\n' \
        | as_root tee "$dir/etc/apt/apt.conf.d/docker-autoremove-suggests" >/dev/null
    as_root mkdir -p "$dir/etc/dpkg/dpkg.cfg.d"
    as_root tee "$dir/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF
    # What debootstrap already installed, trimmed the same way.
    as_root find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    as_root rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/lintian/*
    as_root find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
}

import_rootfs() {
    local dir=$1 image=$2; shift 2
    as_root tar -C "$dir" -c . | docker import "$@" - "$image" >/dev/null
    as_root rm -rf "$dir" "$dir.log"
    echo "made $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
}

ensure_debian_slim() {
    local image=debian:bookworm-slim
    have_image "$image" && return 0
    step "making $image with debootstrap (stand-in for the official image)"
    local dir="$STATE/rootfs-slim"
    bootstrap_rootfs "$dir"
    slim_settings "$dir"
    import_rootfs "$dir" "$image" --change 'CMD ["bash"]'
}

# The Rust build image under the name deploy/Dockerfile uses by default: Debian with the build
# tools, this machine's stable toolchain where the official image keeps its own, and the host's CA
# certificates (cargo inside a build reaches crates.io through the same TLS inspection as the host).
ensure_rust_image() {
    local image=rust:1-bookworm
    have_image "$image" && return 0
    step "making $image from this machine's Rust toolchain (stand-in for the official image)"
    local dir="$STATE/rootfs-rust" toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
    local toolchain
    toolchain=$(rustup toolchain list | awk '/^stable/ {print $1; exit}')
    [ -n "$toolchain" ] || { echo "no stable Rust toolchain on this machine" >&2; return 1; }
    bootstrap_rootfs "$dir" --include=build-essential,pkg-config,git,ca-certificates,curl,xz-utils
    as_root mkdir -p "$dir/usr/local/rustup/toolchains" "$dir/usr/local/cargo/bin"
    as_root cp -a "$(readlink -f "$toolchains/$toolchain")" "$dir/usr/local/rustup/toolchains/$toolchain"
    as_root rm -rf "$dir/usr/local/rustup/toolchains/$toolchain/share/doc"
    printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" \
        | as_root tee "$dir/usr/local/rustup/settings.toml" >/dev/null
    # rustup's proxies are the rustup binary under the tools' names.
    local tool
    as_root install -m 0755 "$(command -v rustup)" "$dir/usr/local/cargo/bin/rustup"
    for tool in cargo rustc rustdoc rust-gdb rust-lldb cargo-clippy clippy-driver cargo-fmt rustfmt; do
        as_root ln -f "$dir/usr/local/cargo/bin/rustup" "$dir/usr/local/cargo/bin/$tool"
    done
    as_root cp -a /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
    as_root chroot "$dir" update-ca-certificates >/dev/null
    import_rootfs "$dir" "$image" \
        --change 'ENV RUSTUP_HOME=/usr/local/rustup' --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]'
}

# The database and load-balancer images the compose files name, when the engine does not have
# them: stand-ins from Debian's packages (stand-ins/*/Dockerfile), said so in the output. The
# test's own tools image is always built (cached after the first time).
STAND_INS=("mysql:8.0 mysql" "postgres:16 postgres" "haproxy:2.8 haproxy")
TOOLS_IMAGE=wa-onprem-test/tools:1

ensure_stand_ins() {
    local entry image dir
    for entry in "${STAND_INS[@]}"; do
        read -r image dir <<<"$entry"
        if have_image "$image"; then
            local label
            label=$(docker image inspect -f '{{index .Config.Labels "wa-onprem-test.stand-in"}}' "$image")
            [ -n "$label" ] && echo "$image: stand-in ($label)" || echo "$image: the engine's own image"
            continue
        fi
        step "building a stand-in for $image from Debian packages (no registry here)"
        docker build -q -t "$image" "scripts/containers/stand-ins/$dir" >/dev/null
        echo "$image: stand-in ($(docker image inspect -f '{{index .Config.Labels "wa-onprem-test.stand-in"}}' "$image"))"
    done
    docker build -q -t "$TOOLS_IMAGE" scripts/containers/stand-ins/tools >/dev/null
}
