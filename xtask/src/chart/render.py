"""Render and lint a Helm chart offline, for `cargo xtask chart`.

Usage: render.py --chart DIR [--subchart DIR] --release NAME --namespace NS VALUES.yaml...

Prints one JSON array on stdout, an entry per values file:
  {"values": path, "stage": "ok" | "schema" | "render", "error": str | null,
   "lint": [{"severity": int, "path": str, "message": str}],
   "objects": [{"source": template path, "object": {...}}]}

The engine is Helm's own: the `helm_python` library (PyPI `helm-python-sdk`, Helm v4's Go
SDK behind a C ABI), or the `helm` binary when it is on PATH and the library is not. Each
rendered document is turned into JSON by Helm's YAML reader (sigs.k8s.io/yaml, YAML 1.1
scalars as the API machinery reads them), so `on` or `0755` mean here what they mean to
kubectl. `--subchart` copies the chart into a temporary copy of DIR's charts/, to render
a parent chart that includes this one (the sidecar snippet's consumer).

A values file's leading comments may hold `# set: PATH=VALUE` lines: each is applied on
top of the file as `helm --set PATH=VALUE` would be (Helm's own `--set` parser), so the
matrix covers the guide's literal `--set 'config.trustedRoots[0]=KEY'` install. An
`# api-versions: GROUP/VERSION,...` line renders as if the cluster served those APIs
(`.Capabilities.APIVersions`, as `helm template --api-versions`); without one, only
Kubernetes' built-in APIs are there, as on a cluster without the Prometheus Operator.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import helm_python as helm
except ImportError:  # fall back to the binary below
    helm = None

# Helm's own manifest splitter (releaseutil.SplitManifests) cuts on this separator.
SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")
LINT_KUBE_VERSION = "v1.33.0"  # the k8s-openapi feature xtask parses with


def yaml_to_json(doc: str):
    if helm is not None:
        return helm.values_from_yaml(doc)
    import yaml  # PyYAML: YAML 1.1 scalars, like go-yaml v2

    return yaml.safe_load(doc) or {}


def directives(values_file: str, key: str) -> list[str]:
    """The values of `# KEY:` among the file's leading comment lines."""
    out = []
    with open(values_file, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            body = line.lstrip("#").strip()
            if body.startswith(key + ":"):
                out.append(body[len(key) + 1 :].strip())
    return out


def api_versions(values_file: str) -> list[str]:
    """The `# api-versions:` list (comma-separated, any number of lines)."""
    return [v.strip() for d in directives(values_file, "api-versions") for v in d.split(",") if v.strip()]


def merge(base: dict, top: dict) -> dict:
    """`top` over `base`: maps merge key by key, anything else is replaced. Helm parses
    a --set into the values themselves; the two agree except for an index into a list
    the file already holds (`a[1]=x`), which here replaces the whole list."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def split(manifests: dict[str, str]) -> list[dict]:
    objects = []
    for source, text in sorted(manifests.items()):
        if source.endswith("NOTES.txt"):
            continue
        for doc in SEPARATOR.split(text):
            if not doc.strip():
                continue
            obj = yaml_to_json(doc)
            if obj:  # comment-only documents are dropped by Helm too
                objects.append({"source": source, "object": obj})
    return objects


def render_library(chart, values: dict, release: str, namespace: str, apis: list[str]) -> dict:
    """`Chart.render`, plus the API versions the cluster is taken to serve. The
    wrapper's `render` does not pass them on, but its native call takes them
    (`api_versions`, Helm's `--api-versions`) and rejects an unknown option, so a
    helm-python-sdk that dropped it fails loudly here rather than render without."""
    if not apis:
        return chart.render(values, name=release, namespace=namespace, is_install=True)
    from helm_python import _native

    opts = {"name": release, "namespace": namespace, "is_install": True, "api_versions": apis}
    return json.loads(
        _native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(opts))
    )


def run_library(
    chart_dir: str, values: dict, release: str, namespace: str, apis: list[str]
) -> dict:
    out: dict = {"stage": "ok", "error": None, "lint": [], "objects": []}
    with helm.Chart.load(chart_dir) as chart:
        try:
            chart.validate_schema(values)
        except helm.HelmError as err:
            return {**out, "stage": "schema", "error": str(err)}
        try:
            manifests = render_library(chart, values, release, namespace, apis)
        except helm.HelmError as err:
            return {**out, "stage": "render", "error": str(err)}
    # Schema and template errors are reported above; lint adds Helm's other findings.
    report = helm.lint(
        chart_dir,
        values,
        strict=True,
        namespace=namespace,
        skip_schema_validation=True,
        kube_version=LINT_KUBE_VERSION,
    )
    out["lint"] = [
        {"severity": m["severity"], "path": m["path"], "message": m["error"]}
        for m in report["messages"]
    ]
    # `errors` repeats the messages' text; keep only what it adds.
    seen = {m["message"] for m in out["lint"]}
    out["lint"] += [
        {"severity": 3, "path": "", "message": e} for e in report.get("errors", []) if e not in seen
    ]
    out["objects"] = split(manifests)
    return out


def run_binary(
    chart_dir: str,
    values_file: str,
    sets: list[str],
    release: str,
    namespace: str,
    apis: list[str],
) -> dict:
    out: dict = {"stage": "ok", "error": None, "lint": [], "objects": []}
    common = ["--namespace", namespace, "--values", values_file]
    for expr in sets:
        common += ["--set", expr]
    capabilities = [arg for api in apis for arg in ("--api-versions", api)]
    tpl = subprocess.run(
        ["helm", "template", release, chart_dir, *common, *capabilities],
        capture_output=True,
        text=True,
    )
    if tpl.returncode != 0:
        stage = "schema" if "schema" in tpl.stderr else "render"
        return {**out, "stage": stage, "error": tpl.stderr.strip()}
    lint = subprocess.run(
        ["helm", "lint", "--strict", "--kube-version", LINT_KUBE_VERSION, chart_dir, *common],
        capture_output=True,
        text=True,
    )
    for line in lint.stdout.splitlines():
        m = re.match(r"\[(INFO|WARNING|ERROR)\] (\S+): (.*)", line)
        if m:
            sev = {"INFO": 1, "WARNING": 2, "ERROR": 3}[m[1]]
            out["lint"].append({"severity": sev, "path": m[2], "message": m[3]})
    if lint.returncode != 0 and not any(m["severity"] >= 2 for m in out["lint"]):
        out["lint"].append({"severity": 3, "path": "", "message": lint.stdout + lint.stderr})
    out["objects"] = split({"helm template": tpl.stdout})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chart", required=True)
    ap.add_argument("--subchart")
    ap.add_argument("--release", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("values", nargs="+")
    args = ap.parse_args()

    if helm is None and shutil.which("helm") is None:
        print(
            "neither the helm_python library nor a helm binary is available:"
            " pip install helm-python-sdk",
            file=sys.stderr,
        )
        return 3

    with tempfile.TemporaryDirectory() as tmp:
        chart_dir = args.chart
        if args.subchart:
            chart_dir = os.path.join(tmp, os.path.basename(os.path.abspath(args.chart)))
            shutil.copytree(args.chart, chart_dir)
            sub = os.path.abspath(args.subchart)
            shutil.copytree(
                sub,
                os.path.join(chart_dir, "charts", os.path.basename(sub)),
                ignore=shutil.ignore_patterns("tests"),
            )
        results = []
        for values_file in args.values:
            sets = directives(values_file, "set")
            apis = api_versions(values_file)
            if helm is not None:
                with open(values_file, encoding="utf-8") as f:
                    values = helm.values_from_yaml(f.read()) or {}
                for expr in sets:
                    values = merge(values, helm.parse_set_string(expr))
                res = run_library(chart_dir, values, args.release, args.namespace, apis)
            else:
                res = run_binary(
                    chart_dir, values_file, sets, args.release, args.namespace, apis
                )
            results.append({"values": values_file, **res})

    if helm is not None:
        engine = f"helm-python-sdk {helm.__version__} (Helm {helm.helm_sdk_version()})"
    else:
        version = subprocess.run(["helm", "version", "--short"], capture_output=True, text=True)
        engine = f"helm binary (Helm {version.stdout.strip()})"
    json.dump({"engine": engine, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
