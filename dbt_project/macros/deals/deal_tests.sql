{#- Generic data tests of the deal marts (no dbt packages: the project installs nothing). -#}

{#- No two rows share the same values of `combination_of_columns` (a composite primary key). -#}
{% test deals_unique_combination(model, combination_of_columns) %}

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as duplicate_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

{% endtest %}

{#- Every row satisfies the boolean SQL `expression` (rows where it is false or null fail). -#}
{% test deals_expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)

{% endtest %}
