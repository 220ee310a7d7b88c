"""Match requests to GitHub's REST description and validate them against it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

SPEC_PATH = Path(__file__).resolve().parent.parent / "data" / "github" / "openapi.json"
_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Param:
    """One path or query parameter with its compiled schema validator."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: OAS30Validator

    def coerce(self, raw: str) -> Any:
        """Turn the URL text into the schema's type, or return it unchanged to fail validation."""
        kind = self.schema.get("type")
        try:
            if kind == "integer":
                return int(raw)
            if kind == "number":
                return float(raw)
        except ValueError:
            return raw
        if kind == "boolean" and raw in ("true", "false"):
            return raw == "true"
        return raw

    def problems(self, raw: str) -> list[str]:
        value = self.coerce(raw)
        return [
            f"{self.location} parameter {self.name!r}={raw!r}: {error.message}"
            for error in self.validator.iter_errors(value)
        ]


@dataclass
class Operation:
    """One `METHOD /template` of the description, ready to match and validate requests."""

    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    path_params: dict[str, Param]
    query_params: dict[str, Param]
    body_validator: OAS30Validator | None
    body_required: bool
    success_schema: dict[str, Any] | None = field(default=None)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def path_problems(self, raw: dict[str, str]) -> list[str]:
        return [
            problem
            for name, text in raw.items()
            for problem in self.path_params[name].problems(text)
        ]

    def typed_path(self, raw: dict[str, str]) -> dict[str, Any]:
        return {name: self.path_params[name].coerce(text) for name, text in raw.items()}

    def unknown_query(self, query: dict[str, str]) -> list[str]:
        # GitHub ignores these, so a filter the client believes it applied silently does nothing.
        return [
            f"query parameter {name!r} is not in the description"
            for name in query
            if name not in self.query_params
        ]

    def query_problems(self, query: dict[str, str]) -> list[str]:
        return [
            problem
            for name, text in query.items()
            if name in self.query_params
            for problem in self.query_params[name].problems(text)
        ]

    def typed_query(self, query: dict[str, str]) -> dict[str, Any]:
        typed = {
            name: param.schema["default"]
            for name, param in self.query_params.items()
            if "default" in param.schema
        }
        for name, text in query.items():
            if name in self.query_params:
                typed[name] = self.query_params[name].coerce(text)
        return typed

    def body_problems(self, body: Any, present: bool) -> list[str]:
        if self.body_validator is None:
            return ["a request body was sent to an operation that takes none"] if present else []
        if not present:
            return ["the operation requires a JSON request body"] if self.body_required else []
        return [_describe(error) for error in self.body_validator.iter_errors(body)]


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(body)"
    return f"body {where}: {error.message}"


class ApiDescription:
    """The operations of the trimmed description, indexed for fast request matching."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._components = document.get("components", {})
        self.operations: dict[str, Operation] = {}
        self._response_validators: dict[tuple[str, int], OAS30Validator | None] = {}
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, spec in item.items():
                if method == "parameters":
                    continue
                operation = self._compile(
                    method.upper(), template, [*shared, *spec.get("parameters", [])], spec
                )
                self.operations[operation.key] = operation
        # Literal segments first: `/commits/{ref}/status` must beat multi-segment `/commits/{ref}`.
        self._ordered = sorted(
            self.operations.values(), key=lambda op: (-op.literal_segments, op.template)
        )

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """Return the operation for method and path with its raw path parameters."""
        for operation in self._ordered:
            if operation.method != method:
                continue
            found = operation.pattern.fullmatch(path)
            if found:
                return operation, found.groupdict()
        return None

    def response_validator(self, operation: Operation, status: int) -> OAS30Validator | None:
        """Validator for the JSON answer of operation with status, if the description has one."""
        key = (operation.key, status)
        if key not in self._response_validators:
            spec = self.document["paths"][operation.template][operation.method.lower()]
            response = spec.get("responses", {}).get(str(status))
            content = self._resolve(response).get("content", {}) if response else {}
            schema = content.get("application/json", {}).get("schema")
            self._response_validators[key] = None if schema is None else self._validator(schema)
        return self._response_validators[key]

    def path_exists(self, path: str) -> bool:
        return any(op.pattern.fullmatch(path) for op in self._ordered)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if ref is None:
            return node
        target: Any = self.document
        for part in ref[2:].split("/"):
            target = target[part]
        return target  # type: ignore[no-any-return]

    def _validator(self, schema: dict[str, Any]) -> OAS30Validator:
        # `#/components/...` refs resolve against the validator's root document.
        rooted = {**schema, "components": self._components}
        return OAS30Validator(rooted, format_checker=oas30_format_checker)

    def _compile(
        self, method: str, template: str, raw_params: list[dict[str, Any]], spec: dict[str, Any]
    ) -> Operation:
        params = [self._resolve(p) for p in raw_params]
        path_params: dict[str, Param] = {}
        query_params: dict[str, Param] = {}
        multi_segment = set()
        for p in params:
            param = Param(
                p["name"],
                p["in"],
                bool(p.get("required")),
                p["schema"],
                self._validator(p["schema"]),
            )
            if p["in"] == "path":
                path_params[p["name"]] = param
                if p.get("x-multi-segment"):
                    multi_segment.add(p["name"])
            elif p["in"] == "query":
                query_params[p["name"]] = param

        # split() alternates literal text and parameter names.
        regex = "".join(
            (f"(?P<{piece}>.+)" if piece in multi_segment else f"(?P<{piece}>[^/]+)")
            if index % 2
            else re.escape(piece)
            for index, piece in enumerate(_PARAM.split(template))
        )
        literal = sum(1 for segment in template.split("/") if segment and "{" not in segment)
        body = spec.get("requestBody")
        body_validator = None
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            body_validator = self._validator(schema)
        return Operation(
            method=method,
            template=template,
            pattern=re.compile(regex),
            literal_segments=literal,
            path_params=path_params,
            query_params=query_params,
            body_validator=body_validator,
            body_required=bool(body and body.get("required")),
            success_schema=self._success_schema(spec),
        )

    def _success_schema(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        for status in ("200", "201"):
            response = spec.get("responses", {}).get(status)
            if response is None:
                continue
            content = self._resolve(response).get("content", {}).get("application/json")
            if content:
                return content["schema"]  # type: ignore[no-any-return]
        return None


@cache
def load_description(path: Path = SPEC_PATH) -> ApiDescription:
    """Parse and compile the committed description once per process."""
    return ApiDescription(json.loads(path.read_text()))
