{#- Currency conversion (docs/metrics.md, Currency). Every amount in the marts is
    in the corporate currency: amount / rate, where rate comes from int_currency_rates_combined. -#}

{#- The currency an amount is in: its record's code, the corporate currency when that is empty,
    and always the corporate one in a single-currency org (no CurrencyType rows). `settings` is
    a relation over int_org_settings_resolved. -#}
{% macro amount_currency(code, settings) -%}
    case
        when {{ settings }}.is_multi_currency
            then coalesce({{ code }}, {{ settings }}.corporate_currency)
        else {{ settings }}.corporate_currency
    end
{%- endmacro %}

{#- Join condition: the int_currency_rates_combined row (`rates`) that converts an opportunity
    amount in `currency` whose CloseDate, taken at the same moment as the amount, is
    `close_date`. Dated rows hold from valid_from to valid_to (exclusive); static and corporate
    rows hold always. A null close date matches no dated row (no rate). -#}
{% macro opportunity_rate_matches(rates, currency, close_date) -%}
    {{ rates }}.for_opportunities
    and {{ rates }}.iso_code = {{ currency }}
    and ({{ rates }}.valid_from is null or {{ rates }}.valid_from <= {{ close_date }})
    and ({{ rates }}.valid_to is null or {{ close_date }} < {{ rates }}.valid_to)
{%- endmacro %}
