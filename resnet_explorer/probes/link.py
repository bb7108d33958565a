"""A probe's settings as a short, sealed link token (``p1.``), like a design's ``v1.`` token.

The Probe page puts its picks and settings in the address bar (``?probe=p1....``) so that a
shared link opens the same probe. `encode` packs a flat mapping of JSON values; `decode` unpacks
one, refusing anything damaged, truncated, oversized or followed by extra bytes with one clear
message. What the values mean (and which are allowed) is the page's business.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

from resnet_explorer import jsonio
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
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode()


def decode(token: str) -> dict[str, Any]:
    """The settings of a token made by `encode`; `ProbeError` when it is not one."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        raise ProbeError(f"{DAMAGED} (it does not start with {PREFIX})")
    body = token[len(PREFIX) :]
    if len(body) > 4 * MAX_BYTES:
        raise ProbeError(f"{DAMAGED} (too long)")
    try:
        packed = base64.b64decode(body + "=" * (-len(body) % 4), b"-_", validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        raise ProbeError(DAMAGED) from None
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise ProbeError(DAMAGED)
    data = jsonio.parse(raw, what="probe link", error=ProbeError)
    if not isinstance(data, dict):
        raise ProbeError(f"{DAMAGED} (it holds no settings)")
    return data
