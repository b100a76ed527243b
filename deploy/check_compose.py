#!/usr/bin/env python3
"""Structural checks of the deployment files that need no Docker engine.

    python3 deploy/check_compose.py            # from the repository root; exit status 1 on problems

What it checks, and why each matters when someone runs `docker compose up` on a fresh VM:

* every compose file (docker-compose.yml, deploy/compose/*.yml) parses, uses only keys of the
  Compose specification, and its `${...}` variables resolve (and refuse to resolve without
  WA_API_VERSION, the deliberate version pin);
* env files exist and are KEY=VALUE; `depends_on` targets exist and `service_healthy` targets have a
  health check; named volumes are declared; bind-mounted files and build contexts, Dockerfiles and
  build targets exist;
* the On-Prem wiring is consistent: WA_DB_HOSTNAME / WACORE_HOSTNAME / the coreapp's network
  address name services of the file, the database engine, port and password match the db service,
  and the container ports match what the image EXPOSEs;
* hardening: `restart: unless-stopped`, `cap_drop: [MKNOD]`, only the API port published on every
  interface (databases and wanet's unauthenticated control API on 127.0.0.1 only);
* deploy/Dockerfile (parsed with BuildKit's own parser, the `dockerfile` package): the three targets
  exist, run as a non-root user, have a HEALTHCHECK, STOPSIGNAL SIGTERM and the expected EXPOSE;
  the runtime installs libmariadb3/libpq5 and enforces the libmariadb3 floor; .dockerignore
  excludes target/.

It deliberately does not need `docker compose config` (no engine or compose plugin here);
scripts/lib/setup.sh runs that too when a working `docker compose` is available.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

try:
    import yaml
    import dockerfile
    from check_extras import check_one_shot, check_overlay, check_proxy_protocol, one_shot
except ImportError as missing:  # pragma: no cover - message for people running it by hand
    sys.exit(
        f"check_compose.py needs PyYAML and dockerfile ({missing}); "
        "pip install -r deploy/requirements.txt, or run scripts/test"
    )

ROOT = Path(__file__).resolve().parent.parent

COMPOSE_FILES = [ROOT / "docker-compose.yml", *sorted((ROOT / "deploy" / "compose").glob("*.yml"))]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# Overlays used with `-f docker-compose.yml -f <overlay>`: paths relative to the repository root.
OVERLAYS = [ROOT / "deploy" / "monitoring" / "compose.yml"]
# Files an operator creates before using an overlay (never in the repository).
OPERATOR_FILES = {"./deploy/monitoring/wa_api_key"}

# The variables a user sets; everything else must have a default in the files. The secrets key is
# required by the files since the services refuse to start without one (any well-formed value
# resolves them, as for `docker compose config` in scripts/lib/setup.sh).
CHECK_ENV = {
    "WA_API_VERSION": "0.0.0-check",
    "WA_SECRETS_KEY": "wa-check-key-0000000000000000000000000000000000000000000",
}

# Top-level and service keys of the Compose specification (compose-spec.json, services.* properties).
TOP_LEVEL_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs"}
SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
    "command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
    "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on",
    "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
    "entrypoint", "env_file", "environment", "expose", "extends", "external_links", "extra_hosts",
    "gpus", "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation", "labels",
    "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit",
    "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform",
    "ports", "post_start", "pre_stop", "privileged", "profiles", "pull_policy", "read_only", "restart",
    "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period",
    "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode", "uts",
    "volumes", "volumes_from", "working_dir",
}
BUILD_KEYS = {
    "context", "dockerfile", "dockerfile_inline", "args", "ssh", "labels", "cache_from", "cache_to",
    "no_cache", "additional_contexts", "network", "pull", "target", "shm_size", "extra_hosts",
    "isolation", "privileged", "secrets", "tags", "ulimits", "platforms", "entitlements",
}
HEALTHCHECK_KEYS = {"disable", "interval", "retries", "test", "timeout", "start_period", "start_interval"}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")

# deploy/Dockerfile targets: what each must expose.
TARGET_PORTS = {"webapp": {443}, "coreapp": {6250}, "wanet": {5222, 5280}}
# Container ports that may be published on every interface (the HTTPS API).
PUBLIC_CONTAINER_PORTS = {443}


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


# --------------------------------------------------------------------------------------------
# Compose interpolation (compose-spec 12-interpolation.md)
# --------------------------------------------------------------------------------------------


class InterpolationError(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                j += 1
            if depth:
                raise InterpolationError(f"unterminated ${{ in {text!r}")
            out.append(expand(text[i + 2 : j - 1], env))
            i = j
        else:
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1 :])
            if not m:
                raise InterpolationError(f"invalid $ in {text!r} (write $$ for a literal $)")
            out.append(env.get(m.group(0), ""))
            i += 1 + len(m.group(0))
    return "".join(out)


def expand(inner: str, env: dict[str, str]) -> str:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$", inner, re.S)
    if not m:
        raise InterpolationError(f"invalid variable ${{{inner}}}")
    name, op, arg = m.group(1), m.group(2), m.group(3) or ""
    value = env.get(name)
    unset_or_empty = not value
    if op is None:
        return value or ""
    missing = unset_or_empty if op.startswith(":") else value is None
    if op.endswith("-"):
        return interpolate(arg, env) if missing else value
    if op.endswith("?"):
        if missing:
            raise InterpolationError(f"required variable {name} is missing a value: {arg}")
        return value
    return "" if missing else interpolate(arg, env)  # "+"


def interpolate_tree(node, env, path="") -> object:
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env, f"{path}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(v, env, f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):
        try:
            return interpolate(node, env)
        except InterpolationError as e:
            raise InterpolationError(f"{path.lstrip('.')}: {e}") from None
    return node


# --------------------------------------------------------------------------------------------
# Small parsers
# --------------------------------------------------------------------------------------------


def parse_env_file(path: Path, problems: Problems) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)$", stripped)
        if not m:
            problems.add(f"{rel(path)}:{number}", f"not KEY=VALUE: {line!r}")
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            # Docker compose strips the quotes, docker run --env-file keeps them: avoid both.
            problems.add(f"{rel(path)}:{number}", "quoted value (compose and `docker run` disagree on quotes)")
            value = value[1:-1]
        values[m.group(1)] = value
    return values


def environment_of(service: dict, where: str, problems: Problems) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = {}
        for item in env:
            key, _, value = str(item).partition("=")
            pairs[key] = value
        return pairs
    result = {}
    for key, value in env.items():
        if isinstance(value, bool):
            problems.add(where, f"environment {key}: boolean {value} (compose rejects it; quote it)")
        result[key] = "" if value is None else str(value)
    return result


def parse_port(spec, where: str, problems: Problems):
    """(host_ip, host_port, container_port) of a short-syntax port."""
    if isinstance(spec, dict):
        return spec.get("host_ip", ""), str(spec.get("published", "")), int(spec["target"])
    text = str(spec).split("/")[0]
    parts = text.rsplit(":", 2)
    try:
        if len(parts) == 3:
            return parts[0], parts[1], int(parts[2])
        if len(parts) == 2:
            return "", parts[0], int(parts[1])
        return "", "", int(parts[0])
    except ValueError:
        problems.add(where, f"port {spec!r} is not [ip:]host:container")
        return "", "", 0


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


class Stage:
    def __init__(self, name: str, base: str) -> None:
        self.name, self.base = name, base
        self.commands: list = []


def parse_dockerfile(path: Path) -> tuple[dict[str, Stage], dict[str, str]]:
    stages: dict[str, Stage] = {}
    global_args: dict[str, str] = {}
    current: Stage | None = None
    for command in dockerfile.parse_file(str(path)):
        if command.cmd == "ARG" and current is None:
            key, _, default = command.value[0].partition("=")
            global_args[key] = default
        elif command.cmd == "FROM":
            value = list(command.value)
            base = interpolate(value[0], global_args)
            name = value[2] if len(value) >= 3 and value[1].upper() == "AS" else f"#{len(stages)}"
            current = Stage(name, base)
            stages[name] = current
        elif current is not None:
            current.commands.append(command)
    return stages, global_args


def stage_chain(stages: dict[str, Stage], name: str) -> list[Stage]:
    chain = []
    stage = stages.get(name)
    while stage is not None:
        chain.insert(0, stage)
        stage = stages.get(stage.base)
    return chain


def target_facts(stages: dict[str, Stage], name: str) -> dict:
    facts = {"user": None, "healthcheck": None, "stopsignal": None, "expose": set(), "entrypoint": None,
             "env": {}, "runs": [], "base": None, "copies": []}
    chain = stage_chain(stages, name)
    if chain:
        facts["base"] = chain[0].base
    for stage in chain:
        for c in stage.commands:
            if c.cmd == "USER":
                facts["user"] = c.value[0]
            elif c.cmd == "HEALTHCHECK":
                facts["healthcheck"] = c.value
            elif c.cmd == "STOPSIGNAL":
                facts["stopsignal"] = c.value[0]
            elif c.cmd == "EXPOSE":
                facts["expose"] |= {int(v.split("/")[0]) for v in c.value}
            elif c.cmd == "ENTRYPOINT":
                facts["entrypoint"] = c.value
            elif c.cmd == "ENV":
                values = list(c.value)
                facts["env"].update(dict(zip(values[0::2], values[1::2])))
            elif c.cmd == "RUN":
                facts["runs"].append(" ".join(c.value))
            elif c.cmd == "COPY" and any(flag.startswith("--from=") for flag in c.flags):
                facts["copies"].append(c.value[0])
    return facts


def check_build_hygiene(stages: dict[str, Stage], facts: dict[str, dict], problems: Problems) -> None:
    """What an offline build and small images need (issue 15)."""
    where = rel(DOCKERFILE)
    # A `# syntax=` directive makes BuildKit pull a frontend image from Docker Hub on every build.
    for line in DOCKERFILE.read_text().splitlines():
        if not line.startswith("#"):
            break
        if re.match(r"#\s*syntax\s*=", line, re.I):
            problems.add(where, "has a `# syntax=` directive: the build would need Docker Hub")
    # Each binary in exactly one layer: copied once, never modified afterwards in the runtime stage
    # (a RUN that touches it, e.g. setcap, stores a second copy).
    for target, f in facts.items():
        binary = f"/usr/local/bin/{target}"
        if f["copies"] != [f"/out/{target}"]:
            problems.add(where, f"{target}: expected one COPY --from of /out/{target}, got {f['copies']}")
        if any(binary in run for run in f["runs"]):
            problems.add(where, f"{target}: a RUN modifies {binary}, which stores the binary twice")
    builder_runs = " ".join(" ".join(c.value) for s in stage_chain(stages, "builder")
                            for c in s.commands if c.cmd == "RUN")
    if "setcap cap_net_bind_service=+ep /out/webapp" not in builder_runs:
        problems.add(where, "webapp: binds 443 as non-root without cap_net_bind_service (set in the builder)")
    args = {c.value[0].partition("=")[0]: c.value[0].partition("=")[2]
            for s in stages.values() for c in s.commands if c.cmd == "ARG"}
    if not re.fullmatch(r"\d+\.\d+\.\d+", args.get("CARGO_CHEF_VERSION", "")):
        problems.add(where, "CARGO_CHEF_VERSION must pin an exact crates.io release (x.y.z)")
    if "--version \"${CARGO_CHEF_VERSION}\"" not in builder_runs:
        problems.add(where, "cargo-chef is not installed at the pinned CARGO_CHEF_VERSION")


def check_dockerfile(problems: Problems) -> dict[str, dict]:
    where = rel(DOCKERFILE)
    stages, _ = parse_dockerfile(DOCKERFILE)
    facts = {}
    for target, ports in TARGET_PORTS.items():
        if target not in stages:
            problems.add(where, f"no build target {target!r}")
            continue
        f = facts[target] = target_facts(stages, target)
        if f["base"] != "debian:bookworm-slim":
            problems.add(where, f"{target}: runtime base is {f['base']!r}, expected debian:bookworm-slim")
        if f["user"] in (None, "root", "0") or str(f["user"]).startswith("0:"):
            problems.add(where, f"{target}: runs as root (no USER)")
        if not f["healthcheck"] or f["healthcheck"][0].upper() == "NONE":
            problems.add(where, f"{target}: no HEALTHCHECK")
        if f["stopsignal"] != "SIGTERM":
            problems.add(where, f"{target}: STOPSIGNAL is {f['stopsignal']!r}, expected SIGTERM")
        if f["expose"] != ports:
            problems.add(where, f"{target}: EXPOSE {sorted(f['expose'])}, expected {sorted(ports)}")
        if not f["entrypoint"]:
            problems.add(where, f"{target}: no ENTRYPOINT")
        installs = " ".join(f["runs"])
        for package in ("libmariadb3", "libpq5", "ca-certificates"):
            if package not in installs:
                problems.add(where, f"{target}: runtime does not install {package}")
        if "dpkg --compare-versions" not in installs:
            problems.add(where, f"{target}: the libmariadb3 version floor is not enforced")
    builder = stage_chain(stages, "builder")
    if not builder or builder[0].base != "rust:1-bookworm":
        problems.add(where, "the builder must start from rust:1-bookworm")
    else:
        runs = " ".join(" ".join(c.value) for s in builder for c in s.commands if c.cmd == "RUN")
        for package in ("libmariadb-dev", "libmariadb-dev-compat", "libpq-dev", "pkg-config"):
            if package not in runs:
                problems.add(where, f"builder does not install {package}")
    check_build_hygiene(stages, facts, problems)
    ignore = ROOT / ".dockerignore"
    if not ignore.exists() or not re.search(r"^/?target/?$", ignore.read_text(), re.M):
        problems.add(".dockerignore", "must exist and exclude target/")
    return facts


# --------------------------------------------------------------------------------------------
# Compose files
# --------------------------------------------------------------------------------------------


def check_compose(path: Path, images: dict[str, dict], problems: Problems) -> None:
    where = rel(path)
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict):
        problems.add(where, "no services")
        return
    for key in raw:
        if key not in TOP_LEVEL_KEYS and not str(key).startswith("x-"):
            problems.add(where, f"unknown top-level key {key!r}")

    # Without WA_API_VERSION compose must refuse to start (Meta's files do the same).
    try:
        interpolate_tree(raw, {})
        problems.add(where, "resolves without WA_API_VERSION; images must use ${WA_API_VERSION:?...}")
    except InterpolationError:
        pass
    try:
        doc = interpolate_tree(raw, CHECK_ENV)
    except InterpolationError as e:
        problems.add(where, f"interpolation: {e}")
        return

    base = path.parent
    services: dict = doc["services"]
    declared_volumes = set((doc.get("volumes") or {}).keys())
    published: dict[tuple[str, str], str] = {}
    envs: dict[str, dict[str, str]] = {}

    for name, service in services.items():
        at = f"{where}: services.{name}"
        for key in service:
            if key not in SERVICE_KEYS and not str(key).startswith("x-"):
                problems.add(at, f"unknown key {key!r}")
        if "image" not in service and "build" not in service:
            problems.add(at, "needs image or build")
        if service.get("restart") != ("on-failure" if one_shot(service) else "unless-stopped"):
            problems.add(at, f"restart must be {'on-failure' if one_shot(service) else 'unless-stopped'}")
        if "MKNOD" not in (service.get("cap_drop") or []):
            problems.add(at, "cap_drop must include MKNOD")
        if "stop_grace_period" in service and not DURATION.match(str(service["stop_grace_period"])):
            problems.add(at, f"stop_grace_period {service['stop_grace_period']!r} is not a duration")

        # Environment as the container gets it: env_file(s), then environment.
        env: dict[str, str] = {}
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, (str, dict)) else env_files:
            file_path = base / (env_file["path"] if isinstance(env_file, dict) else env_file)
            if not file_path.is_file():
                problems.add(at, f"env_file {rel(file_path)} does not exist")
            else:
                env.update(parse_env_file(file_path, problems))
        env.update(environment_of(service, at, problems))
        envs[name] = env

        # Build: context, Dockerfile and target exist; the target is one of ours.
        target = None
        build = service.get("build")
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            for key in build:
                if key not in BUILD_KEYS:
                    problems.add(at, f"unknown build key {key!r}")
            context = (base / build.get("context", ".")).resolve()
            dockerfile_path = context / build.get("dockerfile", "Dockerfile")
            if not context.is_dir():
                problems.add(at, f"build context {build.get('context')} does not exist")
            elif dockerfile_path.resolve() != DOCKERFILE:
                problems.add(at, f"builds {rel(dockerfile_path)}, expected {rel(DOCKERFILE)}")
            target = build.get("target")
            if target not in images:
                problems.add(at, f"build target {target!r} is not a target of {rel(DOCKERFILE)}")
        image = str(service.get("image", ""))
        m = re.match(r".*/(webapp|coreapp|wanet):(.+)$", image)
        if m and m.group(2) == CHECK_ENV["WA_API_VERSION"]:
            target = target or m.group(1)
            if build is not None and build.get("target") != m.group(1):
                problems.add(at, f"image {image} built from target {build.get('target')!r}")
        if target in images and not (set(images[target]["expose"])):
            problems.add(at, "image exposes nothing")

        # Ports: parseable, unique, only the API on every interface, container port exposed.
        for spec in service.get("ports") or []:
            host_ip, host_port, container_port = parse_port(spec, at, problems)
            if host_port:
                key = (host_ip or "0.0.0.0", host_port)
                if key in published:
                    problems.add(at, f"host port {host_port} also published by {published[key]}")
                published[key] = name
            if container_port not in PUBLIC_CONTAINER_PORTS and host_ip not in ("127.0.0.1", "::1", "[::1]"):
                problems.add(at, f"port {spec!r} must be published on 127.0.0.1 only")
            if target in images and container_port not in images[target]["expose"]:
                problems.add(at, f"port {spec!r}: the {target} image does not EXPOSE {container_port}")

        # Volumes: named ones declared, bind-mounted paths exist.
        for spec in service.get("volumes") or []:
            source = spec.get("source", "") if isinstance(spec, dict) else str(spec).split(":")[0]
            if source.startswith((".", "/")):
                if not (base / source).exists():
                    problems.add(at, f"bind mount {source} does not exist")
            elif source and source not in declared_volumes:
                problems.add(at, f"volume {source!r} is not declared under volumes:")

        # Health checks.
        health = service.get("healthcheck")
        if health is not None:
            for key in health:
                if key not in HEALTHCHECK_KEYS:
                    problems.add(at, f"unknown healthcheck key {key!r}")
            test = health.get("test")
            if isinstance(test, list) and (not test or test[0] not in ("CMD", "CMD-SHELL", "NONE")):
                problems.add(at, "healthcheck.test must start with CMD, CMD-SHELL or NONE")
            for key in ("interval", "timeout", "start_period", "start_interval"):
                if key in health and not DURATION.match(str(health[key])):
                    problems.add(at, f"healthcheck.{key} {health[key]!r} is not a duration")
        elif target is None:
            problems.add(at, "no healthcheck (third-party image without a HEALTHCHECK in this file)")

    # depends_on after all services are known.
    for name, service in services.items():
        at = f"{where}: services.{name}"
        depends = service.get("depends_on") or {}
        items = {d: {"condition": "service_started"} for d in depends} if isinstance(depends, list) else depends
        for other, spec in items.items():
            if other not in services:
                problems.add(at, f"depends_on {other!r}, which is not a service")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition not in DEPENDS_CONDITIONS:
                problems.add(at, f"depends_on {other}: unknown condition {condition!r}")
            if condition == "service_healthy" and "healthcheck" not in services[other]:
                problems.add(at, f"depends_on {other} being healthy, but it has no healthcheck here")

    # The On-Prem wiring.
    for name, env in envs.items():
        at = f"{where}: services.{name}"
        if "WA_DB_ENGINE" in env:
            check_database_env(at, env, services, envs, problems)
        core = env.get("WACORE_HOSTNAME")
        if core is not None and core not in services:
            problems.add(at, f"WACORE_HOSTNAME={core} is not a service")
        network = env.get("ONPREM__COREAPP__NETWORK_ADDRESS")
        if network is not None:
            host, _, port = network.rpartition(":")
            if host not in services:
                problems.add(at, f"ONPREM__COREAPP__NETWORK_ADDRESS host {host!r} is not a service")
            elif not port.isdigit() or not str(envs[host].get("WANET_LISTEN", "")).endswith(f":{port}"):
                problems.add(at, f"ONPREM__COREAPP__NETWORK_ADDRESS port {port} is not where {host} listens")
    uses_db = [n for n, e in envs.items() if "WA_DB_ENGINE" in e]
    for needed in check_one_shot(where, services, envs, problems):
        if not any(re.search(rf"/{needed}:", str(services[n].get("image", ""))) for n in uses_db):
            problems.add(where, f"no {needed} service with the WA_DB_* settings")

    # A load balancer config next to the file must point at services of the file.
    for spec in (s for svc in services.values() for s in svc.get("volumes") or []):
        source = str(spec).split(":")[0] if not isinstance(spec, dict) else spec.get("source", "")
        if source.endswith("haproxy.cfg") and (base / source).is_file():
            for m in re.finditer(r"^\s*server\s+\S+\s+([^:\s]+):(\d+)(.*)$", (base / source).read_text(), re.M):
                if m.group(1) not in services:
                    problems.add(rel(base / source), f"server {m.group(1)} is not a service of {where}")
                else:
                    check_proxy_protocol(rel(base / source), m.group(1), m.group(3), envs, problems)


def check_database_env(at, env, services, envs, problems) -> None:
    required = ("WA_DB_ENGINE", "WA_DB_HOSTNAME", "WA_DB_USERNAME", "WA_DB_PASSWORD")
    for key in required:
        if not env.get(key):
            problems.add(at, f"{key} is missing")
    engine = env.get("WA_DB_ENGINE", "").upper()
    if engine not in ("MYSQL", "PGSQL", "POSTGRESQL"):
        problems.add(at, f"WA_DB_ENGINE={engine} (MYSQL or PGSQL)")
        return
    host = env.get("WA_DB_HOSTNAME", "")
    if host not in services:
        return  # an external database: nothing to compare with
    image = str(services[host].get("image", ""))
    db_env = envs[host]
    if engine == "MYSQL":
        expected_image, port, password_var, user = "mysql", "3306", "MYSQL_ROOT_PASSWORD", "root"
    else:
        expected_image, port, password_var, user = "postgres", "5432", "POSTGRES_PASSWORD", "postgres"
    if not image.startswith(expected_image + ":"):
        problems.add(at, f"WA_DB_ENGINE={engine} but {host} runs {image}")
    if env.get("WA_DB_PORT", port) != port:
        problems.add(at, f"WA_DB_PORT={env.get('WA_DB_PORT')} but {host} listens on {port}")
    if env.get("WA_DB_USERNAME") == user and env.get("WA_DB_PASSWORD") != db_env.get(password_var):
        problems.add(at, f"WA_DB_PASSWORD differs from {host}'s {password_var}")
    timeout = env.get("WA_DB_CONNECTION_IDLE_TIMEOUT")
    if timeout is not None and not timeout.isdigit():
        problems.add(at, f"WA_DB_CONNECTION_IDLE_TIMEOUT={timeout} is not milliseconds")


def main() -> int:
    problems = Problems()
    images = check_dockerfile(problems)
    for path in OVERLAYS:
        check_overlay(path, ROOT / "docker-compose.yml", problems, rel, SERVICE_KEYS, OPERATOR_FILES)
    for path in COMPOSE_FILES:
        if not path.exists():
            problems.add(rel(path), "missing")
            continue
        try:
            check_compose(path, images, problems)
        except yaml.YAMLError as e:
            problems.add(rel(path), f"YAML: {e}")
    if problems.items:
        for item in problems.items:
            print(f"  {item}", file=sys.stderr)
        print(f"{len(problems.items)} problem(s) in the deployment files", file=sys.stderr)
        return 1
    names = ", ".join(rel(p) for p in COMPOSE_FILES + OVERLAYS)
    print(f"deployment files ok: {rel(DOCKERFILE)} ({', '.join(images)}), {names}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
