"""Checks of deploy/check_compose.py kept in a file of their own (that script's size limit): the
PROXY protocol pairing of a load balancer and its webapps, compose overlays, and the one-shot
`dbupgrade` service."""

from __future__ import annotations

from pathlib import Path

import yaml


def check_proxy_protocol(at, server, options, envs, problems) -> None:
    """The balancer and its webapps agree on the PROXY header: a webapp that requires it closes
    connections without it, one that does not expect it reads the header as a broken TLS hello."""
    sends = "send-proxy-v2" in options.split()
    expects = envs.get(server, {}).get("WA_WEB_PROXY_PROTOCOL", "0") in ("1", "true")
    if sends != expects:
        problems.add(at, f"server {server}: send-proxy-v2 is {sends} but its WA_WEB_PROXY_PROTOCOL says {expects}")
    if sends and "check-send-proxy" not in options.split():
        problems.add(at, f"server {server}: health checks without check-send-proxy would be refused")


def check_overlay(path: Path, base: Path, problems, rel, service_keys, operator_files) -> None:
    """An overlay adds to a base file: known keys, services it extends exist in the base, files it
    mounts exist (relative to the base's directory, as compose resolves them)."""
    where = rel(path)
    overlay = yaml.safe_load(path.read_text())
    base_services = yaml.safe_load(base.read_text()).get("services", {})
    for name, service in (overlay.get("services") or {}).items():
        for key in service:
            if key not in service_keys:
                problems.add(where, f"{name}: unknown service key {key!r}")
        if "image" not in service and name not in base_services:
            problems.add(where, f"{name}: neither an image nor a service of {rel(base)}")
        for spec in service.get("volumes") or []:
            source = str(spec).split(":")[0]
            if source.startswith(".") and source not in operator_files and not (base.parent / source).exists():
                problems.add(where, f"{name}: mounts {source}, which does not exist")
        for other in service.get("depends_on") or {}:
            if other not in base_services and other not in overlay["services"]:
                problems.add(where, f"{name}: depends on unknown service {other}")


def one_shot(service: dict) -> bool:
    """Meta's `dbupgrade`: the coreapp image with WA_DB_UPGRADE=1, which migrates and exits."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(str(item).partition("=")[::2] for item in env)
    return str(env.get("WA_DB_UPGRADE", "0")) in ("1", "true")


def check_one_shot(where, services, envs, problems) -> tuple[str, ...]:
    """A one-shot upgrade is the coreapp image, restarted only on failure; every service on the
    database waits for it to complete, so none runs (or migrates) on a half-upgraded schema.
    Returns the images a file with WA_DB_* settings must run: a file of one-shots only (Meta's
    dbupgrade-compose.yml) needs the coreapp alone."""
    shots = [name for name, service in services.items() if one_shot(service)]
    for name in shots:
        if "/coreapp:" not in str(services[name].get("image", "")):
            problems.add(f"{where}: services.{name}", "WA_DB_UPGRADE runs the coreapp image")
        for other, env in envs.items():
            if other in shots or "WA_DB_ENGINE" not in env:
                continue
            depends = services[other].get("depends_on") or {}
            condition = (depends.get(name) or {}).get("condition") if isinstance(depends, dict) else None
            if condition != "service_completed_successfully":
                problems.add(f"{where}: services.{other}", f"must wait for {name} to complete successfully")
    return ("coreapp",) if shots and len(shots) == len(services) else ("webapp", "coreapp")
