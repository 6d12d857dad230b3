#!/usr/bin/python3
"""Checks Kubernetes manifests against the API's schema, offline.

The schema is the one the Kubernetes Python client (Debian's python3-kubernetes, generated from the
API's OpenAPI spec) carries: every document's apiVersion and kind name a known type of the right API
group, every field is one of its type's, every value has the field's type, and required fields are
there. Usage: k8s_schema.py FILE... ; prints one line per problem (file, document, path, reason)
and exits 1 if there is any, 0 if none.
"""
import re
import sys

import yaml
import kubernetes.client as k8s

# the API group of each kind the manifests may use ("" is the core group)
GROUPS = {
    "Namespace": "", "ConfigMap": "", "Secret": "", "Service": "", "ServiceAccount": "",
    "PersistentVolumeClaim": "", "Pod": "",
    "Deployment": "apps", "DaemonSet": "apps", "StatefulSet": "apps",
    "NetworkPolicy": "networking.k8s.io", "PodDisruptionBudget": "policy",
}

_required = {}


def required(cls):
    """The attributes whose setter refuses None: the type's required fields."""
    if cls not in _required:
        probe = cls.__new__(cls)
        probe.local_vars_configuration = k8s.Configuration()
        names = set()
        for attr in cls.openapi_types:
            try:
                setattr(probe, attr, None)
            except ValueError:
                names.add(attr)
        _required[cls] = names
    return _required[cls]


def check(value, typ, path, problems):
    if value is None:
        return
    if typ == "str":
        if not isinstance(value, str):
            problems.append(f"{path}: must be a string, not {value!r}")
    elif typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: must be a whole number, not {value!r}")
    elif typ == "bool":
        if not isinstance(value, bool):
            problems.append(f"{path}: must be true or false, not {value!r}")
    elif typ in ("object", "float", "datetime", "date"):
        pass
    elif typ.startswith("list["):
        if not isinstance(value, list):
            problems.append(f"{path}: must be a list")
            return
        for i, v in enumerate(value):
            check(v, typ[5:-1], f"{path}[{i}]", problems)
    elif typ.startswith("dict("):
        if not isinstance(value, dict):
            problems.append(f"{path}: must be a map")
            return
        inner = re.match(r"dict\(str, (.*)\)", typ).group(1)
        for key, v in value.items():
            check(v, inner, f"{path}.{key}", problems)
    else:
        cls = getattr(k8s, typ, None)
        if cls is None:
            problems.append(f"{path}: type {typ} unknown to the schema")
            return
        if not isinstance(value, dict):
            problems.append(f"{path}: must be an object ({typ})")
            return
        by_json = {json: attr for attr, json in cls.attribute_map.items()}
        for key, v in value.items():
            attr = by_json.get(key)
            if attr is None:
                problems.append(f"{path}.{key}: no such field in {typ}")
                continue
            check(v, cls.openapi_types[attr], f"{path}.{key}", problems)
        for attr in sorted(required(cls)):
            if value.get(cls.attribute_map[attr]) is None:
                problems.append(f"{path}.{cls.attribute_map[attr]}: required in {typ}")


def check_document(doc):
    problems = []
    if not isinstance(doc, dict):
        return ["not an object"]
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["apiVersion and kind are required"]
    group, _, version = api_version.rpartition("/")
    if kind not in GROUPS:
        return [f"kind {kind} is not one this check knows"]
    if GROUPS[kind] != group:
        return [f"apiVersion {api_version}: {kind} is in group '{GROUPS[kind] or 'core'}'"]
    cls_name = version[0].upper() + version[1:] + kind
    if getattr(k8s, cls_name, None) is None:
        return [f"apiVersion {api_version}: no {kind} in version {version}"]
    check(doc, cls_name, "", problems)
    if not (doc.get("metadata") or {}).get("name"):
        problems.append(".metadata.name: required")
    return problems


def main(files):
    count = 0
    for f in files:
        with open(f, encoding="utf-8") as stream:
            try:
                docs = [d for d in yaml.safe_load_all(stream) if d is not None]
            except yaml.YAMLError as e:
                print(f"{f}: not YAML: {e}")
                count += 1
                continue
        for i, doc in enumerate(docs):
            name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}" if isinstance(doc, dict) else "?"
            for p in check_document(doc):
                print(f"{f}: document {i + 1} ({name}): {p}")
                count += 1
    print(f"{len(files)} files checked, {count} problems")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
