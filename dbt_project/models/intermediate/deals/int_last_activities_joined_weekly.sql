with

opportunity_weeks as (

    select
        opportunity_week_key,
        opportunity_id,
        week,
        week_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where {{ in_build_window('week') }}

),

deal_activities as (

    select
        opportunity_id,
        activity_date
    from {{ ref('int_deal_activities_dated') }}

),

activity_logged as (

    select
        week,
        is_calls_logged,
        is_emails_logged,
        is_meetings_logged
    from {{ ref('int_activity_kinds_logged_weekly') }}
    where {{ in_build_window('week') }}

),

-- An as-of join without ASOF (Postgres has none): week_end markers and activity dates in one
-- ordered stream per deal; the running max at a marker is the last activity dated before it.
-- A marker sorts before activity of the same date, because week_end is exclusive.
timeline as (

    select
        opportunity_id,
        week_end as event_date,
        0 as event_order,
        opportunity_week_key,
        cast(null as date) as activity_date
    from opportunity_weeks

    union all

    select
        opportunity_id,
        activity_date as event_date,
        1 as event_order,
        cast(null as {{ text_type() }}) as opportunity_week_key,
        activity_date
    from deal_activities

),

running as (

    select
        opportunity_week_key,
        max(activity_date) over (
            partition by opportunity_id
            order by event_date, event_order
            rows between unbounded preceding and current row
        ) as last_activity_date
    from timeline

),

final as (

    select
        opportunity_weeks.opportunity_week_key,
        opportunity_weeks.opportunity_id,
        opportunity_weeks.week,
        running.last_activity_date,
        -- The no_activity rule needs at least one kind of activity the org logs that week;
        -- otherwise it would flag every deal for what Salesforce never sees.
        coalesce(
            activity_logged.is_calls_logged
            or activity_logged.is_emails_logged
            or activity_logged.is_meetings_logged,
            false
        ) as is_activity_logged
    from opportunity_weeks
    inner join running
        on opportunity_weeks.opportunity_week_key = running.opportunity_week_key
    left join activity_logged
        on opportunity_weeks.week = activity_logged.week

)

select * from final
