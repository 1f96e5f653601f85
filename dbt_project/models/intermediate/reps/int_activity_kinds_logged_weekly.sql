{#- Whether the org logs each kind of activity in Salesforce, per week (docs/metrics.md, "Activity
    the org does not log"): a kind is logged in a week when the whole org has at least one
    record counted by that metric's rule in the 91 days before week_end. Orgs that keep emails
    in Einstein Activity Capture or calls in a separate dialer have none. -#}
{%- set lookback_days = 91 -%}

with

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}
    where {{ in_build_window('week') }}

),

tasks as (

    select
        activity_date,
        is_closed,
        task_type,
        task_subtype
    from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select start_at from {{ ref('stg_salesforce__events') }}

),

-- Every owner counts, paired or not: the question is what the org records, not who.
daily_tasks as (

    select
        activity_date as activity_day,
        sum(case when coalesce(task_subtype, task_type) = 'Call' then 1 else 0 end) as calls,
        sum(case when coalesce(task_subtype, task_type) = 'Email' then 1 else 0 end) as emails,
        0 as meetings
    from tasks
    where
        is_closed
        and activity_date is not null
        and {{ on_or_after_window_start('activity_date', 14) }}
    group by activity_date

),

-- start_at is org-local: its date against week_end's date is the local-time window.
daily_events as (

    select
        cast(start_at as date) as activity_day,
        0 as calls,
        0 as emails,
        count(*) as meetings
    from events
    where
        start_at is not null
        and {{ on_or_after_window_start('start_at', 14) }}
    group by cast(start_at as date)

),

daily as (

    select * from daily_tasks
    union all
    select * from daily_events

),

windowed as (

    select
        weeks.week,
        sum(daily.calls) as calls_91d,
        sum(daily.emails) as emails_91d,
        sum(daily.meetings) as meetings_91d
    from weeks
    inner join daily
        on
            daily.activity_day >= {{ add_days('weeks.week_end', -1 * lookback_days) }}
            and daily.activity_day < weeks.week_end
    group by weeks.week

),

final as (

    select
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        cast(coalesce(windowed.calls_91d, 0) as integer) as calls_91d,
        cast(coalesce(windowed.emails_91d, 0) as integer) as emails_91d,
        cast(coalesce(windowed.meetings_91d, 0) as integer) as meetings_91d,
        coalesce(windowed.calls_91d, 0) > 0 as is_calls_logged,
        coalesce(windowed.emails_91d, 0) > 0 as is_emails_logged,
        coalesce(windowed.meetings_91d, 0) > 0 as is_meetings_logged
    from weeks
    left join windowed
        on weeks.week = windowed.week

)

select * from final
