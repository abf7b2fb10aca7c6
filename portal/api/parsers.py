"""The API's JSON parser: refuses bodies nested deeper than ``MAX_DEPTH`` (a 100,000-deep body
would exhaust the recursion of ``json.loads`` → 500) and drops control characters from every
string (portal/text.py)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from portal.text import strip_control

MAX_DEPTH = 32


def _depth_exceeds(text: str, limit: int) -> bool:
    """Count brackets outside strings, without recursion."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _clean(value):
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {strip_control(k): _clean(v) for k, v in value.items()}
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError("请求内容不是有效的 UTF-8 JSON。") from None
        if _depth_exceeds(text, MAX_DEPTH):
            raise ParseError(f"JSON 嵌套层数不能超过 {MAX_DEPTH} 层。")
        import io

        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except ParseError:
            # DRF's text carries the json module's English reason; say where it broke, in Chinese.
            raise ParseError(f"请求内容不是有效的 JSON{_where_broken(text)}。") from None
        return _clean(data)


def _where_broken(text: str) -> str:
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return f"（第 {e.lineno} 行第 {e.colno} 列有误）"
    except ValueError:
        pass
    return ""
