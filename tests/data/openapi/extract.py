"""Extract from Stripe's API descriptions only what the contract tests need (stdlib only).

Writes ``stripe-<version>.json`` beside this script: the request parameters of the endpoints
the addons call (``requests``, keyed ``"POST /v1/customers"``) and the schemas of the objects
they read (``objects``), in the subset of JSON Schema the tests' validator knows (type, enum,
properties, required, items, additionalProperties, anyOf, nullable, maxLength), every
``$ref`` resolved, descriptions dropped. Other Stripe resources met inside an object (an
expandable ``customer`` of a PaymentMethod...) are left as ``{"type": "object",
"x-resource": name}``.

Two sources give the same format:

- ``--spec spec3.json``: Stripe's OpenAPI description (repository stripe/openapi,
  ``openapi/spec3.json``), e.g. ``git show c806fa1f:openapi/spec3.json`` for 2019-05-16;
- ``--sdk DIR``: the ``stripe`` package of stripe-python (an unpacked wheel), whose request
  parameter classes (TypedDicts) and resource classes are generated from that OpenAPI
  description for the API version pinned in ``stripe/_api_version.py``. Used for 2024-06-20:
  the specs of 2022 onwards are over the size our mirror of stripe/openapi keeps.

Usage::

    git --git-dir=MIRROR show c806fa1f:openapi/spec3.json > /tmp/spec3.json
    python tests/data/openapi/extract.py --spec /tmp/spec3.json --commit c806fa1f...
    pip download stripe==10.12.0 --no-deps -d /tmp/sdk && cd /tmp/sdk && unzip stripe-*.whl
    python tests/data/openapi/extract.py --sdk /tmp/sdk/stripe --package stripe==10.12.0
"""

import argparse
import ast
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
LICENSE = (
    "Extracted from Stripe's public API description (repository stripe/openapi, or the "
    "stripe-python package generated from it). MIT licence, Copyright (c) 2011- Stripe, Inc."
)
# (method, path) of every endpoint the addons call, or may call (payment_stripe's webhook
# endpoint and the PaymentIntent look-ups of the charging engine).
REQUESTS = [
    ("POST", "/v1/customers"),
    ("POST", "/v1/customers/{customer}"),
    ("POST", "/v1/setup_intents"),
    ("GET", "/v1/setup_intents/{intent}"),
    ("POST", "/v1/setup_intents/{intent}/cancel"),
    ("POST", "/v1/setup_intents/{intent}/confirm"),
    ("GET", "/v1/payment_methods"),
    ("GET", "/v1/payment_methods/{payment_method}"),
    ("POST", "/v1/payment_methods/{payment_method}/attach"),
    ("POST", "/v1/payment_methods/{payment_method}/detach"),
    ("POST", "/v1/payment_intents"),
    ("GET", "/v1/payment_intents/{intent}"),
    ("GET", "/v1/payment_intents/search"),
    ("GET", "/v1/mandates/{mandate}"),
    ("POST", "/v1/webhook_endpoints"),
    ("POST", "/v1/webhook_endpoints/{webhook_endpoint}"),
]
OBJECTS = [
    "payment_method",
    "payment_intent",
    "setup_intent",
    "mandate",
    "charge",
    "customer",
    "event",
]
KEPT = ("type", "enum", "required", "nullable", "maxLength", "format")


# --- OpenAPI -----------------------------------------------------------------------------


class SpecExtractor:
    def __init__(self, spec):
        self.spec = spec
        self.schemas = spec["components"]["schemas"]

    def resolve(self, node, root=None, seen=()):
        if isinstance(node, list):
            return [self.resolve(item, root, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            target = self.schemas[name]
            if (target.get("x-resourceId") and name != root) or name in seen:
                return {"type": "object", "x-resource": name}
            return self.resolve(target, root, (*seen, name))
        out = {key: node[key] for key in KEPT if key in node}
        if "properties" in node:
            out["type"] = "object"
            out["properties"] = {
                key: self.resolve(value, root, seen)
                for key, value in sorted(node["properties"].items())
            }
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self.resolve(node["additionalProperties"], root, seen)
        if "items" in node:
            out["items"] = self.resolve(node["items"], root, seen)
        for key in ("anyOf", "oneOf"):
            if key in node:
                out["anyOf"] = [self.resolve(item, root, seen) for item in node[key]]
        return out

    def request(self, method, path):
        operation = self.spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            return None
        if method == "GET":
            properties, required = {}, []
            for param in operation.get("parameters", []):
                if param.get("in") == "query":
                    properties[param["name"]] = self.resolve(param["schema"])
                    if param.get("required"):
                        required.append(param["name"])
            schema = {"type": "object", "properties": dict(sorted(properties.items()))}
            if required:
                schema["required"] = sorted(required)
            return schema
        content = operation.get("requestBody", {}).get("content", {})
        body = content.get("application/x-www-form-urlencoded", {}).get("schema")
        return self.resolve(body) if body else {"type": "object", "properties": {}}

    def extract(self):
        version = self.spec["info"]["version"]
        requests = {}
        for method, path in REQUESTS:
            schema = self.request(method, path)
            if schema is not None:
                requests[f"{method} {path}"] = schema
        objects = {
            name: self.resolve({"$ref": name}, name) for name in OBJECTS if name in self.schemas
        }
        return version, requests, objects


# --- stripe-python -----------------------------------------------------------------------

SCALARS = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}


class SdkModule:
    """The classes of one stripe-python module, by qualified name."""

    def __init__(self, path):
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.classes = {}
        self._index(self.tree.body, "")

    def _index(self, body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = f"{prefix}{node.name}"
                self.classes[name] = node
                self._index(node.body, name + ".")

    def lookup(self, name, scope):
        """The qualified name of class ``name`` seen from class ``scope`` (inner first)."""
        parts = scope.split(".") if scope else []
        while True:
            candidate = ".".join([*parts, name])
            if candidate in self.classes:
                return candidate
            if not parts:
                return None
            parts.pop()


class SdkExtractor:
    def __init__(self, package_dir):
        self.dir = Path(package_dir)
        self.modules = {}

    def module(self, filename):
        if filename not in self.modules:
            self.modules[filename] = SdkModule(self.dir / filename)
        return self.modules[filename]

    def class_schema(self, module, qualname, params, seen=()):
        node = module.classes[qualname]
        if qualname in seen:
            return {"type": "object"}
        properties, required = {}, []
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            name = stmt.target.id
            annotation = stmt.annotation
            optional = False
            if _subscript_name(annotation) in ("NotRequired", "ClassVar"):
                if _subscript_name(annotation) == "ClassVar":
                    continue
                optional = True
                annotation = annotation.slice
            properties[name] = self.type_schema(
                module, qualname, annotation, params, (*seen, qualname)
            )
            if params and not optional:
                required.append(name)
        schema = {"type": "object", "properties": dict(sorted(properties.items()))}
        if required:
            schema["required"] = sorted(required)
        return schema

    def type_schema(self, module, scope, node, params, seen):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self.type_schema(
                module, scope, ast.parse(node.value, mode="eval").body, params, seen
            )
        if isinstance(node, ast.Constant) and node.value is None:
            return {"nullable": True}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _any_of(
                [self.type_schema(module, scope, side, params, seen) for side in _union(node)]
            )
        if isinstance(node, ast.Name | ast.Attribute):
            name = ast.unparse(node)
            if name in SCALARS:
                return {"type": SCALARS[name]}
            if name == "Any":
                return {}
            qualname = module.lookup(name, scope)
            if qualname is None:
                # Another resource (a class of another module): an object left open.
                return {"type": "object", "x-resource": _snake(name.rsplit(".", 1)[-1])}
            return self.class_schema(module, qualname, params, seen)
        kind = _subscript_name(node)
        args = _subscript_args(node)
        if kind == "Literal":
            values = [arg.value for arg in args]
            types = {type(value) for value in values}
            json_type = {str: "string", int: "integer", bool: "boolean"}[types.pop()]
            return {"type": json_type, "enum": values}
        if kind == "Optional":
            schema = self.type_schema(module, scope, args[0], params, seen)
            return dict(schema, nullable=True)
        if kind == "Union":
            return _any_of([self.type_schema(module, scope, a, params, seen) for a in args])
        if kind in ("List", "ListObject"):
            items = self.type_schema(module, scope, args[0], params, seen)
            if kind == "ListObject":
                return {
                    "type": "object",
                    "properties": {"data": {"type": "array", "items": items}},
                }
            return {"type": "array", "items": items}
        if kind == "Dict":
            return {
                "type": "object",
                "additionalProperties": self.type_schema(module, scope, args[1], params, seen),
            }
        if kind == "ExpandableField":
            target = self.type_schema(module, scope, args[0], params, seen)
            return {"anyOf": [{"type": "string", "maxLength": 5000}, target]}
        raise ValueError(f"unknown annotation {ast.unparse(node)} in {scope}")

    def service_requests(self):
        """``{"POST /v1/...": schema}`` from the ``*_service.py`` modules' methods."""
        found = {}
        for path in sorted(self.dir.glob("_*_service.py")):
            module = self.module(path.name)
            for qualname, cls in module.classes.items():
                if "." in qualname:
                    continue
                for fn in cls.body:
                    if not isinstance(fn, ast.FunctionDef):
                        continue
                    route = _route(fn)
                    if route is None or route not in {f"{m} {p}" for m, p in REQUESTS}:
                        continue
                    params = next((a for a in fn.args.args if a.arg == "params"), None)
                    if params is None or params.annotation is None:
                        continue
                    name = ast.parse(params.annotation.value, mode="eval").body
                    found[route] = self.class_schema(module, ast.unparse(name), params=True)
        return dict(sorted(found.items()))

    def objects(self):
        out = {}
        for name in OBJECTS:
            module = self.module(f"_{name}.py")
            cls = "".join(part.title() for part in name.split("_"))
            schema = self.class_schema(module, cls, params=False)
            # The request parameter classes nested in the resource are not its fields.
            out[name] = schema
        return out

    def extract(self):
        version_file = (self.dir / "_api_version.py").read_text(encoding="utf-8")
        version = re.search(r'CURRENT = "([^"]+)"', version_file).group(1)
        return version, self.service_requests(), self.objects()


def _subscript_name(node):
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value)
    return None


def _subscript_args(node):
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def _union(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union(node.left), *_union(node.right)]
    return [node]


def _any_of(schemas):
    nullable = any(s == {"nullable": True} for s in schemas)
    schemas = [s for s in schemas if s != {"nullable": True}]
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return dict(schema, nullable=True) if nullable else schema


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _route(fn):
    """``"POST /v1/setup_intents/{intent}"`` of a service method calling ``self._request``."""
    for node in ast.walk(fn):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_request"
            and len(node.args) >= 2
        ):
            continue
        method, path = node.args[0], node.args[1]
        if isinstance(path, ast.Call):  # "/v1/x/{id}".format(id=...)
            path = path.func.value
        return f"{method.value.upper()} {path.value}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--spec", help="Stripe's openapi/spec3.json")
    source.add_argument("--sdk", help="the stripe package directory of stripe-python")
    parser.add_argument("--commit", help="the stripe/openapi commit of --spec")
    parser.add_argument("--package", help="the stripe-python release of --sdk")
    args = parser.parse_args()
    if args.spec:
        with open(args.spec, encoding="utf-8") as handle:
            version, requests, objects = SpecExtractor(json.load(handle)).extract()
        origin = {"repository": "stripe/openapi", "path": "openapi/spec3.json"}
        origin["commit"] = args.commit
    else:
        version, requests, objects = SdkExtractor(args.sdk).extract()
        origin = {"package": args.package, "generated_from": "stripe/openapi spec3.sdk.json"}
    data = {
        "_license": LICENSE,
        "_source": origin,
        "api_version": version,
        "requests": requests,
        "objects": objects,
    }
    target = HERE / f"stripe-{version}.json"
    target.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{target}: {len(requests)} requests, {len(objects)} objects")


if __name__ == "__main__":
    main()
