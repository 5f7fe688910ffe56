#!/usr/bin/env python3
"""Checks deploy/ without a cluster or a Docker daemon: every Kubernetes manifest of the base is
validated against the Kubernetes schema (kubernetes-validate --strict, by the caller); here, every
kustomization names files that exist and patches resources the base has, the compose file has its
services wired as the README says, and the Dockerfile runs as non-root with a health check."""
import pathlib
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent / "deploy"
problems = []


def base_resources():
    found = set()
    for path in (root / "kubernetes" / "base").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if doc.get("kind") != "Kustomization":
            found.add((doc["kind"], doc["metadata"]["name"]))
    return found


resources = base_resources()
for kustomization in (root / "kubernetes").rglob("kustomization.yaml"):
    doc = yaml.safe_load(kustomization.read_text())
    here = kustomization.parent
    for entry in doc.get("resources", []):
        if not (here / entry).exists():
            problems.append(f"{kustomization}: resource {entry} does not exist")
    for patch in doc.get("patches", []):
        if "path" in patch:
            target = here / patch["path"]
            if not target.exists():
                problems.append(f"{kustomization}: patch {patch['path']} does not exist")
                continue
            p = yaml.safe_load(target.read_text())
            key = (p["kind"], p["metadata"]["name"])
        else:
            key = (patch["target"]["kind"], patch["target"]["name"])
        if key not in resources:
            problems.append(f"{kustomization}: patch targets {key}, which the base lacks")

compose = yaml.safe_load((root / "compose.yaml").read_text())
services = compose.get("services", {})
for name in ["reunify", "postgres", "otel-collector", "jaeger", "migrate"]:
    if name not in services:
        problems.append(f"compose.yaml: no service {name}")
if "healthcheck" not in services.get("reunify", {}):
    problems.append("compose.yaml: reunify has no healthcheck")
collector = root / "otel-collector.yaml"
if not collector.exists():
    problems.append("otel-collector.yaml is missing")
else:
    yaml.safe_load(collector.read_text())

dockerfile = (root / "Dockerfile").read_text()
for needed in ["HEALTHCHECK", "USER 65532", "cargo chef cook", "distroless"]:
    if needed not in dockerfile:
        problems.append(f"Dockerfile: no {needed}")

for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
