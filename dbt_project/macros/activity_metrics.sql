{#- The 8 activity metrics of docs/metrics.md, in packet order. -#}
{% macro activity_metrics() -%}
    {{ return([
        'calls',
        'emails',
        'meetings',
        'opportunities_created',
        'pipeline_created',
        'closed_won_count',
        'closed_won_amount',
        'closed_lost_count',
    ]) }}
{%- endmacro %}
