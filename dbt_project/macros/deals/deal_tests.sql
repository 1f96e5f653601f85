{#- Generic data tests of the deal marts (no dbt packages: the project installs nothing). -#}

{#- Every row satisfies the boolean SQL `expression` (rows where it is false or null fail). -#}
{% test deals_expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)

{% endtest %}
