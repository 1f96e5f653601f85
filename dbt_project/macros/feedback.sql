{#- Field-feedback themes (docs/learnings.md): the windows and the escalation rule of the
    feedback models, and the text helpers their classification uses. -#}

{#- A loss counts as a rep's recent feedback for this many weeks, the week itself included
    (salesprep.packets.marts.FEEDBACK_WEEKS names the same weeks in the packets' text). -#}
{% macro feedback_weeks() -%}
    {{ return(4) }}
{%- endmacro %}

{#- Shared feedback recorded for this many weeks before a week reaches its digest
    (salesprep.packets.marts.DIGEST_WEEKS). -#}
{% macro digest_weeks() -%}
    {{ return(4) }}
{%- endmacro %}

{#- A theme with someone to take it to is escalated from this many mentions on. -#}
{% macro escalate_min_mentions() -%}
    {{ return(2) }}
{%- endmacro %}

{#- Whether a theme is escalated: it has someone to take it to (`escalate_to`) and `count`
    reached the escalation minimum. What counts is the caller's: a rep's or a team's lost deals
    (next steps never escalate), the digest's losses and shared feedback together. -#}
{% macro is_escalated(escalate_to, count) -%}
    coalesce({{ escalate_to }} is not null and {{ count }} >= {{ escalate_min_mentions() }}, false)
{%- endmacro %}

{#- Whether the text expression names the keyword column (a lowercase substring). -#}
{% macro names_keyword(text_expr, keyword_column) -%}
    lower({{ text_expr }}) like '%' || {{ keyword_column }} || '%'
{%- endmacro %}

{#- The text expression with a capital first letter: how a theme written in a learnings file
    reads as a label. -#}
{% macro capitalized(text_expr) -%}
    upper(substr({{ text_expr }}, 1, 1)) || substr({{ text_expr }}, 2)
{%- endmacro %}

{#- The text without the whitespace around it; a text that is nothing but whitespace becomes
    ''. Reps type loss reasons and next steps by hand: a blank one says nothing. -#}
{% macro strip_whitespace(text_expr) -%}
    {{ return(adapter.dispatch('strip_whitespace', 'salesprep')(text_expr)) }}
{%- endmacro %}

{% macro default__strip_whitespace(text_expr) -%}
    regexp_replace({{ text_expr }}, '^[[:space:]]+|[[:space:]]+$', '', 'g')
{%- endmacro %}

{#- RE2: \s plus the other characters Unicode counts as whitespace (vertical tab, the
    separators U+001C..U+001F, NEL, and the Z categories), as Python's str.strip does. -#}
{#- Snowflake's regexp_replace replaces every match by default; its 4th argument is a position. -#}
{% macro snowflake__strip_whitespace(text_expr) -%}
    regexp_replace({{ text_expr }}, '^[[:space:]]+|[[:space:]]+$', '')
{%- endmacro %}

{#- BigQuery's RE2, as DuckDB's below; it replaces every match (no flags argument). -#}
{% macro bigquery__strip_whitespace(text_expr) -%}
    regexp_replace(
        {{ text_expr }},
        r'^[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+|[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+$',
        ''
    )
{%- endmacro %}

{% macro duckdb__strip_whitespace(text_expr) -%}
    regexp_replace(
        {{ text_expr }},
        '^[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+|[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+$',
        '',
        'g'
    )
{%- endmacro %}
