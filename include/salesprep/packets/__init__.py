"""Packets: one weekly 1:1 prep packet per manager–rep pair, built from the marts, rendered to
HTML, Markdown and JSON, and published per week into the shared folder. One way through the
modules: marts → context (with discussion, agenda, digest) → render → publish; layout names
the files and slugs every stage agrees on."""

from salesprep.packets.context import build_contexts
from salesprep.packets.layout import slugify
from salesprep.packets.marts import connect_warehouse
from salesprep.packets.model import Lesson, PacketContext
from salesprep.packets.publish import WeekManifest, publish_rendered_week, publish_week
from salesprep.packets.render import (
    RenderedPacket,
    RenderResult,
    read_rendered,
    render_packet,
    render_week,
    write_rendered,
)

__all__ = [
    "Lesson",
    "PacketContext",
    "RenderResult",
    "RenderedPacket",
    "WeekManifest",
    "build_contexts",
    "connect_warehouse",
    "publish_rendered_week",
    "publish_week",
    "read_rendered",
    "render_packet",
    "render_week",
    "slugify",
    "write_rendered",
]
