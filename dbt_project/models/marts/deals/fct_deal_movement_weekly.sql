with

states as (

    select
        opportunity_week_key,
        opportunity_id,
        week,
        week_start,
        week_end,
        week_end_at,
        exists_at_start,
        stage_start,
        sort_order_start,
        is_closed_start,
        is_open_start,
        stage_end,
        sort_order_end,
        amount_end,
        amount_original_end,
        currency_iso_code_end,
        close_date_end,
        forecast_category_end,
        is_won_end,
        is_open_end,
        stage_entered_at_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where {{ in_build_window('week') }}

),

opportunities as (

    select
        opportunity_id,
        opportunity_name,
        account_id,
        owner_id,
        loss_reason,
        next_step,
        record_type_name,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

accounts as (

    select
        account_id,
        account_name,
        industry
    from {{ ref('stg_salesforce__accounts') }}

),

stage_thresholds as (

    select
        week,
        stage_name,
        stage_threshold_days
    from {{ ref('int_stage_thresholds_computed_weekly') }}
    where {{ in_build_window('week') }}

),

activity as (

    select
        opportunity_week_key,
        last_activity_date,
        is_activity_logged
    from {{ ref('int_last_activities_joined_weekly') }}
    where {{ in_build_window('week') }}

),

close_date_pushes as (

    select
        push_source,
        opportunity_id,
        pushed_at
    from {{ ref('int_close_dates_pushed') }}

),

-- See the `deal_movement` doc block. A deal created and closed in the same week is won/lost.
classified as (

    select
        *,
        case
            when (is_open_start or not exists_at_start) and not is_open_end
                then case when is_won_end then 'won' else 'lost' end
            when not exists_at_start then 'new'
            when is_closed_start and is_open_end then 'reopened'
            when is_open_start and is_open_end
                then case
                        when sort_order_end > sort_order_start then 'advanced'
                        when sort_order_end < sort_order_start then 'regressed'
                        else 'unchanged'
                    end
        end as movement
    from states

),

-- Pushes in the window, counted per source; the deal's count is the larger of the two, so a
-- change both objects record counts once and an org tracking only one source is served.
pushes_by_source as (

    select
        classified.opportunity_week_key,
        close_date_pushes.push_source,
        count(*) as pushes
    from classified
    inner join close_date_pushes
        on
            classified.opportunity_id = close_date_pushes.opportunity_id
            and close_date_pushes.pushed_at
            >= {{ deals_days_before(
                'classified.week_end_at', deals_rule('close_push_window_days')
            ) }}
            and close_date_pushes.pushed_at < classified.week_end_at
    group by classified.opportunity_week_key, close_date_pushes.push_source

),

pushes as (

    select
        opportunity_week_key,
        max(pushes) as close_date_pushes
    from pushes_by_source
    group by opportunity_week_key

),

measured as (

    select
        classified.*,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.loss_reason,
        opportunities.next_step,
        opportunities.record_type_name,
        opportunities.created_at,
        accounts.account_name,
        accounts.industry,
        {{ deals_whole_days('classified.stage_entered_at_end', 'classified.week_end_at') }}
            as days_in_stage,
        {{ deals_whole_days('opportunities.created_at', 'classified.week_end_at') }}
            as deal_age_days,
        cast(
            coalesce(stage_thresholds.stage_threshold_days, {{ deals_rule('stuck_fallback_days') }})
            as {{ double_type() }}
        ) as stage_threshold_days,
        activity.last_activity_date,
        coalesce(activity.is_activity_logged, false) as is_activity_logged,
        cast(coalesce(pushes.close_date_pushes, 0) as integer) as close_date_pushes_90d
    from classified
    inner join opportunities
        on classified.opportunity_id = opportunities.opportunity_id
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join stage_thresholds
        on
            classified.week = stage_thresholds.week
            and classified.stage_end = stage_thresholds.stage_name
    left join activity
        on classified.opportunity_week_key = activity.opportunity_week_key
    left join pushes
        on classified.opportunity_week_key = pushes.opportunity_week_key
    where classified.movement is not null

),

-- See the `stuck_deal` doc block: the rules apply only to deals open at week_end.
flagged as (

    select
        *,
        coalesce(is_open_end and days_in_stage > stage_threshold_days, false) as is_stage_aging,
        case
            when not is_activity_logged or not is_open_end then null
            else
                deal_age_days > {{ deals_rule('no_activity_days') }}
                and (
                    last_activity_date is null
                    or last_activity_date
                    < {{ add_days('week_end', -1 * deals_rule('no_activity_days')) }}
                )
        end as is_no_activity,
        is_open_end
        and close_date_pushes_90d >= {{ deals_rule('close_push_min_count') }}
            as is_close_date_pushed
    from measured

),

final as (

    select
        opportunity_id,
        week,
        week_start,
        week_end,
        owner_id as rep_id,
        opportunity_name,
        account_id,
        account_name,
        industry,
        amount_end as amount,
        amount_original_end as amount_original,
        cast(currency_iso_code_end as {{ text_type() }}) as currency_original,
        close_date_end as close_date,
        cast(forecast_category_end as {{ text_type() }}) as forecast_category,
        cast(record_type_name as {{ text_type() }}) as record_type,
        created_at,
        stage_start,
        stage_end,
        sort_order_start,
        sort_order_end,
        cast(movement as {{ text_type() }}) as movement,
        is_open_end,
        days_in_stage,
        stage_threshold_days,
        is_stage_aging,
        last_activity_date,
        cast({{ days_between('last_activity_date', 'week_end') }} as integer)
            as days_since_last_activity,
        is_no_activity,
        close_date_pushes_90d,
        is_close_date_pushed,
        is_stage_aging or coalesce(is_no_activity, false) or is_close_date_pushed as is_stuck,
        cast(
            coalesce(
                {{ concat_non_null("','", [
                    "case when is_stage_aging then 'stage_aging' end",
                    "case when is_no_activity then 'no_activity' end",
                    "case when is_close_date_pushed then 'close_date_pushed' end",
                ]) }},
                ''
            ) as {{ text_type() }}
        ) as stuck_reasons,
        case when movement = 'lost' then loss_reason end as loss_reason,
        next_step,
        cast(
            case
                when movement = 'won'
                    then {{ days_between('cast(created_at as date)', 'close_date_end') }}
            end as integer
        ) as cycle_days
    from flagged

)

select * from final
