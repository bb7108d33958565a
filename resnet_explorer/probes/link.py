"""A probe's settings as a short, sealed link token (``p1.``), packed as a design's ``v1.`` token
is (`design.pack_token`).

The Probe page puts its picks and settings in the address bar (``?probe=p1....``) so that a
shared link opens the same probe. `encode` packs a flat mapping of JSON values; `decode` unpacks
one, refusing anything damaged, truncated, oversized or followed by extra bytes with one clear
message. What the values mean (and which are allowed) is the page's business.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from resnet_explorer import jsonio
from resnet_explorer.design import TokenError, pack_token, unpack_token
from resnet_explorer.probes.errors import ProbeError

URL_PARAM = "probe"
"""The query parameter of the Probe page that holds the token."""
PREFIX = "p1."
MAX_BYTES = 8192
DAMAGED = "this probe link is damaged or incomplete"


def encode(settings: Mapping[str, Any]) -> str:
    """``settings`` (text keys, JSON values) as a URL-safe token."""
    raw = json.dumps(dict(settings), sort_keys=True, separators=(",", ":")).encode()
    if len(raw) > MAX_BYTES:
        raise ProbeError(f"probe settings are {len(raw):,} bytes; a link holds {MAX_BYTES:,}")
    return pack_token(PREFIX, raw)


def decode(token: str) -> dict[str, Any]:
    """The settings of a token made by `encode`; `ProbeError` when it is not one."""
    try:
        raw = unpack_token(token, PREFIX, MAX_BYTES)
    except TokenError as exc:
        why = {"prefix": f" (it does not start with {PREFIX})", "length": " (too long)"}
        raise ProbeError(DAMAGED + why.get(exc.problem, "")) from None
    data = jsonio.parse(raw, what="probe link", error=ProbeError)
    if not isinstance(data, dict):
        raise ProbeError(f"{DAMAGED} (it holds no settings)")
    return data
