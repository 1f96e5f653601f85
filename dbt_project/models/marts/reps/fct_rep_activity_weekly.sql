with

pairs as (

    select rep_id from {{ ref('dim_sales_pairs') }}

),

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
        owner_id,
        activity_date,
        is_closed,
        task_type,
        task_subtype
    from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select
        owner_id,
        start_at
    from {{ ref('stg_salesforce__events') }}

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

-- Amounts in the corporate currency; one without a rate is null and adds nothing.
opportunities as (

    select
        owner_id,
        amount,
        amount_original,
        is_amount_unconverted,
        close_date,
        is_closed,
        is_won,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

rep_weeks as (

    select
        pairs.rep_id,
        weeks.week,
        weeks.week_start,
        weeks.week_end
    from pairs
    cross join weeks

),

-- A task's kind is its TaskSubtype; older orgs and API-created tasks leave that empty and
-- carry the kind in Type only.
task_counts as (

    select
        owner_id,
        {{ iso_week_start('activity_date') }} as week_start,
        sum(case when coalesce(task_subtype, task_type) = 'Call' then 1 else 0 end) as calls,
        sum(case when coalesce(task_subtype, task_type) = 'Email' then 1 else 0 end) as emails
    from tasks
    where is_closed
        and activity_date is not null
        and {{ on_or_after_window_start('activity_date') }}
    group by 1, 2

),

event_counts as (

    select
        owner_id,
        {{ iso_week_start('start_at') }} as week_start,
        count(*) as meetings
    from events
    where start_at is not null
        and {{ on_or_after_window_start('start_at') }}
    group by 1, 2

),

created_counts as (

    select
        owner_id,
        {{ iso_week_start('created_at') }} as week_start,
        count(*) as opportunities_created,
        sum(coalesce(amount, 0)) as pipeline_created,
        sum(case when amount_original is null then 1 else 0 end) as pipeline_created_null_amounts,
        sum(case when is_amount_unconverted then 1 else 0 end) as pipeline_created_unconverted
    from opportunities
    where {{ on_or_after_window_start('created_at') }}
    group by 1, 2

),

closed_counts as (

    select
        owner_id,
        {{ iso_week_start('close_date') }} as week_start,
        sum(case when is_won then 1 else 0 end) as closed_won_count,
        sum(case when is_won then coalesce(amount, 0) else 0 end) as closed_won_amount,
        sum(case when is_won and is_amount_unconverted then 1 else 0 end)
            as closed_won_amount_unconverted,
        sum(case when is_closed and not is_won then 1 else 0 end) as closed_lost_count
    from opportunities
    where
        (is_closed or is_won)
        and {{ on_or_after_window_start('close_date') }}
    group by 1, 2

),

final as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        rep_weeks.week_start,
        rep_weeks.week_end,
        -- A kind the org does not log is null, never 0 (`activity_not_logged`).
        cast(
            case when activity_logged.is_calls_logged then coalesce(task_counts.calls, 0) end
            as integer
        ) as calls,
        cast(
            case when activity_logged.is_emails_logged then coalesce(task_counts.emails, 0) end
            as integer
        ) as emails,
        cast(
            case when activity_logged.is_meetings_logged then coalesce(event_counts.meetings, 0) end
            as integer
        ) as meetings,
        cast(coalesce(created_counts.opportunities_created, 0) as integer) as opportunities_created,
        cast(coalesce(created_counts.pipeline_created, 0) as {{ double_type() }})
            as pipeline_created,
        cast(coalesce(closed_counts.closed_won_count, 0) as integer) as closed_won_count,
        cast(coalesce(closed_counts.closed_won_amount, 0) as {{ double_type() }})
            as closed_won_amount,
        cast(coalesce(closed_counts.closed_lost_count, 0) as integer) as closed_lost_count,
        cast(
            coalesce(created_counts.pipeline_created_null_amounts, 0) as integer
        ) as pipeline_created_null_amounts,
        cast(
            coalesce(created_counts.pipeline_created_unconverted, 0) as integer
        ) as pipeline_created_unconverted,
        cast(
            coalesce(closed_counts.closed_won_amount_unconverted, 0) as integer
        ) as closed_won_amount_unconverted,
        coalesce(activity_logged.is_calls_logged, false) as is_calls_logged,
        coalesce(activity_logged.is_emails_logged, false) as is_emails_logged,
        coalesce(activity_logged.is_meetings_logged, false) as is_meetings_logged
    from rep_weeks
    left join task_counts
        on rep_weeks.rep_id = task_counts.owner_id
            and rep_weeks.week_start = task_counts.week_start
    left join event_counts
        on rep_weeks.rep_id = event_counts.owner_id
            and rep_weeks.week_start = event_counts.week_start
    left join created_counts
        on rep_weeks.rep_id = created_counts.owner_id
            and rep_weeks.week_start = created_counts.week_start
    left join closed_counts
        on rep_weeks.rep_id = closed_counts.owner_id
            and rep_weeks.week_start = closed_counts.week_start
    left join activity_logged
        on rep_weeks.week = activity_logged.week

)

select * from final
