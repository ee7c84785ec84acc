"""One way to read requests, for every route of every service.

webargs (under flask-smorest) is lenient where an API should not be, and this parser closes
each gap once:

* a JSON body must say ``Content-Type: application/json`` (415 otherwise, not a list of
  "missing fields");
* the body must be strict JSON (RFC 8259): invalid text, ``NaN``/``Infinity``, nesting deeper
  than ``MAX_JSON_DEPTH``, numbers longer than ``MAX_NUMBER_DIGITS`` digits and lone
  surrogate escapes are a 400 with the reason (Python's ``json`` would take the constants,
  overflow to ``inf``, hand on strings nothing can encode, or raise ``RecursionError`` and
  ``ValueError`` into a 500);
* a body over the size cap is 413 whether it came with a length or chunked
  (``refuse_oversized_streams``);
* a single-valued query parameter given twice (``lat=1&lat=95``) is a 400: taking the first
  would answer a question the caller did not ask;
* a number in the query string is plain ASCII decimal (400 otherwise): Python's ``float``
  and ``int`` also take ``1_0``, ``nan``, Arabic-Indic and fullwidth digits. Query syntax
  errors are 400 (the request is malformed); a well-formed value out of range is a 422.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any, NoReturn

import flask_smorest
from flask import Request, request
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import RequestEntityTooLarge

MAX_JSON_DEPTH = 32
MAX_NUMBER_DIGITS = 100
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_MULTI_VALUED = (fields.List, fields.Tuple)
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJson(ValueError):
    """The body is not strict JSON; the message says why."""


def _refuse_constant(name: str) -> NoReturn:
    raise BadJson(f"{name} is not a JSON value")


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise BadJson(f"a number in it has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise BadJson(f"a number in it has more than {MAX_NUMBER_DIGITS} digits")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BadJson("a number in it is too large")
    return value


_DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_refuse_constant)


def loads_strict(data: bytes) -> Any:
    """Parse a request body as strict JSON, or raise ``BadJson`` saying what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("it is not UTF-8") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise BadJson(f"it is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise BadJson(str(exc)) from None
    problem = _structure_problem(value, MAX_JSON_DEPTH)
    if problem:
        raise BadJson(problem)
    return value


def _structure_problem(value: Any, limit: int) -> str | None:
    """Nesting deeper than ``limit``, or a string holding a lone surrogate (``"\\ud800"`` is
    valid JSON syntax but no text: no database, hash or encoder takes it). Iterative, so
    there is no recursion to exhaust."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return "it holds a lone surrogate escape (\\ud800-\\udfff), which is not text"
        elif isinstance(item, dict | list):
            if depth > limit:
                return f"it is nested more than {limit} levels deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, str | dict | list)
            )
    return None


def request_json(req: Request, *, what: str = "the request") -> Any:
    """The body of a JSON request, strictly parsed; 415, 413 or 400 with a message otherwise.

    Also for views that read a body without a schema (the issuer's token endpoint).
    """
    if not req.is_json:
        abort(415, message=f"Send {what} as JSON with Content-Type: application/json")
    data = req.get_data(cache=True)  # over the cap, sized or chunked: RequestEntityTooLarge
    try:
        return loads_strict(data)
    except BadJson as exc:
        abort(400, message=f"The request body is not valid JSON: {exc}")


def refuse_oversized_streams() -> None:
    """``before_request``: a chunked body over the cap is a 413, like a sized one.

    werkzeug caps a body without ``Content-Length`` by reading at most the cap and stopping
    there silently, so an oversized chunked JSON body would arrive cut short (a misleading
    400 "invalid JSON") and a form body would lose fields. The body is read now, once
    (later reads use the cached bytes), and one more byte from the server's stream tells
    whether there was more.
    """
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return
    if not request.environ.get("wsgi.input_terminated"):
        return  # werkzeug hands such a request an empty body; nothing can overflow
    data = request.get_data(cache=True)
    if len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


class StrictParser(FlaskParser):
    """webargs' Flask parser with the rules in the module docstring."""

    def _raw_load_json(self, req: Request) -> Any:
        if not req.get_data(cache=True):
            return super()._raw_load_json(req)  # webargs' "missing": required fields say so
        return request_json(req)

    def load_json(self, req: Request, schema: Schema) -> Any:
        if not req.is_json:
            abort(415, message="Send the body as JSON with Content-Type: application/json")
        return super().load_json(req, schema)

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        for name, field in schema.fields.items():
            key = field.data_key or name
            values = req.args.getlist(key)
            if not values or isinstance(field, _MULTI_VALUED):
                continue
            if len(values) > 1:
                _bad_query(key, f"{key} must be given once; it appears {len(values)} times")
            if isinstance(field, fields.Number) and not _plain_number(values[0], field):
                _bad_query(key, f"{_number_rule(key, field)}; got {values[0][:40]!r}")
        return super().load_querystring(req, schema)


def _bad_query(key: str, message: str) -> NoReturn:
    abort(400, message=message, errors={"query": {key: [message]}})


def _plain_number(value: str, field: fields.Field) -> bool:
    pattern = _INTEGER if isinstance(field, fields.Integer) else _DECIMAL
    return len(value) <= MAX_NUMBER_DIGITS and pattern.fullmatch(value) is not None


def _number_rule(key: str, field: fields.Field) -> str:
    """The field's own wording when it has one ("lat must be a finite number from ..."),
    else what a plain number looks like."""
    own = field.error_messages.get("invalid", "")
    if own and own not in _DEFAULT_INVALID:
        return f"{own} in plain ASCII digits"
    if isinstance(field, fields.Integer):
        return f"{key} must be a whole number in plain ASCII digits, e.g. 10"
    return f"{key} must be a decimal number in plain ASCII digits, e.g. 37.39"


_DEFAULT_INVALID = {
    cls.default_error_messages.get("invalid", "")
    for cls in (fields.Number, fields.Integer, fields.Float, fields.Decimal)
}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading requests with ``StrictParser``.

    ``@blp.errors(404, 412)`` documents the service-wide error body under those statuses.
    """

    ARGUMENTS_PARSER = StrictParser()

    def errors(self, *codes: int) -> Any:
        def document(view: Any) -> Any:
            for code in codes:
                view = self.alt_response(code, response=HTTPStatus(code).name)(view)
            return view

        return document
