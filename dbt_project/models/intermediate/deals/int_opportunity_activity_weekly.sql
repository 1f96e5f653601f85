with

opportunity_weeks as (

    select
        opportunity_week_key,
        opportunity_id,
        week,
        week_end
    from {{ ref('int_opportunity_states_weekly') }}
    where {{ in_build_window('week') }}

),

tasks as (

    select
        what_id,
        activity_date,
        is_closed
    from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select
        what_id,
        start_at,
        activity_date
    from {{ ref('stg_salesforce__events') }}

),

opportunities as (

    select opportunity_id from {{ ref('stg_salesforce__opportunities') }}

),

-- "No Task and no Event data at all" switches the no_activity rule off instead of flagging
-- every deal: any row counts, whatever it is attached to.
activity_presence as (

    select
        (select count(*) from tasks) + (select count(*) from events) > 0
            as org_has_activity_data

),

-- Activity on a deal, from any owner: closed Tasks on ActivityDate, Events on their start
-- (ActivityDate when StartDateTime is empty).
deal_activity as (

    select
        what_id as opportunity_id,
        activity_date
    from tasks
    where is_closed and what_id is not null and activity_date is not null

    union all

    select
        what_id as opportunity_id,
        coalesce(cast(start_at as date), activity_date) as activity_date
    from events
    where what_id is not null and coalesce(cast(start_at as date), activity_date) is not null

),

known_deal_activity as (

    select deal_activity.*
    from deal_activity
    inner join opportunities
        on deal_activity.opportunity_id = opportunities.opportunity_id

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
        cast(null as varchar) as opportunity_week_key,
        activity_date
    from known_deal_activity

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
        activity_presence.org_has_activity_data
    from opportunity_weeks
    inner join running
        on opportunity_weeks.opportunity_week_key = running.opportunity_week_key
    cross join activity_presence

)

select * from final
