#!/usr/bin/env python3
"""Checks the deployment manifests: deploy/compose/compose.yaml and deploy/k8s (rendered as kustomize would).

Usage: python3 tools/check-deploy.py [REPO_ROOT]

Compose: the services (3 KRaft brokers with RF 3 and min.insync.replicas 2, PostgreSQL, the migrate, db-logins and
topics jobs, the coordinator and the five workers); each service has KAFKA_BOOTSTRAP, takes DATABASE_URL and Kafka
credentials from an env_file under secrets/ (with a .example beside it), has a /health check, and depends on the
jobs; no inline secret values anywhere.

Kubernetes: deploy/k8s/kustomization.yaml is rendered here, without kubectl: its resources (files, or directories
with their own kustomization.yaml, recursively) and their JSON 6902 patches (`patches:` with a `target` kind and
name; ops add, replace, remove, test). Any other kustomize feature is reported as an error rather than ignored, so
the rendering checked is the one kustomize makes; when kubectl is installed, `kubectl kustomize` renders the same
directory and the two renderings must agree (generated ConfigMap name hashes aside). The workers are one base
(deploy/k8s/base/worker) with an overlay per department (deploy/k8s/overlays/<department>). On the rendered
objects: per worker a Deployment (its command runs that worker, probes on /health, resources, grace period >
--drain-seconds, DATABASE_URL and the Kafka credentials from secretKeyRef of its own Secret, KAFKA_BOOTSTRAP set),
a PodDisruptionBudget selecting its pods, a KEDA ScaledObject on its topic and group with maxReplicaCount <= the
topic's partitions in deploy/topics.yaml and a TriggerAuthentication from its own Secret; the same for the
coordinator (without KEDA); no base placeholder left; the migration Job; the data ConfigMaps generated from
deploy/; no Secret objects with data. Runs `docker compose config -q` when the plugin exists.

Monitoring: deploy/monitoring/grafana-dashboard.json is valid JSON, each panel has a title and a query, panel ids
are unique, and every motcua_*/messaging_* metric a query names is exported by the code. Exits 1 on any error.
"""
import copy
import glob
import os
import shutil
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
        # Reception runs inside the coordinator as its own database role (migration 017).
        if name == "coordinator" and "RECEPTION_DATABASE_URL=postgresql://motcua_reception:" not in examples:
            error(where, f"{name}: RECEPTION_DATABASE_URL (motcua_reception) must come from an env_file under secrets/")
        health = service.get("healthcheck") or {}
        if not any(str(part).endswith("/health/ready") for part in health.get("test") or []):
            error(where, f"{name}: healthcheck does not call /health/ready")
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


# --- Kubernetes: a small kustomize ----------------------------------------------------------------------------------
# Only what deploy/k8s uses. Anything else in a kustomization is an error here, never silently skipped.
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "patches", "configMapGenerator"}
PLACEHOLDER = re.compile(r"department-worker|motcua[-.]department\b|dossiers\.department\b")


class PatchError(Exception):
    pass


def pointer(path):
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchError(f"path {path!r} is not a JSON pointer")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def walk(doc, parts):
    """The container holding the last part of the path, and that part (an int for a list)."""
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"no {part!r} on the way")
    last = parts[-1]
    if isinstance(node, list):
        if last == "-":
            return node, len(node)
        if not last.isdigit():
            raise PatchError(f"{last!r} is not a list index")
        return node, int(last)
    if not isinstance(node, dict):
        raise PatchError("the path runs through a scalar")
    return node, last


def apply_op(doc, op):
    kind, path = op.get("op"), op.get("path")
    container, key = walk(doc, pointer(path))
    exists = key < len(container) if isinstance(container, list) else key in container
    if kind == "test":
        if not exists or container[key] != op.get("value"):
            found = container[key] if exists else "nothing"
            raise PatchError(f"test {path} == {op.get('value')!r} failed (found {found!r})")
    elif kind == "replace":
        if not exists:
            raise PatchError(f"replace {path}: nothing there")
        container[key] = copy.deepcopy(op["value"])
    elif kind == "add":
        if isinstance(container, list):
            if key > len(container):
                raise PatchError(f"add {path}: index out of range")
            container.insert(key, copy.deepcopy(op["value"]))
        else:
            container[key] = copy.deepcopy(op["value"])
    elif kind == "remove":
        if not exists:
            raise PatchError(f"remove {path}: nothing there")
        del container[key]
    else:
        raise PatchError(f"op {kind!r} is not supported here (add, replace, remove, test)")


def render(directory):
    """The objects kustomize would build from directory, each as (where, doc)."""
    here = os.path.relpath(directory, ROOT)
    path = os.path.join(directory, "kustomization.yaml")
    try:
        k = yaml.safe_load(open(path)) or {}
    except (OSError, yaml.YAMLError) as e:
        error(here, f"no readable kustomization.yaml: {e}")
        return []
    for key in sorted(set(k) - KUSTOMIZATION_KEYS):
        error(f"{here}/kustomization.yaml", f"{key}: not understood by check-deploy's renderer (extend it, or keep to "
                                            f"resources and JSON 6902 patches)")
    docs = []
    for resource in k.get("resources") or []:
        full = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(full):
            docs += render(full)
        elif os.path.isfile(full):
            where = os.path.relpath(full, ROOT)
            try:
                docs += [(where, doc) for doc in yaml.safe_load_all(open(full)) if doc]
            except yaml.YAMLError as e:
                error(where, f"cannot parse: {e}")
        else:
            error(f"{here}/kustomization.yaml", f"resource {resource} does not exist")
    for number, patch in enumerate(k.get("patches") or [], 1):
        where = f"{here}/kustomization.yaml patch {number}"
        target = patch.get("target") or {}
        if set(target) != {"kind", "name"} or set(patch) - {"target", "patch", "path"}:
            error(where, "only patches with a target kind and name, and a patch or path, are understood here")
            continue
        try:
            text = patch["patch"] if "patch" in patch else open(os.path.join(directory, patch["path"])).read()
            ops = yaml.safe_load(text)
        except (OSError, KeyError, yaml.YAMLError) as e:
            error(where, f"cannot read the patch: {e}")
            continue
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            error(where, "not a JSON 6902 patch (a list of ops); strategic-merge patches are not understood here")
            continue
        matches = [i for i, (_, doc) in enumerate(docs) if isinstance(doc, dict) and doc.get("kind") == target["kind"]
                   and (doc.get("metadata") or {}).get("name") == target["name"]]
        if not matches:
            error(where, f"its target {target['kind']} {target['name']} is not among the resources")
        for i in matches:
            source, doc = docs[i]
            patched = copy.deepcopy(doc)
            try:
                for op in ops:
                    apply_op(patched, op)
            except PatchError as e:
                error(where, f"{target['kind']} {target['name']}: {e}")
                continue
            docs[i] = (f"{here} ({source})", patched)
    return docs


def kubectl_agrees(directory, docs):
    """Compares the rendering with `kubectl kustomize` when kubectl is installed."""
    if not shutil.which("kubectl"):
        return "kubectl not installed: rendered by check-deploy only"
    try:
        result = subprocess.run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", directory],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"kubectl kustomize could not run ({e}): rendered by check-deploy only"
    if result.returncode != 0:
        error(os.path.relpath(directory, ROOT), f"kubectl kustomize: {result.stderr.strip()}")
        return "kubectl kustomize failed"
    generated = re.compile(r"\b(motcua-(?:catalog|rules|delegations|calendar))-[a-z0-9]{10}\b")

    def key(doc):
        return (doc.get("kind"), (doc.get("metadata") or {}).get("name"))

    # The ConfigMaps generated from deploy/ are checked against their generator in check_k8s; this renderer does not
    # build them, so leave them out, and name them without their content hash where the objects refer to them.
    theirs = {key(d): d for d in yaml.safe_load_all(generated.sub(r"\1", result.stdout)) if d and not (
        d.get("kind") == "ConfigMap" and re.fullmatch(r"motcua-(?:catalog|rules|delegations|calendar)",
                                                      d["metadata"]["name"]))}
    ours = {key(d): d for _, d in docs if isinstance(d, dict)}
    for k in sorted(set(theirs) | set(ours), key=str):
        if k not in ours:
            error("deploy/k8s", f"kubectl kustomize renders {k[0]} {k[1]}, check-deploy's renderer does not")
        elif k not in theirs:
            error("deploy/k8s", f"check-deploy's renderer renders {k[0]} {k[1]}, kubectl kustomize does not")
        elif ours[k] != theirs[k]:
            error("deploy/k8s", f"{k[0]} {k[1]}: check-deploy's rendering differs from kubectl kustomize's")
    return f"kubectl kustomize renders the same {len(ours)} objects"


# --- Kubernetes: the rendered objects -------------------------------------------------------------------------------
def container_env(container):
    return {e["name"]: e for e in container.get("env") or []}


def probe_ok(probe, path):
    """Whether a probe asks `path` (/health/live for liveness: a database outage must not restart the pod;
    /health/ready for readiness)."""
    if not probe:
        return False
    if "httpGet" in probe:
        return probe["httpGet"].get("path") == path
    if "exec" in probe:
        return any(str(part).endswith(path) for part in probe["exec"].get("command") or [])
    return False


def check_k8s(directory):
    docs = render(directory)
    # Everything in deploy/k8s is deployed: a manifest or overlay left out of the kustomization is an error.
    root = os.path.join(directory, "kustomization.yaml")
    listed = (yaml.safe_load(open(root)) or {}).get("resources") or [] if os.path.exists(root) else []
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml")) + glob.glob(os.path.join(directory, "overlays/*"))):
        name = os.path.relpath(path, directory)
        if name != "kustomization.yaml" and name not in listed:
            error(f"{os.path.relpath(directory, ROOT)}/kustomization.yaml", f"{name} is not among its resources")
    for where, doc in docs:
        text = yaml.safe_dump(doc)
        if PLACEHOLDER.search(text):
            error(where, f"a placeholder of the worker base is left: {PLACEHOLDER.search(text).group(0)}")
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
    auths = {d["metadata"]["name"]: d for _, d in by_kind.get("TriggerAuthentication", [])}
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
        if not probe_ok(container.get("livenessProbe"), "/health/live") or not probe_ok(container.get("readinessProbe"), "/health/ready"):
            error(where, f"{name}: the liveness probe must check /health/live and the readiness probe /health/ready")
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
        secret_keys = ("DATABASE_URL", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_USERNAME") + (
            ("RECEPTION_DATABASE_URL",) if name == "coordinator" else ())
        for key in secret_keys:
            if "secretKeyRef" not in ((env.get(key) or {}).get("valueFrom") or {}):
                error(where, f"{name}: {key} must come from a secretKeyRef")
        if "KAFKA_BOOTSTRAP" not in env:
            error(where, f"{name}: KAFKA_BOOTSTRAP is not set")
        secret = "motcua-" + name.removesuffix("-worker")
        for key in secret_keys:
            ref = ((env.get(key) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            if ref and ref.get("name") != secret:
                error(where, f"{name}: {key} comes from Secret {ref.get('name')}, not its own {secret}")
        if command[:1] != [name]:
            error(where, f"{name}: the container runs {command[:1]}, not {name}")
        if labels.get("app.kubernetes.io/component") != name or \
                (dep["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != name:
            error(where, f"{name}: label app.kubernetes.io/component is not {name}")
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
            auth = auths.get((trigger.get("authenticationRef") or {}).get("name"))
            if not auth:
                error(swhere, f"{name}: the trigger's authenticationRef names no TriggerAuthentication")
            elif any(ref.get("parameter") in ("username", "password") and ref.get("name") != f"motcua-{department}"
                     for ref in auth["spec"].get("secretTargetRef") or []):
                error(swhere, f"{name}: its TriggerAuthentication reads Kafka credentials not from motcua-{department}")
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
    else:
        error("deploy/k8s", "no kustomization.yaml (the data ConfigMaps)")
    return docs


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


def check_dashboard(path):
    """The Grafana dashboard beside the alert rules: valid JSON, every panel titled with a query, unique panel ids,
    and every MotCua metric its queries name exported by the code (a label string in Sources/)."""
    import json
    import re
    where = os.path.relpath(path, ROOT)
    try:
        dashboard = json.load(open(path))
    except (OSError, ValueError) as e:
        error(where, f"not valid JSON: {e}")
        return
    panels = dashboard.get("panels")
    if not isinstance(panels, list) or not panels:
        error(where, "no panels")
        return
    ids = [p.get("id") for p in panels]
    if len(set(ids)) != len(ids):
        error(where, f"panel ids repeat: {ids}")
    exported = set()
    for source in glob.glob(os.path.join(ROOT, "Sources", "**", "*.swift"), recursive=True):
        exported.update(re.findall(r'"((?:motcua|messaging)_[a-z_]+)"', open(source).read()))
    for panel in panels:
        title = panel.get("title") or f"panel {panel.get('id')}"
        exprs = [t.get("expr", "") for t in panel.get("targets", []) if isinstance(t, dict)]
        if not panel.get("title") or not exprs or not all(exprs):
            error(where, f"{title}: a panel needs a title and a query (targets[].expr)")
        for expr in exprs:
            for name in re.findall(r"\b((?:motcua|messaging)_[a-z_]+)", expr):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name not in exported and base not in exported:
                    error(where, f"{title}: metric {name} is not exported by any MotCua process (Sources/)")


def main():
    check_dashboard(os.path.join(ROOT, "deploy/monitoring/grafana-dashboard.json"))
    compose = os.path.join(ROOT, "deploy/compose/compose.yaml")
    check_compose(compose)
    k8s = os.path.join(ROOT, "deploy/k8s")
    docs = check_k8s(k8s)
    note = "; ".join(filter(None, [docker_compose(compose) if os.path.exists(compose) else "", kubectl_agrees(k8s, docs)]))
    if errors:
        for e in errors:
            print(f"check-deploy: {e}", file=sys.stderr)
        print(f"check-deploy: {len(errors)} error(s)", file=sys.stderr)
        return 1
    print(f"check-deploy: compose and k8s manifests OK ({note})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
