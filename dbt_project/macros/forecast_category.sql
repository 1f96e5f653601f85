{#- A forecast category as the Opportunity field shows it. OpportunityHistory.ForecastCategory
    holds the API values (BestCase, Forecast), Opportunity.ForecastCategoryName the labels
    (Best Case, Commit); Omitted, Pipeline and Closed are the same in both. Empty is null. -#}
{% macro forecast_category_label(column) -%}
    case nullif(trim({{ column }}), '')
        when 'BestCase' then 'Best Case'
        when 'Forecast' then 'Commit'
        else nullif(trim({{ column }}), '')
    end
{%- endmacro %}
