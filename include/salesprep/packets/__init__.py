"""Packets: one weekly 1:1 prep packet per manager–rep pair, built from the marts, rendered to
HTML, Markdown and JSON, and published per week into the shared folder."""

from salesprep.packets.batch import RenderResult, read_rendered, render_week, write_rendered
from salesprep.packets.context import build_contexts, connect_warehouse
from salesprep.packets.model import Lesson, PacketContext
from salesprep.packets.publish import WeekManifest, publish_rendered_week, publish_week, slugify
from salesprep.packets.render import RenderedPacket, render_packet

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
