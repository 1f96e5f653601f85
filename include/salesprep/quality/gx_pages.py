"""The page view salesprep's Great Expectations Data Docs are rendered with: GX's own, except
that text it would put into a page as raw HTML is escaped.

GX 1.x escapes the parameters of its sentence templates, but writes plain strings of a table
cell (the unexpected values a check quotes, such as a `StageName` straight from the CRM) into
the page as they are: a stage named `<img src=x onerror=...>` runs script in every manager's
browser that opens the quality report. Every GX-generated piece of markup is a content block
(a dict with a `content_block_type`) or a template parameter; plain strings are data, so this
view escapes them all. The site builder is pointed at it through its documented
`site_section_builders.<section>.view` setting (`gx.run_checkpoints`).
"""

from __future__ import annotations

import html
from typing import Any

from great_expectations.render.components import RenderedComponentContent
from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import pass_context


def _is_block(value: Any) -> bool:
    return isinstance(value, RenderedComponentContent) or (
        isinstance(value, dict) and "content_block_type" in value
    )


def _escaped(value: Any) -> Any:
    """Plain data as escaped text; content blocks (GX's own markup) and None untouched."""
    if value is None or _is_block(value) or isinstance(value, list):
        return value
    return html.escape(str(value))


class EscapingPageView(DefaultJinjaPageView):
    """DefaultJinjaPageView with plain strings (and other non-block values) escaped."""

    @pass_context  # like GX's own: Jinja hands the filter its context
    def render_content_block(  # type: ignore[override]
        self,
        jinja_context: Any,
        content_block: Any,
        index: Any = None,
        content_block_id: Any = None,
        render_to_markdown: bool = False,
    ) -> Any:
        if isinstance(content_block, list):
            content_block = [_escaped(item) for item in content_block]
        else:
            content_block = _escaped(content_block)
        return super().render_content_block(
            jinja_context,
            content_block,
            index=index,
            content_block_id=content_block_id,
            render_to_markdown=render_to_markdown,
        )
