"""Stripe's API description, as the contract tests read it (no Odoo, stdlib and ``stripe``).

- ``spec(version)``: the extract of Stripe's API description of ``version``
  (tests/data/openapi/stripe-<version>.json, written by tests/data/openapi/extract.py).
- ``validate(value, schema)``: the errors of ``value`` against a schema of that extract (the
  subset of JSON Schema it uses: type, enum, properties, required, items,
  additionalProperties, anyOf, nullable, maxLength). ``form=True`` reads the values of a
  form-encoded request (every scalar is a string there); ``unknown="allow"`` accepts fields
  the schema does not list (Stripe adds fields to every API version's objects).
- ``decode_form(text)``: a form-encoded body or query string back into the nested structure
  Stripe reads (``a[b][0]=x`` is ``{"a": {"b": ["x"]}}``).
- ``RecordingHTTPClient``: a ``stripe.HTTPClient`` that records each request the SDK sends
  (method, path, Stripe-Version, decoded parameters) and answers from ``responses``.
- ``check_request(spec, request)``: the errors of a recorded request against its endpoint.
"""

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stripe

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "data" / "openapi"
SDK_VERSION = "2024-06-20"  # stripe_api.API_VERSION: what the addon's own calls send
ENDPOINT_VERSION = "2019-05-16"  # payment_stripe's webhook endpoint and requests
_SPECS = {}


def spec(version):
    if version not in _SPECS:
        path = OPENAPI_DIR / f"stripe-{version}.json"
        _SPECS[version] = json.loads(path.read_text(encoding="utf-8"))
    return _SPECS[version]


# --- validation --------------------------------------------------------------------------

_FORM_TYPES = {
    "integer": re.compile(r"-?\d+"),
    "number": re.compile(r"-?\d+(\.\d+)?"),
    "boolean": re.compile(r"true|false"),
}
_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def validate(value, schema, path="", form=False, unknown="error"):
    """Return the list of errors (strings naming the parameter) of ``value``."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path or '<root>'}: null is not allowed"]
    if "anyOf" in schema:
        results = [validate(value, alt, path, form, unknown) for alt in schema["anyOf"]]
        if any(not errors for errors in results):
            return []
        best = min(results, key=len)
        return best if len(results) == 1 else [f"{path}: matches no alternative: {best}"]
    errors = []
    kind = schema.get("type")
    if kind and not _has_type(value, kind, form):
        return [f"{path or '<root>'}: {value!r} is not of type {kind}"]
    if "enum" in schema and _scalar(value, kind, form) not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}[{key}]" if path else key
            if properties is not None and key in properties:
                errors += validate(item, properties[key], where, form, unknown)
            elif isinstance(extra, dict):
                errors += validate(item, extra, where, form, unknown)
            elif properties is not None and unknown == "error":
                errors.append(f"{where}: unknown parameter")
        for key in schema.get("required", ()):
            if key not in value:
                errors.append(f"{path}[{key}]: required" if path else f"{key}: required")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{index}]", form, unknown)
    return errors


def _has_type(value, kind, form):
    if form and isinstance(value, str) and kind in _FORM_TYPES:
        return bool(_FORM_TYPES[kind].fullmatch(value))
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES[kind])


def _scalar(value, kind, form):
    """The value an enum is compared with (form values are strings)."""
    if form and isinstance(value, str):
        if kind == "boolean":
            return value == "true"
        if kind == "integer":
            return int(value)
    return value


# --- form encoding -----------------------------------------------------------------------

_KEY = re.compile(r"^([^\[]+)((?:\[[^\]]*\])*)$")


def decode_form(text):
    """Decode ``a[b][0]=x&c=y`` into ``{"a": {"b": ["x"]}, "c": "y"}``."""
    root = {}
    for key, value in parse_qsl(text or "", keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            raise ValueError(f"not a Stripe form key: {key!r}")
        parts = [match.group(1), *re.findall(r"\[([^\]]*)\]", match.group(2))]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{key!r} mixes a value and nested keys")
        if parts[-1] in node:
            raise ValueError(f"{key!r} is sent twice")
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    """Turn the dicts keyed 0..n-1 (Stripe's encoding of arrays) into lists."""
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        indexes = sorted(int(key) for key in node)
        if indexes == list(range(len(node))):
            return [node[str(index)] for index in indexes]
    return node


# --- recording ---------------------------------------------------------------------------


class RecordingHTTPClient(stripe.HTTPClient):
    """Records the SDK's requests; ``respond(method, path, params)`` gives each answer (a
    dict, sent with status 200)."""

    name = "contract-recorder"

    def __init__(self, respond):
        super().__init__()
        self.respond = respond
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = decode_form(post_data if method.upper() == "POST" else parts.query)
        record = {
            "method": method.upper(),
            "path": parts.path,
            "version": (headers or {}).get("Stripe-Version"),
            "idempotency_key": (headers or {}).get("Idempotency-Key"),
            "params": params,
        }
        self.requests.append(record)
        body = self.respond(record["method"], record["path"], params)
        return json.dumps(body), 200, {"Content-Type": "application/json"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError("the addon streams nothing")

    def close(self):
        pass


def endpoint_of(api, method, path):
    """The key of ``api["requests"]`` whose path template matches ``path``, or None."""
    for key in api["requests"]:
        key_method, template = key.split(" ", 1)
        if key_method != method:
            continue
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        # A literal segment (search) wins over a template ({intent}).
        if re.match(pattern, path) and (
            "{" not in template or f"{template.rsplit('/', 1)[0]}/search" != path
        ):
            return key
    return None


def check_request(api, request):
    """The errors of one recorded request against the API description ``api``."""
    if request["version"] != api["api_version"]:
        return [f"sent with Stripe-Version {request['version']}, not {api['api_version']}"]
    key = endpoint_of(api, request["method"], request["path"])
    if key is None:
        return [f"{request['method']} {request['path']}: no such endpoint"]
    return [
        f"{key}: {error}" for error in validate(request["params"], api["requests"][key], form=True)
    ]
