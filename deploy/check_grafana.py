#!/usr/bin/env python3
"""Structural checks of the monitoring files that Grafana and Prometheus read, without Grafana
(it is not packaged for the machines the checks run on; the compose file uses its official image).

    python3 deploy/check_grafana.py            # from the repository root; exit status 1 on problems

What it checks, following Grafana's documentation of the formats:

* provisioning/datasources/*.yml ("Provision Grafana", data sources): `apiVersion: 1`, a
  `datasources` list whose entries have a name, a known type, `access: proxy` (the browser never
  talks to Prometheus), an http(s) URL naming the compose service and port Prometheus listens on,
  a unique uid (at most 40 of [A-Za-z0-9_-]) and exactly one default;
* provisioning/dashboards/*.yml (dashboards providers): `apiVersion: 1`, `providers` of type
  `file` whose `options.path` is where compose.yml mounts the dashboards folder, with the
  documented keys and types only;
* dashboards/*.json (the classic dashboard JSON model): title, uid (unique, at most 40
  characters), `id: null` (Grafana assigns it), integer schemaVersion, time range, templating and
  annotation lists; panels of known types with unique integer ids, a gridPos inside the 24-column
  grid without overlaps, the provisioned data source by uid, and targets with unique refIds and a
  PromQL expr. Queries use no dashboard variables (none are defined), so they run as written
  against Prometheus: crates/e2e/tests/prometheus_queries.rs runs every one;
* every metric a dashboard or an alert rule reads exists: the product's come from its one metrics
  module (crates/common/src/metrics.rs), the others from the exporters the compose file runs;
* the dashboards cover messages, webhooks, latency, database and containers, and the alert rules
  cover the gateway, the webhook queue, pending messages and database errors.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError as missing:  # pragma: no cover - message for people running it by hand
    sys.exit(f"check_grafana.py needs PyYAML ({missing}); pip install -r deploy/requirements.txt")

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "deploy" / "monitoring"
GRAFANA = MONITORING / "grafana"
METRICS_MODULE = ROOT / "crates" / "common" / "src" / "metrics.rs"

DASHBOARDS = {"messages", "webhooks", "latency", "database", "containers"}
ALERTS = {"GatewayNotConnected", "GatewayNotSending", "CallbackQueueGrowing", "PendingMessagesGrowing", "DatabaseErrors"}
# Metrics of the exporters in compose.yml, by name prefix, and Prometheus's own. No `container_`:
# cAdvisor is not shipped, the containers dashboard reads the processes' own process_* metrics.
EXPORTER_PREFIXES = ("mysql_",)
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

DATASOURCE_KEYS = {"name", "type", "uid", "access", "url", "orgId", "isDefault", "editable", "jsonData",
                   "secureJsonData", "basicAuth", "basicAuthUser", "withCredentials", "version", "user",
                   "database"}
DATASOURCE_TYPES = {"prometheus", "loki", "alertmanager", "mysql", "postgres"}
PROVIDER_KEYS = {"name", "orgId", "folder", "folderUid", "type", "disableDeletion", "updateIntervalSeconds",
                 "allowUiUpdates", "options"}
PROVIDER_TYPES = {"name": str, "orgId": int, "folder": str, "folderUid": str, "type": str,
                  "disableDeletion": bool, "updateIntervalSeconds": int, "allowUiUpdates": bool}
PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "text", "row", "state-timeline",
               "piechart", "heatmap"}
UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PROMQL_WORDS = {"sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left",
                "group_right", "and", "or", "unless", "bool", "offset", "rate", "irate", "increase",
                "deriv", "histogram_quantile", "topk", "bottomk", "abs", "clamp_min", "clamp_max",
                "delta", "idelta", "time", "vector", "scalar", "inf", "nan"}


class Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def product_metrics() -> set[str]:
    """Every name the services serve, from the one module that defines them."""
    text = METRICS_MODULE.read_text()
    return set(re.findall(r"\b(?:counter|gauge)\(\s*\"([a-z_:][a-z0-9_:]*)\"", text))


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads: identifiers left once strings, label matchers,
    ranges, grouping clauses and function calls are removed."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[m.end():].lstrip()
        if following.startswith("(") or m.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(m.group(0))
    return names


def check_metrics(where: str, expr: str, known: set[str], problems: Problems) -> None:
    if "$" in expr:
        problems.add(where, f"uses a dashboard variable, none is defined: {expr}")
    for name in metric_names(expr):
        if name in known or name in PROMETHEUS_OWN or name.startswith(EXPORTER_PREFIXES):
            continue
        problems.add(where, f"metric {name!r} is not served by the product ({rel(METRICS_MODULE)}) "
                            "nor by an exporter of compose.yml")


def load_yaml(path: Path, problems: Problems):
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        problems.add(rel(path), f"YAML: {e}")
        return None


def compose_grafana_mounts() -> dict[str, str]:
    """Container path -> repository path of the grafana service's bind mounts."""
    compose = yaml.safe_load((MONITORING / "compose.yml").read_text())
    mounts = {}
    for spec in compose["services"]["grafana"].get("volumes", []):
        source, _, rest = str(spec).partition(":")
        if source.startswith("./"):
            mounts[rest.split(":")[0]] = source[2:]
    return mounts


def check_datasources(problems: Problems) -> set[str]:
    uids, defaults = set(), 0
    compose = yaml.safe_load((MONITORING / "compose.yml").read_text())
    files = sorted((GRAFANA / "provisioning" / "datasources").glob("*.y*ml"))
    if not files:
        problems.add(rel(GRAFANA), "no data source provisioning file")
    for path in files:
        doc = load_yaml(path, problems)
        if doc is None:
            continue
        where = rel(path)
        if doc.get("apiVersion") != 1:
            problems.add(where, "apiVersion must be 1")
        for i, ds in enumerate(doc.get("datasources") or []):
            at = f"{where}: datasources[{i}]"
            for key in set(ds) - DATASOURCE_KEYS:
                problems.add(at, f"unknown key {key!r}")
            if not ds.get("name"):
                problems.add(at, "no name")
            if ds.get("type") not in DATASOURCE_TYPES:
                problems.add(at, f"type {ds.get('type')!r} is not a data source type")
            if ds.get("access") != "proxy":
                problems.add(at, "access must be proxy (Grafana's server queries Prometheus)")
            uid = str(ds.get("uid", ""))
            if not UID.match(uid) or uid in uids:
                problems.add(at, f"uid {uid!r} missing, malformed or repeated")
            uids.add(uid)
            defaults += bool(ds.get("isDefault"))
            m = re.match(r"^https?://([^:/]+):(\d+)/?$", str(ds.get("url", "")))
            if not m:
                problems.add(at, f"url {ds.get('url')!r} is not http(s)://host:port")
            elif m.group(1) not in compose["services"]:
                problems.add(at, f"url host {m.group(1)} is not a service of compose.yml")
    if defaults != 1:
        problems.add(rel(GRAFANA / "provisioning" / "datasources"), f"{defaults} default data sources, expected 1")
    return uids


def check_providers(problems: Problems) -> None:
    mounts = compose_grafana_mounts()
    files = sorted((GRAFANA / "provisioning" / "dashboards").glob("*.y*ml"))
    if not files:
        problems.add(rel(GRAFANA), "no dashboard provider file")
    for path in files:
        doc = load_yaml(path, problems)
        if doc is None:
            continue
        where = rel(path)
        if doc.get("apiVersion") != 1:
            problems.add(where, "apiVersion must be 1")
        for i, provider in enumerate(doc.get("providers") or []):
            at = f"{where}: providers[{i}]"
            for key in set(provider) - PROVIDER_KEYS:
                problems.add(at, f"unknown key {key!r}")
            for key, kind in PROVIDER_TYPES.items():
                if key in provider and not isinstance(provider[key], kind):
                    problems.add(at, f"{key} must be a {kind.__name__}")
            if provider.get("type") != "file":
                problems.add(at, "type must be file")
            path_in_container = (provider.get("options") or {}).get("path")
            source = mounts.get(path_in_container)
            if source is None:
                problems.add(at, f"options.path {path_in_container!r} is not mounted in compose.yml's grafana")
            elif not list((ROOT / source).glob("*.json")):
                problems.add(at, f"{source}, mounted at {path_in_container}, has no dashboards")


def check_panel(at: str, panel: dict, uids: set[str], known: set[str], problems: Problems) -> None:
    if panel.get("type") not in PANEL_TYPES:
        problems.add(at, f"type {panel.get('type')!r} is not a panel type")
    if not panel.get("title"):
        problems.add(at, "no title")
    grid = panel.get("gridPos") or {}
    if not all(isinstance(grid.get(k), int) for k in "hwxy"):
        problems.add(at, f"gridPos needs integer h, w, x, y: {grid}")
        return
    if not (1 <= grid["w"] <= 24 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] >= 1 and grid["y"] >= 0):
        problems.add(at, f"gridPos {grid} is outside the 24-column grid")
    if panel["type"] == "row":
        return
    ds = panel.get("datasource") or {}
    if ds.get("type") != "prometheus" or ds.get("uid") not in uids:
        problems.add(at, f"datasource {ds} is not the provisioned Prometheus")
    targets = panel.get("targets") or []
    if not targets:
        problems.add(at, "no targets")
    refs = [t.get("refId") for t in targets]
    if len(set(refs)) != len(refs) or not all(refs):
        problems.add(at, f"refIds missing or repeated: {refs}")
    for t in targets:
        if not str(t.get("expr", "")).strip():
            problems.add(at, f"target {t.get('refId')} has no expr")
        else:
            check_metrics(f"{at} target {t.get('refId')}", t["expr"], known, problems)


def overlapping(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def check_dashboards(uids: set[str], known: set[str], problems: Problems) -> None:
    seen_uids: set[str] = set()
    files = sorted((GRAFANA / "dashboards").glob("*.json"))
    for name in DASHBOARDS - {p.stem for p in files}:
        problems.add(rel(GRAFANA / "dashboards"), f"no {name}.json dashboard")
    for path in files:
        where = rel(path)
        try:
            board = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            problems.add(where, f"JSON: {e}")
            continue
        uid = board.get("uid")
        if not isinstance(uid, str) or not UID.match(uid) or uid in seen_uids:
            problems.add(where, f"uid {uid!r} missing, malformed or repeated")
        seen_uids.add(str(uid))
        if board.get("id") is not None:
            problems.add(where, "id must be null: Grafana assigns it when provisioning")
        if not board.get("title") or not isinstance(board.get("schemaVersion"), int):
            problems.add(where, "needs a title and an integer schemaVersion")
        time = board.get("time") or {}
        if not (isinstance(time.get("from"), str) and isinstance(time.get("to"), str)):
            problems.add(where, "time needs from and to")
        for key in ("templating", "annotations"):
            if not isinstance((board.get(key) or {}).get("list"), list):
                problems.add(where, f"{key}.list must be a list")
        panels = board.get("panels") or []
        if not panels:
            problems.add(where, "no panels")
        ids = [p.get("id") for p in panels]
        if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
            problems.add(where, f"panel ids missing or repeated: {ids}")
        for i, panel in enumerate(panels):
            check_panel(f"{where}: panels[{i}] {panel.get('title')!r}", panel, uids, known, problems)
        grids = [p["gridPos"] for p in panels if isinstance(p.get("gridPos"), dict)
                 and all(isinstance(p["gridPos"].get(k), int) for k in "hwxy")]
        for i, a in enumerate(grids):
            for b in grids[i + 1:]:
                if overlapping(a, b):
                    problems.add(where, f"panels overlap at {a} and {b}")


def check_alerts(known: set[str], problems: Problems) -> None:
    path = MONITORING / "alerts.yml"
    doc = load_yaml(path, problems) or {}
    names = set()
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            names.add(rule.get("alert"))
            check_metrics(f"{rel(path)}: {rule.get('alert')}", str(rule.get("expr", "")), known, problems)
    for missing in ALERTS - names:
        problems.add(rel(path), f"no {missing} alert")


def main() -> int:
    problems = Problems()
    known = product_metrics()
    if len(known) < 20:
        problems.add(rel(METRICS_MODULE), f"found only {len(known)} metric definitions; did the module move?")
    uids = check_datasources(problems)
    check_providers(problems)
    check_dashboards(uids, known, problems)
    check_alerts(known, problems)
    if problems:
        for item in problems:
            print(f"  {item}", file=sys.stderr)
        print(f"{len(problems)} problem(s) in the monitoring files", file=sys.stderr)
        return 1
    boards = sorted(p.stem for p in (GRAFANA / "dashboards").glob("*.json"))
    print(f"grafana files ok: data sources, dashboard provider, dashboards {', '.join(boards)}; alert rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
