{#- The weekly snapshots earlier runs appended; none on a first build. A build never reads the
    snapshots it writes itself (the snapshot model runs after this one). -#}
{%- set snapshot_relation = weekly_snapshots_relation() -%}
{#- Snapshots written before the currency and forecast-category columns existed lack them:
    their amount is then the record's own (unconverted) amount, as the run kept it. -#}
{%- set snapshot_columns = relation_column_names(snapshot_relation) -%}

with

opportunities as (

    select
        opportunity_id,
        stage_name,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category_name,
        is_closed,
        is_won,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

history as (

    select
        opportunity_id,
        stage_name,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category,
        created_at,
        next_created_at,
        stage_run_entered_at
    from {{ ref('int_opportunity_histories_sequenced') }}

),

stages as (

    select
        stage_name,
        stage_label,
        sort_order,
        stage_position,
        is_closed,
        is_won
    from {{ ref('int_opportunity_stages_ordered') }}

),

weeks as (

    select
        week_start_at,
        week_end_at
    from {{ ref('int_weeks_enumerated') }}

),

org_settings as (

    select
        corporate_currency,
        is_multi_currency
    from {{ ref('int_org_settings_resolved') }}

),

currency_rates as (

    select
        iso_code,
        valid_from,
        valid_to,
        conversion_rate,
        for_opportunities
    from {{ ref('int_currency_rates_combined') }}
    where for_opportunities

),

-- Week boundaries are consecutive Mondays: boundary k is week_start of the k-th week (0-based),
-- and boundary N (the number of weeks) is week_end of the last one.
week_bounds as (

    select
        min(week_start_at) as first_boundary_at,
        cast(count(*) as integer) as week_count
    from weeks

),

-- A stage value is looked up by ApiName first, then by label (some exports hold the label).
stage_lookup as (

    select
        stage_key,
        sort_order,
        stage_position,
        is_closed,
        is_won
    from (
        select
            candidates.*,
            row_number() over (
                partition by candidates.stage_key
                order by candidates.match_priority, candidates.stage_position
            ) as match_rank
        from (
            select
                stage_name as stage_key,
                1 as match_priority,
                sort_order,
                stage_position,
                is_closed,
                is_won
            from stages
            union all
            select
                stage_label as stage_key,
                2 as match_priority,
                sort_order,
                stage_position,
                is_closed,
                is_won
            from stages
            where stage_label is not null
        ) as candidates
    ) as ranked
    where match_rank = 1

),

first_history as (

    select
        opportunity_id,
        min(created_at) as first_history_at
    from history
    group by opportunity_id

),

-- Where Salesforce's history no longer reaches (it expires; docs/decisions.md, "Weekly
-- snapshots"): the state an earlier run saw at a week end, for week ends up to the deal's
-- earliest retained history row. A snapshot taken at instant s acts as a history row written
-- one second before s, so it is in effect at s and the boundary arithmetic stays the same.
-- With complete history (the first row at CreatedDate) no snapshot qualifies.
snapshot_rows as (

    {% if snapshot_relation is not none -%}
    {%- set snapshot_currency = 'snapshots.currency_iso_code'
        if 'currency_iso_code' in snapshot_columns else 'cast(null as ' ~ text_type() ~ ')' -%}
    select
        snapshots.opportunity_id,
        {{ deals_second_before('snapshots.snapshot_at') }} as valid_from,
        snapshots.stage_name,
        {% if 'amount_original' in snapshot_columns -%}
        snapshots.amount_original,
        {%- else -%}
        snapshots.amount as amount_original,
        {%- endif %}
        {{ snapshot_currency }} as snapshot_currency,
        opportunities.currency_iso_code as opportunity_currency,
        snapshots.close_date,
        {% if 'forecast_category' in snapshot_columns -%}
        snapshots.forecast_category,
        {%- else -%}
        cast(null as {{ text_type() }}) as forecast_category,
        {%- endif %}
        snapshots.is_closed,
        snapshots.is_won,
        snapshots.stage_entered_at
    from {{ snapshot_relation }} as snapshots
    inner join opportunities
        on snapshots.opportunity_id = opportunities.opportunity_id
    left join first_history
        on snapshots.opportunity_id = first_history.opportunity_id
    where
        snapshots.snapshot_at > opportunities.created_at
        and (
            first_history.first_history_at is null
            or snapshots.snapshot_at <= first_history.first_history_at
        )
    {%- else -%}
    select
        cast(null as {{ text_type() }}) as opportunity_id,
        cast(null as timestamp) as valid_from,
        cast(null as {{ text_type() }}) as stage_name,
        cast(null as {{ double_type() }}) as amount_original,
        cast(null as {{ text_type() }}) as snapshot_currency,
        cast(null as {{ text_type() }}) as opportunity_currency,
        cast(null as date) as close_date,
        cast(null as {{ text_type() }}) as forecast_category,
        cast(null as boolean) as is_closed,
        cast(null as boolean) as is_won,
        cast(null as timestamp) as stage_entered_at
    where 1 = 0
    {%- endif %}

),

-- A snapshot's amount is in its own currency, else the opportunity's current one, like a
-- history row's, and converts again at the rate of its CloseDate, as a history row does.
snapshot_in_currency as (

    select
        snapshot_rows.*,
        {{ amount_currency(
            'coalesce(snapshot_rows.snapshot_currency, snapshot_rows.opportunity_currency)',
            'org_settings'
        ) }} as currency_iso_code
    from snapshot_rows
    cross join org_settings

),

snapshot_states as (

    select
        snapshot_in_currency.opportunity_id,
        snapshot_in_currency.valid_from,
        snapshot_in_currency.stage_name,
        snapshot_in_currency.amount_original,
        snapshot_in_currency.currency_iso_code,
        snapshot_in_currency.close_date,
        snapshot_in_currency.forecast_category,
        snapshot_in_currency.is_closed,
        snapshot_in_currency.is_won,
        snapshot_in_currency.stage_entered_at,
        cast(
            snapshot_in_currency.amount_original / currency_rates.conversion_rate
            as {{ double_type() }}
        ) as amount
    from snapshot_in_currency
    left join currency_rates
        on {{ opportunity_rate_matches(
            'currency_rates',
            'snapshot_in_currency.currency_iso_code',
            'snapshot_in_currency.close_date'
        ) }}

),

snapshot_segments as (

    select
        snapshot_states.opportunity_id,
        snapshot_states.valid_from,
        coalesce(
            lead(snapshot_states.valid_from) over (
                partition by snapshot_states.opportunity_id
                order by snapshot_states.valid_from
            ),
            first_history.first_history_at
        ) as valid_to,
        snapshot_states.stage_name,
        snapshot_states.amount,
        snapshot_states.amount_original,
        snapshot_states.currency_iso_code,
        snapshot_states.close_date,
        -- An empty forecast category in the state is the current record's (docs/metrics.md).
        coalesce(snapshot_states.forecast_category, opportunities.forecast_category_name)
            as forecast_category,
        snapshot_states.is_closed as record_is_closed,
        snapshot_states.is_won as record_is_won,
        snapshot_states.stage_entered_at,
        'snapshot' as state_source
    from snapshot_states
    inner join opportunities
        on snapshot_states.opportunity_id = opportunities.opportunity_id
    left join first_history
        on snapshot_states.opportunity_id = first_history.opportunity_id

),

first_snapshots as (

    select
        opportunity_id,
        min(valid_from) as first_snapshot_at
    from snapshot_states
    group by opportunity_id

),

-- Before the first history row (or without any), and before any snapshot, the current record
-- is the state (docs/metrics.md).
record_segments as (

    select
        opportunities.opportunity_id,
        opportunities.created_at as valid_from,
        coalesce(first_snapshots.first_snapshot_at, first_history.first_history_at) as valid_to,
        opportunities.stage_name,
        opportunities.amount,
        opportunities.amount_original,
        opportunities.currency_iso_code,
        opportunities.close_date,
        opportunities.forecast_category_name as forecast_category,
        opportunities.is_closed as record_is_closed,
        opportunities.is_won as record_is_won,
        opportunities.created_at as stage_entered_at,
        'opportunity' as state_source
    from opportunities
    left join first_history
        on opportunities.opportunity_id = first_history.opportunity_id
    left join first_snapshots
        on opportunities.opportunity_id = first_snapshots.opportunity_id
    where
        opportunities.created_at is not null
        and (
            coalesce(first_snapshots.first_snapshot_at, first_history.first_history_at) is null
            or opportunities.created_at
            < coalesce(first_snapshots.first_snapshot_at, first_history.first_history_at)
        )

),

-- A history row holds from its CreatedDate (exclusive) to the next row's (inclusive); rows
-- sharing a CreatedDate leave empty segments, dropped here.
history_segments as (

    select
        history.opportunity_id,
        history.created_at as valid_from,
        history.next_created_at as valid_to,
        history.stage_name,
        history.amount,
        history.amount_original,
        history.currency_iso_code,
        history.close_date,
        -- An empty ForecastCategory on the row is the current record's (docs/metrics.md).
        coalesce(history.forecast_category, opportunities.forecast_category_name)
            as forecast_category,
        false as record_is_closed,
        false as record_is_won,
        history.stage_run_entered_at as stage_entered_at,
        'opportunity_history' as state_source
    from history
    inner join opportunities
        on history.opportunity_id = opportunities.opportunity_id
    where history.next_created_at is null or history.created_at < history.next_created_at

),

segments as (

    select * from record_segments
    union all
    select * from snapshot_segments
    union all
    select * from history_segments

),

with_stage as (

    select
        segments.opportunity_id,
        segments.valid_from,
        segments.valid_to,
        segments.stage_name,
        stage_lookup.sort_order,
        stage_lookup.stage_position,
        segments.amount,
        segments.amount_original,
        segments.currency_iso_code,
        segments.close_date,
        segments.forecast_category,
        coalesce(stage_lookup.is_closed, segments.record_is_closed) as is_closed,
        coalesce(stage_lookup.is_won, segments.record_is_won) as is_won,
        segments.stage_entered_at,
        segments.state_source
    from segments
    left join stage_lookup
        on segments.stage_name = stage_lookup.stage_key

),

-- The week boundaries a segment covers: the instants t with valid_from < t <= valid_to.
with_boundaries as (

    select
        with_stage.*,
        case
            when with_stage.valid_from < week_bounds.first_boundary_at then 0
            else cast(floor(
                    (
                        {{ deals_epoch('with_stage.valid_from') }}
                        - {{ deals_epoch('week_bounds.first_boundary_at') }}
                    ) / 604800
                ) as integer) + 1
        end as boundary_first,
        case
            when with_stage.valid_to is null then week_bounds.week_count
            else least(
                    week_bounds.week_count,
                    cast(floor(
                        (
                            {{ deals_epoch('with_stage.valid_to') }}
                            - {{ deals_epoch('week_bounds.first_boundary_at') }}
                        ) / 604800
                    ) as integer)
                )
        end as boundary_last
    from with_stage
    cross join week_bounds

),

final as (

    select
        opportunity_id,
        valid_from,
        valid_to,
        stage_name,
        sort_order,
        stage_position,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category,
        is_closed,
        is_won,
        stage_entered_at,
        state_source,
        boundary_first,
        boundary_last
    from with_boundaries

)

select * from final
