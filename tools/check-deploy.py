#!/usr/bin/env python3
"""Checks the deployment manifests: deploy/compose/compose.yaml and deploy/k8s/*.yaml.

Usage: python3 tools/check-deploy.py [REPO_ROOT]

Compose: the services (3 KRaft brokers with RF 3 and min.insync.replicas 2, PostgreSQL, the migrate, db-logins and
topics jobs, the coordinator and the five workers); each service has KAFKA_BOOTSTRAP, takes DATABASE_URL and Kafka
credentials from an env_file under secrets/ (with a .example beside it), has a /health check, and depends on the
jobs; no inline secret values anywhere. Kubernetes: per worker a Deployment (probes on /health, resources, grace
period > --drain-seconds, DATABASE_URL and KAFKA_SASL_PASSWORD from secretKeyRef, KAFKA_BOOTSTRAP set), a
PodDisruptionBudget selecting its pods, a KEDA ScaledObject on its topic and group with maxReplicaCount <= the
topic's partitions in deploy/topics.yaml; the same for the coordinator (without KEDA); the migration Job; the data
ConfigMaps generated from deploy/; no Secret objects with data. Runs `docker compose config -q` when the plugin
exists. Exits 1 on any error.
"""
import glob
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
DEPTS = ["industry-trade", "environment", "labour", "culture", "industrial-zones"]
SERVICES = ["coordinator"] + [f"{d}-worker" for d in DEPTS]
errors = []


def error(where, message):
    errors.append(f"{where}: {message}")


# Names whose values are secrets: they may only come from env files, secret files or secretKeyRef.
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|JAAS|PRIVATE_KEY|API_KEY|CREDENTIAL)", re.I)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def check_inline_value(where, name, value):
    if value is None:
        return
    text = str(value)
    if name and SECRET_NAME.search(name) and not name.endswith("_FILE") and not name.endswith("_LOCATION"):
        error(where, f"{name} has an inline value; take it from a secret")
    if URL_WITH_PASSWORD.search(text):
        error(where, f"{name or 'a value'} holds a URL with a password; take it from a secret")
    if name == "DATABASE_URL":
        error(where, "DATABASE_URL is inline; take it from a secret (env_file / secretKeyRef)")


def topics():
    data = yaml.safe_load(open(os.path.join(ROOT, "deploy/topics.yaml")))
    return {t["name"]: t for t in data["topics"]}


def command_flag(command, flag):
    if not isinstance(command, list) or flag not in command:
        return None
    index = command.index(flag)
    return command[index + 1] if index + 1 < len(command) else None


# --- compose ------------------------------------------------------------------------------------------------------
def env_dict(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def check_compose(path):
    where = os.path.relpath(path, ROOT)
    try:
        doc = yaml.safe_load(open(path))
    except (OSError, yaml.YAMLError) as e:
        return error(where, f"cannot parse: {e}")
    services = (doc or {}).get("services") or {}
    base = os.path.dirname(path)
    required = ["kafka-1", "kafka-2", "kafka-3", "postgres", "migrate", "db-logins", "topics"] + SERVICES
    for name in required:
        if name not in services:
            error(where, f"service {name} is missing")
    brokers = [n for n in services if re.fullmatch(r"kafka-\d+", n)]
    voters = None
    for name in brokers:
        env = env_dict(services[name])
        if str(env.get("KAFKA_DEFAULT_REPLICATION_FACTOR")) != "3":
            error(where, f"{name}: KAFKA_DEFAULT_REPLICATION_FACTOR must be 3")
        if str(env.get("KAFKA_MIN_INSYNC_REPLICAS")) != "2":
            error(where, f"{name}: KAFKA_MIN_INSYNC_REPLICAS must be 2")
        if "controller" not in str(env.get("KAFKA_PROCESS_ROLES", "")):
            error(where, f"{name}: not a KRaft controller (KAFKA_PROCESS_ROLES)")
        voters = voters or env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")
        if "healthcheck" not in services[name]:
            error(where, f"{name}: no healthcheck")
    if voters and len(str(voters).split(",")) != 3:
        error(where, "KAFKA_CONTROLLER_QUORUM_VOTERS must list 3 controllers")
    if "postgres" in services and "healthcheck" not in services["postgres"]:
        error(where, "postgres: no healthcheck")
    if "migrate" in services and "migrate" not in (services["migrate"].get("command") or []):
        error(where, "migrate: does not run `motcua migrate`")
    if "topics" in services:
        command = services["topics"].get("command") or []
        if command[:3] != ["motcua", "topics", "create"]:
            error(where, "topics: does not run `motcua topics create`")
        if command_flag(command, "--replication-factor") != "3" or command_flag(command, "--min-insync-replicas") != "2":
            error(where, "topics: needs --replication-factor 3 --min-insync-replicas 2")
    for name, service in services.items():
        for key, value in env_dict(service).items():
            check_inline_value(f"{where} {name}", key, value)
        for env_file in service.get("env_file") or []:
            file = env_file if isinstance(env_file, str) else env_file.get("path")
            if not os.path.exists(os.path.join(base, file + ".example")):
                error(where, f"{name}: env_file {file} has no {file}.example beside it")
    for name in SERVICES:
        service = services.get(name)
        if not service:
            continue
        env = env_dict(service)
        if not env.get("KAFKA_BOOTSTRAP"):
            error(where, f"{name}: KAFKA_BOOTSTRAP is not set")
        files = [f if isinstance(f, str) else f.get("path") for f in service.get("env_file") or []]
        examples = "".join(open(os.path.join(base, f + ".example")).read() for f in files
                           if os.path.exists(os.path.join(base, f + ".example")))
        if not any(f.startswith("secrets/") for f in files) or "DATABASE_URL=" not in examples:
            error(where, f"{name}: DATABASE_URL must come from an env_file under secrets/")
        if "KAFKA_SASL_PASSWORD=" not in examples:
            error(where, f"{name}: KAFKA_SASL_PASSWORD must come from an env_file under secrets/")
        health = service.get("healthcheck") or {}
        if not any(str(part).endswith("/health") for part in health.get("test") or []):
            error(where, f"{name}: healthcheck does not call /health")
        port = command_flag(service.get("command"), "--metrics-port")
        if not port or port not in " ".join(map(str, health.get("test") or [])):
            error(where, f"{name}: --metrics-port and the healthcheck's port differ")
        depends = service.get("depends_on") or {}
        for job in ["migrate", "topics"]:
            if job not in depends:
                error(where, f"{name}: does not wait for the {job} job")
        if name != "coordinator":
            department = name[: -len("-worker")]
            if command_flag(service.get("command"), "--group") not in (None, f"motcua.{department}"):
                error(where, f"{name}: --group must be motcua.{department} (the roles' offsets guard expects it)")
    for name, secret in ((doc or {}).get("secrets") or {}).items():
        if "file" not in secret and "environment" not in secret:
            error(where, f"secret {name} must come from a file or the environment")


# --- Kubernetes ---------------------------------------------------------------------------------------------------
def container_env(container):
    return {e["name"]: e for e in container.get("env") or []}


def probe_ok(probe):
    if not probe:
        return False
    if "httpGet" in probe:
        return probe["httpGet"].get("path") == "/health"
    if "exec" in probe:
        return any(str(part).endswith("/health") for part in probe["exec"].get("command") or [])
    return False


def check_k8s(directory):
    docs = []
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        where = os.path.relpath(path, ROOT)
        try:
            for doc in yaml.safe_load_all(open(path)):
                if doc:
                    docs.append((where, doc))
        except (OSError, yaml.YAMLError) as e:
            error(where, f"cannot parse: {e}")
    by_kind = {}
    for where, doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            error(where, "a document without kind")
            continue
        by_kind.setdefault(doc["kind"], []).append((where, doc))
        if doc["kind"] == "Secret" and (doc.get("data") or doc.get("stringData")):
            error(where, f"Secret {doc['metadata']['name']} embeds values; create Secrets out of band")
    deployments = {d["metadata"]["name"]: (w, d) for w, d in by_kind.get("Deployment", [])}
    pdbs = by_kind.get("PodDisruptionBudget", [])
    scaled = {d["spec"]["scaleTargetRef"]["name"]: (w, d) for w, d in by_kind.get("ScaledObject", [])}
    partitions = {name: t["partitions"] for name, t in topics().items()}
    for name in SERVICES:
        if name not in deployments:
            error("deploy/k8s", f"no Deployment {name}")
            continue
        where, dep = deployments[name]
        spec = dep["spec"]["template"]["spec"]
        labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        if dep["spec"]["selector"].get("matchLabels") != {k: labels.get(k) for k in dep["spec"]["selector"].get("matchLabels", {})}:
            error(where, f"{name}: selector does not match the pod labels")
        containers = spec.get("containers") or []
        if len(containers) != 1:
            error(where, f"{name}: expected one container")
            continue
        container = containers[0]
        command = (container.get("command") or []) + (container.get("args") or [])
        drain = int(command_flag(command, "--drain-seconds") or 20)
        grace = spec.get("terminationGracePeriodSeconds")
        if not isinstance(grace, int) or grace <= drain or grace > drain + 60:
            error(where, f"{name}: terminationGracePeriodSeconds ({grace}) must exceed --drain-seconds ({drain}) by at most 60 s")
        if not probe_ok(container.get("livenessProbe")) or not probe_ok(container.get("readinessProbe")):
            error(where, f"{name}: liveness and readiness probes must check /health")
        port = command_flag(command, "--metrics-port")
        for kind in ("livenessProbe", "readinessProbe"):
            text = yaml.safe_dump(container.get(kind) or {})
            if port and port not in text:
                error(where, f"{name}: {kind} does not use --metrics-port {port}")
        resources = container.get("resources") or {}
        if not (resources.get("requests") or {}).get("cpu") or not (resources.get("requests") or {}).get("memory"):
            error(where, f"{name}: resource requests (cpu, memory) missing")
        if not (resources.get("limits") or {}).get("memory"):
            error(where, f"{name}: memory limit missing")
        env = container_env(container)
        for key in ("DATABASE_URL", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_USERNAME"):
            if "secretKeyRef" not in ((env.get(key) or {}).get("valueFrom") or {}):
                error(where, f"{name}: {key} must come from a secretKeyRef")
        if "KAFKA_BOOTSTRAP" not in env:
            error(where, f"{name}: KAFKA_BOOTSTRAP is not set")
        for key, entry in env.items():
            check_inline_value(f"{where} {name}", key, entry.get("value"))
        if not any(p["spec"].get("selector", {}).get("matchLabels", {}).items() <= labels.items() and
                   (p["spec"].get("minAvailable") is not None or p["spec"].get("maxUnavailable") is not None)
                   for _, p in pdbs):
            error(where, f"{name}: no PodDisruptionBudget selects its pods")
        if name == "coordinator":
            continue
        department = name[: -len("-worker")]
        group = command_flag(command, "--group") or f"motcua.{department}"
        mounts = {m["mountPath"] for m in container.get("volumeMounts") or []}
        for data in ("catalog", "rules", "delegations", "calendar"):
            if not any(m.endswith(f"deploy/{data}") for m in mounts):
                error(where, f"{name}: deploy/{data} is not mounted from its ConfigMap")
        if name not in scaled:
            error("deploy/k8s", f"no KEDA ScaledObject for {name}")
            continue
        swhere, so = scaled[name]
        topic = f"dossiers.{department}"
        maximum = so["spec"].get("maxReplicaCount")
        if not isinstance(maximum, int) or maximum > partitions.get(topic, 0):
            error(swhere, f"{name}: maxReplicaCount {maximum} exceeds the {partitions.get(topic)} partitions of {topic}")
        minimum = so["spec"].get("minReplicaCount", 0)
        if isinstance(maximum, int) and minimum > maximum:
            error(swhere, f"{name}: minReplicaCount above maxReplicaCount")
        triggers = [t for t in so["spec"].get("triggers") or [] if t.get("type") == "kafka"]
        if not triggers:
            error(swhere, f"{name}: no kafka trigger")
        for trigger in triggers:
            meta = trigger.get("metadata") or {}
            if meta.get("topic") != topic or meta.get("consumerGroup") != group:
                error(swhere, f"{name}: the trigger must watch topic {topic} and group {group}")
            for key, value in meta.items():
                check_inline_value(f"{swhere} {name}", key, value)
    jobs = [d for _, d in by_kind.get("Job", [])]
    if not any("migrate" in (c.get("command") or []) for j in jobs for c in j["spec"]["template"]["spec"]["containers"]):
        error("deploy/k8s", "no Job runs `motcua migrate`")
    for job in jobs:
        for c in job["spec"]["template"]["spec"]["containers"]:
            for key, entry in container_env(c).items():
                check_inline_value(f"deploy/k8s Job {job['metadata']['name']}", key, entry.get("value"))
    kustomization = os.path.join(directory, "kustomization.yaml")
    if os.path.exists(kustomization):
        k = yaml.safe_load(open(kustomization))
        generated = {g["name"]: g for g in k.get("configMapGenerator") or []}
        for data in ("catalog", "rules", "delegations", "calendar"):
            gen = generated.get(f"motcua-{data}")
            if not gen:
                error("deploy/k8s/kustomization.yaml", f"no ConfigMap motcua-{data}")
                continue
            listed = {f.split("=", 1)[1] for f in gen.get("files") or []}
            present = {os.path.relpath(p, directory) for p in glob.glob(os.path.join(ROOT, "deploy", data, "**", "*.yaml"), recursive=True)}
            if listed != present:
                error("deploy/k8s/kustomization.yaml", f"motcua-{data} lists {sorted(listed ^ present)} differently from deploy/{data}")
        for resource in k.get("resources") or []:
            if not os.path.exists(os.path.join(directory, resource)):
                error("deploy/k8s/kustomization.yaml", f"resource {resource} does not exist")
    else:
        error("deploy/k8s", "no kustomization.yaml (the data ConfigMaps)")


def docker_compose(path):
    try:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "docker not installed: docker compose config skipped"
    if probe.returncode != 0:
        return "docker compose plugin not installed: docker compose config skipped"
    # The real secret files are not in the repository: check a copy whose secrets are the examples.
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "compose")
        shutil.copytree(os.path.dirname(path), copy)
        for example in glob.glob(os.path.join(copy, "secrets", "*.example")):
            shutil.copyfile(example, example[: -len(".example")])
        result = subprocess.run(["docker", "compose", "-f", os.path.join(copy, os.path.basename(path)), "config", "-q"],
                                capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        error(os.path.relpath(path, ROOT), f"docker compose config: {result.stderr.strip()}")
    return "docker compose config -q passed"


def main():
    compose = os.path.join(ROOT, "deploy/compose/compose.yaml")
    check_compose(compose)
    check_k8s(os.path.join(ROOT, "deploy/k8s"))
    note = docker_compose(compose) if os.path.exists(compose) else ""
    if errors:
        for e in errors:
            print(f"check-deploy: {e}", file=sys.stderr)
        print(f"check-deploy: {len(errors)} error(s)", file=sys.stderr)
        return 1
    print(f"check-deploy: compose and k8s manifests OK ({note})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
