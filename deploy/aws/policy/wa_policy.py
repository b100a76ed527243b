"""Policy rules of the project for its CloudFormation templates, run by cfn-lint next to its own
(`cfn-lint --append-rules deploy/aws/policy deploy/aws/*.yml` in scripts/lib/setup.sh). They hold
what issue 15 asks of the AWS deployment, so a later edit cannot quietly undo it:

E9101  every container that talks to the database checks its TLS certificate (WA_DB_SSL_CA), and
       every RDS instance has a parameter group that refuses plain-text connections;
E9102  the database engines are current (MySQL 8.4, PostgreSQL 16), never 8.0;
E9103  the NLB passes client addresses (PROXY protocol v2) and the webapps expect it, with a
       container health check that does not need the header;
E9104  coreapp and master containers start after a dbupgrade container completed, and the NLB's
       grace period covers a long migration;
E9105  the simulated network runs by default, so a new stack can register a number;
E9106  every signal of the Prometheus alerts (deploy/monitoring/alerts.yml) has a CloudWatch
       alarm of the same name that notifies someone.

cfn-guard was the other candidate: it is not on PyPI and a `cargo install` of it on CI would cost
minutes per cold cache, while cfn-lint is already installed for the lint step.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from cfnlint.rules import CloudFormationLintRule, RuleMatch

ALERTS = Path(__file__).resolve().parents[3] / "deploy" / "monitoring" / "alerts.yml"
# The alarms that must exist (their Prometheus alerts have the same names).
REQUIRED_ALARMS = {"GatewayNotConnected", "PendingMessagesGrowing", "CallbackQueueGrowing",
                   "WebhooksFailing", "DatabaseErrors", "CoreappUnreachable", "WebappDown"}


def env_entries(node):
    """Name/Value pairs of a container's Environment, including both branches of Fn::If."""
    if isinstance(node, list):
        for item in node:
            yield from env_entries(item)
    elif isinstance(node, dict):
        if "Name" in node:
            yield node["Name"], node.get("Value")
        elif "Fn::If" in node:
            yield from env_entries(node["Fn::If"][1:])


def containers(cfn):
    for name, task in cfn.get_resources(["AWS::ECS::TaskDefinition"]).items():
        for i, container in enumerate(task.get("Properties", {}).get("ContainerDefinitions", [])):
            path = ["Resources", name, "Properties", "ContainerDefinitions", i]
            yield name, path, container, dict(env_entries(container.get("Environment", [])))


def image_of(container) -> str:
    image = container.get("Image", "")
    return image.get("Fn::Sub", "") if isinstance(image, dict) else str(image)


class DatabaseTls(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "TLS to the database"
    description = "Containers using the database set WA_DB_SSL_CA; RDS refuses plain text"
    tags = ["wa-onprem", "rds", "tls"]

    def match(self, cfn):
        matches = []
        for _, path, container, env in containers(cfn):
            if "WA_DB_ENGINE" in env and not env.get("WA_DB_SSL_CA"):
                matches.append(RuleMatch(path, f"{container.get('Name')} uses the database without WA_DB_SSL_CA"))
        for name, db in cfn.get_resources(["AWS::RDS::DBInstance"]).items():
            props = db.get("Properties", {})
            if "DBParameterGroupName" not in props:
                matches.append(RuleMatch(["Resources", name], "no DBParameterGroupName: TLS is not required"))
            if props.get("PubliclyAccessible") is not False or props.get("StorageEncrypted") is not True:
                matches.append(RuleMatch(["Resources", name], "must be private and encrypted at rest"))
        for name, group in cfn.get_resources(["AWS::RDS::DBParameterGroup"]).items():
            params = group.get("Properties", {}).get("Parameters", {})
            if str(params.get("require_secure_transport", params.get("rds.force_ssl"))) != "1":
                matches.append(RuleMatch(["Resources", name], "must set require_secure_transport / rds.force_ssl to 1"))
        return matches


class EngineVersions(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "Current database engines"
    description = "RDS MySQL 8.4 or PostgreSQL 16"
    tags = ["wa-onprem", "rds"]

    def match(self, cfn):
        matches = []
        if not cfn.get_resources(["AWS::RDS::DBInstance"]):
            return matches
        engines = cfn.template.get("Mappings", {}).get("EngineMap", {})
        wanted = {"mysql": "8.4", "postgres": "16"}
        for engine, version in wanted.items():
            if str(engines.get(engine, {}).get("Version")) != version:
                matches.append(RuleMatch(["Mappings", "EngineMap", engine], f"{engine} must default to {version}"))
        pattern = cfn.template.get("Parameters", {}).get("DBEngineVersion", {}).get("AllowedPattern", "")
        if not pattern or re.fullmatch(pattern, "8.0.39") or not re.fullmatch(pattern, "8.4.6"):
            matches.append(RuleMatch(["Parameters", "DBEngineVersion"], "must allow 8.4.x and 16.x, never 8.0"))
        return matches


class ClientAddresses(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "Client addresses through the NLB"
    description = "PROXY protocol v2 on the target group and WA_WEB_PROXY_PROTOCOL=1 on the webapps"
    tags = ["wa-onprem", "elb"]

    def match(self, cfn):
        matches = []
        for name, group in cfn.get_resources(["AWS::ElasticLoadBalancingV2::TargetGroup"]).items():
            attributes = {a.get("Key"): a.get("Value") for a in group.get("Properties", {}).get("TargetGroupAttributes", [])}
            if attributes.get("proxy_protocol_v2.enabled") != "true":
                matches.append(RuleMatch(["Resources", name], "proxy_protocol_v2.enabled must be true"))
        for _, path, container, env in containers(cfn):
            if "/webapp:" not in image_of(container) or "WA_DB_ENGINE" not in env:
                continue
            if env.get("WA_WEB_PROXY_PROTOCOL") != "1":
                matches.append(RuleMatch(path, "the webapp must expect the PROXY header (WA_WEB_PROXY_PROTOCOL=1)"))
            if "curl" in str(container.get("HealthCheck", {}).get("Command")):
                matches.append(RuleMatch(path, "an HTTPS health check is refused without a PROXY header"))
        return matches


class MigrationsFirst(CloudFormationLintRule):
    id = "E9104"
    shortdesc = "Health checks survive migrations"
    description = "Coreapp containers depend on a completed dbupgrade; the NLB grace covers migrations"
    tags = ["wa-onprem", "ecs"]

    def match(self, cfn):
        matches = []
        by_task: dict = {}
        for task, path, container, env in containers(cfn):
            by_task.setdefault(task, []).append((path, container, env))
        for task, items in by_task.items():
            upgrades = {c.get("Name") for _, c, env in items if env.get("WA_DB_UPGRADE") == "1"}
            for path, container, env in items:
                if "/coreapp:" not in image_of(container) or "WA_DB_UPGRADE" in env:
                    continue
                after = {d.get("ContainerName") for d in container.get("DependsOn", []) if d.get("Condition") == "SUCCESS"}
                if not after & upgrades:
                    matches.append(RuleMatch(path, f"{container.get('Name')} must start after a dbupgrade container (WA_DB_UPGRADE=1) succeeded"))
        for name, service in cfn.get_resources(["AWS::ECS::Service"]).items():
            props = service.get("Properties", {})
            if props.get("LoadBalancers") and int(props.get("HealthCheckGracePeriodSeconds", 0)) < 600:
                matches.append(RuleMatch(["Resources", name], "HealthCheckGracePeriodSeconds below 600 can kill tasks during a migration"))
        return matches


class WorkingNetwork(CloudFormationLintRule):
    id = "E9105"
    shortdesc = "A network by default"
    description = "WanetEnabled defaults to true"
    tags = ["wa-onprem"]

    def match(self, cfn):
        parameter = cfn.template.get("Parameters", {}).get("WanetEnabled")
        if parameter and parameter.get("Type") == "String" and "Default" in parameter and parameter["Default"] != "true":
            return [RuleMatch(["Parameters", "WanetEnabled"], "must default to true: the coreapp cannot register without a network")]
        return []


class AlarmsMatchAlerts(CloudFormationLintRule):
    id = "E9106"
    shortdesc = "CloudWatch alarms on the Prometheus alerts' signals"
    description = "Every required signal has an alarm named like its Prometheus alert, with actions"
    tags = ["wa-onprem", "cloudwatch"]

    def match(self, cfn):
        alarms = cfn.get_resources(["AWS::CloudWatch::Alarm"])
        if not alarms:
            return []
        matches = []
        alerts = {rule.get("alert") for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]}
        for name in REQUIRED_ALARMS - set(alarms):
            matches.append(RuleMatch(["Resources"], f"no {name} alarm"))
        for name, alarm in alarms.items():
            if name not in alerts:
                matches.append(RuleMatch(["Resources", name], f"{name} is not an alert of {ALERTS.name}"))
            if not alarm.get("Properties", {}).get("AlarmActions"):
                matches.append(RuleMatch(["Resources", name], "notifies nobody (no AlarmActions)"))
        return matches
