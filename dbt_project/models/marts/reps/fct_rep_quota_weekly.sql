{%- set window_weeks = var('underperformance_window_weeks') | int -%}

with

pairs as (

    select rep_id from {{ ref('dim_sales_pairs') }}

),

calendar as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number,
        quarter_label
    from {{ ref('int_weeks_enumerated') }}

),

org_settings as (

    select
        corporate_currency,
        is_multi_currency,
        fiscal_year_start_month,
        uses_start_date_as_fiscal_year_name
    from {{ ref('int_org_settings_resolved') }}

),

fiscal_quarters as (

    select
        period_id,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number
    from {{ ref('int_fiscal_quarters_labeled') }}

),

currency_rates as (

    select
        iso_code,
        conversion_rate
    from {{ ref('int_currency_rates_combined') }}
    where for_quotas

),

forecasting_quotas as (

    select
        forecasting_quota_id,
        quota_owner_id,
        start_date,
        quota_amount,
        currency_iso_code
    from {{ ref('stg_salesforce__forecasting_quotas') }}

),

csv_quotas as (

    select
        rep_id,
        quarter_start,
        quota_amount
    from {{ ref('stg_sales_ops__quotas') }}

),

opportunities as (

    select
        owner_id,
        amount,
        close_date,
        is_won
    from {{ ref('int_opportunities_scoped') }}

),

-- Opportunity state as of week_end (docs/metrics.md), shared with the deal marts.
opportunity_states as (

    select
        owner_id,
        week,
        amount_end as amount,
        close_date_end as close_date,
        forecast_category_end as forecast_category,
        is_open_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where {{ in_build_window('week') }}

),

first_week as (

    select min(week_start) as first_week_start from calendar

),

-- "3 of the last 4 weeks" counts calendar weeks, also those before the first week with any
-- data (nothing was won then): the weeks just before int_weeks_enumerated feed the window,
-- never a row.
lead_in_starts as (

    select
        {{ add_days(
            'first_week.first_week_start', '-7 * ' ~ int_series_value('lead_in_weeks')
        ) }} as week_start
    from first_week
    {{ int_series_join(1, window_weeks - 1, 'lead_in_weeks') }}
    where first_week.first_week_start is not null

),

lead_in_days as (

    select
        cast({{ iso_week_label('week_start') }} as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        {{ add_days('week_start', 7) }} as week_end,
        {{ add_days('week_start', 6) }} as last_day
    from lead_in_starts

),

-- The quarter of a lead-in week follows the same fiscal calendar as int_weeks_enumerated.
lead_in as (

    {{ select_fiscal_quarter('lead_in_days', 'last_day', 'org_settings', 'fiscal_quarters') }}

),

weeks as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number,
        quarter_label,
        false as is_lead_in
    from calendar

    union all

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number,
        {{ fiscal_quarter_label('fiscal_year_name', 'quarter_number') }} as quarter_label,
        true as is_lead_in
    from lead_in

),

-- The weeks before the window count towards the rebuilt weeks' weeks_below_pacing.
window_weeks as (

    select * from weeks
    where {{ on_or_after_window_start('week_start', window_weeks - 1) }}

),

-- ForecastingQuota converts at the static CurrencyType rate of its own currency, never a dated
-- one (docs/metrics.md, Currency); a row without a rate makes the rep's quarter quota unknown.
forecasting_quotas_in_currency as (

    select
        forecasting_quotas.quota_owner_id,
        forecasting_quotas.start_date,
        forecasting_quotas.quota_amount,
        {{ amount_currency('forecasting_quotas.currency_iso_code', 'org_settings') }}
            as currency_iso_code
    from forecasting_quotas
    cross join org_settings

),

converted_forecasting_quotas as (

    select
        forecasting_quotas_in_currency.quota_owner_id as rep_id,
        forecasting_quotas_in_currency.start_date,
        forecasting_quotas_in_currency.quota_amount / currency_rates.conversion_rate
            as quota_amount,
        currency_rates.conversion_rate is null as is_without_rate
    from forecasting_quotas_in_currency
    left join currency_rates
        on forecasting_quotas_in_currency.currency_iso_code = currency_rates.iso_code

),

-- The org's ForecastingQuota rows when it has any; otherwise the sales-ops CSV (amounts in the
-- corporate currency). Never a mix, so one source of truth decides every rep's quota.
quotas as (

    select
        rep_id,
        start_date,
        quota_amount,
        is_without_rate
    from converted_forecasting_quotas

    union all

    select
        rep_id,
        quarter_start as start_date,
        quota_amount,
        false as is_without_rate
    from csv_quotas
    where not exists (select 1 from forecasting_quotas)

),

rep_weeks as (

    select
        pairs.rep_id,
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        weeks.quarter_start,
        weeks.quarter_end,
        weeks.fiscal_year_name,
        weeks.quarter_number,
        weeks.quarter_label,
        -- week_end never passes the quarter end (the quarter holds the week's last day),
        -- but the cap keeps the rule explicit.
        case
            when weeks.week_end < weeks.quarter_end then weeks.week_end
            else weeks.quarter_end
        end as measured_to,
        weeks.is_lead_in
    from pairs
    cross join window_weeks as weeks

),

-- Every quota row whose StartDate falls in the quarter: one quarterly row, or the three
-- monthly rows of orgs that forecast by month.
quarter_quotas as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        sum(quotas.quota_amount) as quota_amount,
        count(*) as quota_rows,
        sum(case when quotas.is_without_rate then 1 else 0 end) as quota_rows_without_rate
    from rep_weeks
    inner join quotas
        on
            rep_weeks.rep_id = quotas.rep_id
            and quotas.start_date >= rep_weeks.quarter_start
            and quotas.start_date < rep_weeks.quarter_end
    group by rep_weeks.rep_id, rep_weeks.week

),

won_to_date as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        sum(coalesce(opportunities.amount, 0)) as won_to_date
    from rep_weeks
    inner join opportunities
        on rep_weeks.rep_id = opportunities.owner_id
            and opportunities.is_won
            and rep_weeks.quarter_start <= opportunities.close_date
            and rep_weeks.measured_to > opportunities.close_date
    group by rep_weeks.rep_id, rep_weeks.week

),

-- Deals forecast as Omitted are not pipeline, as in Salesforce forecasts.
open_pipeline as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        sum(coalesce(opportunity_states.amount, 0)) as open_pipeline
    from rep_weeks
    inner join opportunity_states
        on rep_weeks.rep_id = opportunity_states.owner_id
            and rep_weeks.week = opportunity_states.week
            and opportunity_states.is_open_end
            and coalesce(opportunity_states.forecast_category, '') <> 'Omitted'
            and rep_weeks.week_end <= opportunity_states.close_date
            and rep_weeks.quarter_end > opportunity_states.close_date
    group by rep_weeks.rep_id, rep_weeks.week

),

measured as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        rep_weeks.week_start,
        rep_weeks.week_end,
        rep_weeks.quarter_start,
        rep_weeks.quarter_end,
        rep_weeks.fiscal_year_name,
        rep_weeks.quarter_number,
        rep_weeks.quarter_label,
        rep_weeks.is_lead_in,
        -- A zero quota is no quota: attainment against 0 has no meaning. A quota with a row in
        -- a currency without a rate is unknown, never a partial sum.
        case
            when
                coalesce(quarter_quotas.quota_rows_without_rate, 0) = 0
                and quarter_quotas.quota_amount > 0
                then quarter_quotas.quota_amount
        end as quota_amount,
        coalesce(quarter_quotas.quota_rows, 0) as quota_rows,
        coalesce(quarter_quotas.quota_rows_without_rate, 0) as quota_rows_without_rate,
        cast(coalesce(won_to_date.won_to_date, 0) as {{ double_type() }}) as won_to_date,
        cast(coalesce(open_pipeline.open_pipeline, 0) as {{ double_type() }}) as open_pipeline,
        cast(
            {{ days_between('rep_weeks.quarter_start', 'rep_weeks.measured_to') }}
            as {{ double_type() }}
        ) / {{ days_between('rep_weeks.quarter_start', 'rep_weeks.quarter_end') }} as elapsed
    from rep_weeks
    left join quarter_quotas
        on rep_weeks.rep_id = quarter_quotas.rep_id
            and rep_weeks.week = quarter_quotas.week
    left join won_to_date
        on rep_weeks.rep_id = won_to_date.rep_id
            and rep_weeks.week = won_to_date.week
    left join open_pipeline
        on rep_weeks.rep_id = open_pipeline.rep_id
            and rep_weeks.week = open_pipeline.week

),

ratios as (

    select
        *,
        won_to_date / quota_amount as attainment,
        won_to_date / quota_amount / elapsed as pacing,
        case
            when quota_amount > won_to_date then open_pipeline / (quota_amount - won_to_date)
        end as coverage
    from measured

),

flagged as (

    select
        *,
        pacing < {{ var('underperformance_pacing') }} as is_below_pacing
    from ratios

),

-- Weeks without a quota (or before the first week with data) never count as below pacing.
windowed as (

    select
        *,
        sum(case when is_below_pacing then 1 else 0 end) over (
            partition by rep_id
            order by week_start
            rows between {{ window_weeks - 1 }} preceding and current row
        ) as weeks_below_pacing
    from flagged

),

final as (

    select
        rep_id,
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        cast(fiscal_year_name as {{ text_type() }}) as fiscal_year_name,
        cast(quarter_number as integer) as quarter_number,
        cast(quarter_label as {{ text_type() }}) as quarter_label,
        cast(quota_amount as {{ double_type() }}) as quota_amount,
        cast(quota_rows as integer) as quota_rows,
        cast(quota_rows_without_rate as integer) as quota_rows_without_rate,
        won_to_date,
        cast(attainment as {{ double_type() }}) as attainment,
        cast(elapsed as {{ double_type() }}) as elapsed,
        cast(pacing as {{ double_type() }}) as pacing,
        open_pipeline,
        cast(coverage as {{ double_type() }}) as coverage,
        is_below_pacing,
        cast(weeks_below_pacing as integer) as weeks_below_pacing,
        weeks_below_pacing >= {{ var('underperformance_weeks') }}
            as performance_conversation_recommended
    from windowed
    where
        not is_lead_in
        and {{ in_build_window('week') }}

)

select * from final
