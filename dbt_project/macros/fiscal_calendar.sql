{#- The fiscal calendar (docs/metrics.md, Quarter). A day's quarter is the custom
    quarter (int_fiscal_quarters_labeled, from Period rows) covering it, else the standard
    quarter of a fiscal year starting on the 1st of month `fiscal_year_start_month`
    (int_org_settings_resolved). The month is a SQL expression here, not a compile-time value:
    it comes from the org's data. -#}

{#- Whole months from the start of the fiscal year to the month of `day` (0..11). -#}
{% macro fiscal_months_into_year(day, start_month) -%}
    mod(cast(extract(month from {{ day }}) as integer) - ({{ start_month }}) + 12, 12)
{%- endmacro %}

{#- The first day of the standard fiscal quarter containing `day`. -#}
{% macro standard_quarter_start(day, start_month) -%}
    {{ add_months(
        "cast(" ~ dbt.date_trunc('month', day) ~ " as date)",
        "-1 * mod(" ~ fiscal_months_into_year(day, start_month) ~ ", 3)"
    ) }}
{%- endmacro %}

{#- The first day of the standard fiscal year containing `day`. -#}
{% macro standard_fiscal_year_start(day, start_month) -%}
    {{ add_months(
        "cast(" ~ dbt.date_trunc('month', day) ~ " as date)",
        "-1 * " ~ fiscal_months_into_year(day, start_month)
    ) }}
{%- endmacro %}

{#- The standard quarter's number in its fiscal year, 1..4. -#}
{% macro standard_quarter_number(day, start_month) -%}
    (cast(floor({{ fiscal_months_into_year(day, start_month) }} / 3.0) as integer) + 1)
{%- endmacro %}

{#- The name of the standard fiscal year containing `day`: the calendar year it starts in when
    the org sets UsesStartDateAsFiscalYearName, else the year it ends in (Salesforce's default).
    Both are the calendar year when the fiscal year starts in January. -#}
{% macro standard_fiscal_year_name(day, start_month, uses_start_date) -%}
    cast(cast(extract(year from case
        when {{ uses_start_date }} then {{ standard_fiscal_year_start(day, start_month) }}
        else {{ add_months(standard_fiscal_year_start(day, start_month), 11) }}
    end) as integer) as {{ text_type() }})
{%- endmacro %}

{#- Every row of CTE `days` with the fiscal quarter containing its date column `day_column`:
    quarter_start, quarter_end (exclusive), fiscal_year_name, quarter_number, quarter_label
    (`FY<name> Q<n>`) and quarter_source (`period` or `standard`). `settings` is a CTE over
    int_org_settings_resolved and `quarters` one over int_fiscal_quarters_labeled (with
    period_id); the day is unique in `days`. Were custom quarters to overlap (Salesforce
    prevents it), the one that starts last, then the lowest Id, holds the day. -#}
{% macro select_fiscal_quarter(days, day_column, settings, quarters) -%}
    {%- set day = days ~ '.' ~ day_column -%}
    {%- set month = settings ~ '.fiscal_year_start_month' -%}
    select * from (
    select
        {{ days }}.*,
        coalesce({{ quarters }}.quarter_start, {{ standard_quarter_start(day, month) }})
            as quarter_start,
        coalesce(
            {{ quarters }}.quarter_end,
            {{ add_months(standard_quarter_start(day, month), 3) }}
        ) as quarter_end,
        coalesce(
            {{ quarters }}.fiscal_year_name,
            {{ standard_fiscal_year_name(
                day, month, settings ~ '.uses_start_date_as_fiscal_year_name'
            ) }}
        ) as fiscal_year_name,
        coalesce({{ quarters }}.quarter_number, {{ standard_quarter_number(day, month) }})
            as quarter_number,
        case when {{ quarters }}.quarter_start is null then 'standard' else 'period' end
            as quarter_source,
        row_number() over (
            partition by {{ day }}
            order by {{ quarters }}.quarter_start desc, {{ quarters }}.period_id
        ) as quarter_match_rank
    from {{ days }}
    cross join {{ settings }}
    left join {{ quarters }}
        on
            {{ day }} >= {{ quarters }}.quarter_start
            and {{ day }} < {{ quarters }}.quarter_end
    ) as matched
    where quarter_match_rank = 1
{%- endmacro %}

{#- The label of a quarter from its fiscal year name and number: `FY2027 Q4`. -#}
{% macro fiscal_quarter_label(fiscal_year_name, quarter_number) -%}
    cast(
        'FY' || {{ fiscal_year_name }} || ' Q' || cast({{ quarter_number }} as {{ text_type() }})
        as {{ text_type() }}
    )
{%- endmacro %}
