{%- set state_columns = [
    'stage_name', 'sort_order', 'stage_position', 'amount', 'amount_original',
    'currency_iso_code', 'close_date', 'forecast_category', 'is_closed', 'is_won',
    'stage_entered_at'
] -%}

with

segments as (

    select
        opportunity_id,
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
        valid_to,
        boundary_first,
        boundary_last
    from {{ ref('int_opportunity_states_segmented') }}

),

weeks as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        week_start_at,
        week_end_at
    from {{ ref('int_weeks_enumerated') }}

),

opportunities as (

    select
        opportunity_id,
        owner_id,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

indexed_weeks as (

    select
        *,
        cast(row_number() over (order by week_start) - 1 as integer) as week_index
    from weeks

),

-- window_first_index: the first week an incremental run rebuilds (0 in a full build); only
-- boundaries from there on are expanded, so a weekly run does not redo every past week.
week_bounds as (

    select
        cast(count(*) as integer) as week_count,
        cast(
            coalesce(sum(case when not ({{ in_build_window('week') }}) then 1 else 0 end), 0)
            as integer
        ) as window_first_index
    from weeks

),

-- Which week boundaries need a state. An open segment: every boundary it covers. A closed
-- segment: only its first boundary (the week it closed in) and its last one (the week a
-- reopen started in); in between the deal is closed at both ends of a week and has no movement.
-- This keeps the grain at "weeks the deal is live", not opportunities x all weeks.
open_points as (

    select
        segments.opportunity_id,
        {% for column in state_columns %}segments.{{ column }},
        {% endfor -%}
        {{ deals_int_series(
            'greatest(segments.boundary_first, week_bounds.window_first_index)',
            'segments.boundary_last'
        ) }} as boundary_index
    from segments
    cross join week_bounds
    {{ deals_int_series_join(
        'greatest(segments.boundary_first, week_bounds.window_first_index)',
        'segments.boundary_last'
    ) }}
    where
        not segments.is_closed
        and segments.boundary_first <= segments.boundary_last
        and segments.boundary_last >= week_bounds.window_first_index

),

closed_first_points as (

    select
        opportunity_id,
        {% for column in state_columns %}{{ column }},
        {% endfor -%}
        boundary_first as boundary_index
    from segments
    where is_closed and boundary_first <= boundary_last

),

closed_last_points as (

    select
        opportunity_id,
        {% for column in state_columns %}{{ column }},
        {% endfor -%}
        boundary_last as boundary_index
    from segments
    where is_closed and valid_to is not null and boundary_first < boundary_last

),

-- A week's states are its two boundaries, so the window needs boundaries from its first on.
points as (

    select all_points.*
    from (
        select * from open_points
        union all
        select * from closed_first_points
        union all
        select * from closed_last_points
    ) as all_points
    cross join week_bounds
    where all_points.boundary_index >= week_bounds.window_first_index

),

first_points as (

    select
        opportunity_id,
        min(boundary_first) as first_boundary
    from segments
    group by opportunity_id

),

start_states as (

    select
        points.*,
        points.boundary_index as week_index
    from points
    cross join week_bounds
    where points.boundary_index < week_bounds.week_count

),

end_states as (

    select
        points.*,
        points.boundary_index - 1 as week_index
    from points
    where points.boundary_index >= 1

),

paired as (

    select
        end_states.opportunity_id,
        end_states.week_index,
        start_states.opportunity_id is not null as has_start_point,
        {% for column in state_columns -%}
        start_states.{{ column }} as {{ column }}_start,
        end_states.{{ column }} as {{ column }}_end,
        {% endfor -%}
        first_points.first_boundary
    from end_states
    left join start_states
        on
            end_states.opportunity_id = start_states.opportunity_id
            and end_states.week_index = start_states.week_index
    inner join first_points
        on end_states.opportunity_id = first_points.opportunity_id

),

-- Kept: open at week_start, open at week_end, or not yet existing at week_start (created in
-- the week). A missing start point after the first boundary means "closed since an earlier
-- week": closed at both ends, so dropped.
live as (

    select
        *,
        has_start_point as exists_at_start
    from paired
    where
        (has_start_point and (not is_closed_start or not is_closed_end))
        or (not has_start_point and week_index < first_boundary)

),

final as (

    select
        live.opportunity_id || '-' || indexed_weeks.week as opportunity_week_key,
        live.opportunity_id,
        opportunities.owner_id,
        indexed_weeks.week,
        indexed_weeks.week_start,
        indexed_weeks.week_end,
        indexed_weeks.quarter_start,
        indexed_weeks.quarter_end,
        indexed_weeks.week_start_at,
        indexed_weeks.week_end_at,
        opportunities.created_at as opportunity_created_at,
        live.exists_at_start,
        live.stage_name_start as stage_start,
        live.sort_order_start,
        live.stage_position_start,
        live.amount_start,
        live.amount_original_start,
        live.currency_iso_code_start,
        live.close_date_start,
        live.forecast_category_start,
        live.is_closed_start,
        live.is_won_start,
        coalesce(live.exists_at_start and not live.is_closed_start, false) as is_open_start,
        live.stage_entered_at_start,
        live.stage_name_end as stage_end,
        live.sort_order_end,
        live.stage_position_end,
        live.amount_end,
        live.amount_original_end,
        live.currency_iso_code_end,
        live.close_date_end,
        live.forecast_category_end,
        live.is_closed_end,
        live.is_won_end,
        not live.is_closed_end as is_open_end,
        live.stage_entered_at_end
    from live
    inner join indexed_weeks
        on live.week_index = indexed_weeks.week_index
    inner join opportunities
        on live.opportunity_id = opportunities.opportunity_id
    where {{ in_build_window('indexed_weeks.week') }}

)

select * from final
