#!/usr/bin/python3
"""Checks deploy/k8s.yaml against the code: prints one line per problem and
exits 1 if there is any. Run by tests/integration/08-deploy.bats."""
import glob
import re
import sys

import yaml

root = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(f"{root}/deploy/k8s.yaml")) if d]
kinds = {d["kind"]: d for d in docs}
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


for kind in ("Deployment", "Service", "NetworkPolicy"):
    need(kind in kinds, f"no {kind}")
dep = kinds["Deployment"]
spec = dep["spec"]["template"]["spec"]
backend = next(c for c in spec["containers"] if c["name"] == "backend")
need(dep["spec"]["replicas"] == 2, "replicas is not 2")

# What the service reads: every getenv/env_* name in common/config.c (the
# shared settings), every setting a mode or backend-mcp declares (the
# `setting` tables in fcgi-apps/), plus the PG* variables libpq reads itself.
config_c = open(f"{root}/common/config.c").read()
read = set(re.findall(r'(?:getenv|env_positive|env_or)\("([A-Z_]+)"', config_c)) | {
    "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"}
for path in glob.glob(f"{root}/fcgi-apps/**/*.c", recursive=True):
    read |= set(re.findall(r'\.name = "([A-Z][A-Z0-9_]*)",\s*\.kind = SETTING_', open(path).read()))
env = {e["name"]: e.get("value") for e in backend.get("env", [])}
for name in env:
    need(name in read, f"the manifest sets {name}, which the service does not read")
for name in ("DATASTORE_TOKEN_FILE", "FILE_TEMP_DIR", "LISTEN_ADDR", "PORT"):
    need(name in env, f"the manifest does not set {name}")

# Port: the code's default, the Dockerfile's EXPOSE, the container port,
# the probes and the Service all agree.
default_port = re.search(r'env_positive\("PORT", (\d+)', config_c).group(1)
expose = re.search(r"^EXPOSE (\d+)", open(f"{root}/Dockerfile").read(), re.M).group(1)
ports = {p["name"]: p["containerPort"] for p in backend["ports"]}
need(str(ports.get("http")) == env.get("PORT") == default_port == expose,
     f"ports disagree: container {ports.get('http')}, PORT {env.get('PORT')}, code {default_port}, EXPOSE {expose}")
for probe in ("livenessProbe", "readinessProbe"):
    p = backend[probe]["httpGet"]
    need(p["path"] == "/health", f"{probe} path {p['path']} is not /health")
    need(p["port"] in ("http", ports.get("http")), f"{probe} port {p['port']} is not the http port")
    # /health answers within 2 s (docs/api.md): the probe waits longer.
    need(backend[probe]["timeoutSeconds"] > 2, f"{probe} timeout does not fit the 2 s bound")
health_c = open(f"{root}/fcgi-apps/health.c").read()
# The route's entry, from its opening brace to the next route's: public.
health_route = re.search(r'\{"GET", "/health", health_get,(.*?)\n    \{"', health_c, re.S)
need(health_route is not None and ".is_public = true" in health_route.group(1),
     "health.c no longer serves a public GET /health")
svc = kinds["Service"]["spec"]
need(svc["type"] == "ClusterIP", "the Service is not ClusterIP")
need(all(p["targetPort"] in ("http", ports.get("http")) for p in svc["ports"]), "Service targetPort is not http")
need(svc["selector"] == dep["spec"]["selector"]["matchLabels"], "Service selector does not select the pods")
np = kinds["NetworkPolicy"]["spec"]
need(np["podSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"], "NetworkPolicy selects other pods")
need(any(p.get("port") == ports.get("http") for r in np["ingress"] for p in r.get("ports", [])),
     "NetworkPolicy does not admit the http port")

# The file tier: FILE_TEMP_DIR is an emptyDir mount with a sizeLimit; the
# token file lies in the Secret's mount.
mounts = {m["mountPath"]: m["name"] for m in backend["volumeMounts"]}
volumes = {v["name"]: v for v in spec["volumes"]}
files_vol = volumes.get(mounts.get(env.get("FILE_TEMP_DIR")), {})
need("sizeLimit" in files_vol.get("emptyDir", {}), "FILE_TEMP_DIR is not an emptyDir mount with a sizeLimit")
token_dir = env.get("DATASTORE_TOKEN_FILE", "").rsplit("/", 1)[0]
need("secret" in volumes.get(mounts.get(token_dir), {}), "DATASTORE_TOKEN_FILE is not in a Secret mount")
need(backend["resources"]["limits"].get("memory"), "no memory limit")
need(dep["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot"), "pods may run as root")

for p in problems:
    print(p)
if "--env" in sys.argv:
    for name, value in env.items():
        if value is not None:
            print(f"ENV {name}={value}")
sys.exit(1 if problems else 0)
