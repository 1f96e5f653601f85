{#- The agreed actions a pair's packet of week W follows up, and what the CRM shows since the
    1:1 for deal-linked ones. See the `pair_action_status` and `action_since_the_1on1` doc
    blocks. A table: actions are few, and a done marker recorded late for an old week changes
    that week's status like it changes every later one. -#}
with

actions as (

    select
        action_key,
        pair_id,
        manager_id,
        rep_id,
        action_id,
        recorded_week,
        recorded_week_end,
        owner,
        due_date,
        opportunity_id,
        is_shareable,
        body,
        done_week
    from {{ ref('fct_learning_actions') }}
    where pair_id is not null

),

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}

),

deals as (

    select
        opportunity_id,
        week,
        opportunity_name,
        stage_end,
        close_date,
        is_open_end,
        movement
    from {{ ref('fct_deal_movement_weekly') }}

),

activities as (

    select
        opportunity_id,
        activity_date
    from {{ ref('int_deal_activities_dated') }}

),

previous_weeks as (

    select
        *,
        lag(week) over (order by week_start) as previous_week
    from weeks

),

-- An action is listed from the week after it was recorded until the packet that shows it
-- done: marked done for week D, it is `done` in the packet of the week after D, then gone.
listed as (

    select
        actions.*,
        previous_weeks.week,
        previous_weeks.week_start,
        previous_weeks.week_end
    from actions
    inner join previous_weeks
        on
            actions.recorded_week < previous_weeks.week
            and (
                actions.done_week is null
                or actions.done_week >= coalesce(previous_weeks.previous_week, '')
            )

),

linked_ids as (

    select distinct opportunity_id
    from actions
    where opportunity_id is not null

),

linked_deals as (

    select deals.*
    from deals
    inner join linked_ids
        on deals.opportunity_id = linked_ids.opportunity_id

),

-- A deal's state at the end of a week is that of its latest row up to the week: in a week
-- without a row it was closed at both ends (`deal_movement`).
at_recorded as (

    select
        actions.action_key,
        linked_deals.stage_end,
        linked_deals.close_date,
        linked_deals.is_open_end,
        row_number() over (
            partition by actions.action_key order by linked_deals.week desc
        ) as recency
    from actions
    inner join linked_deals
        on
            actions.opportunity_id = linked_deals.opportunity_id
            and linked_deals.week <= actions.recorded_week

),

at_week as (

    select
        listed.action_key,
        listed.week,
        linked_deals.opportunity_name,
        linked_deals.stage_end,
        linked_deals.close_date,
        linked_deals.is_open_end,
        linked_deals.movement,
        row_number() over (
            partition by listed.action_key, listed.week order by linked_deals.week desc
        ) as recency
    from listed
    inner join linked_deals
        on
            listed.opportunity_id = linked_deals.opportunity_id
            and linked_deals.week <= listed.week

),

activity_since as (

    select
        listed.action_key,
        listed.week,
        count(*) as activities,
        max(activities.activity_date) as last_activity_date
    from listed
    inner join activities
        on
            listed.opportunity_id = activities.opportunity_id
            and activities.activity_date >= listed.recorded_week_end
            and activities.activity_date < listed.week_end
    group by listed.action_key, listed.week

),

final as (

    select
        listed.pair_id,
        listed.manager_id,
        listed.rep_id,
        listed.week,
        listed.week_start,
        listed.week_end,
        listed.action_id,
        listed.recorded_week,
        listed.owner,
        listed.due_date,
        listed.body,
        listed.is_shareable,
        cast(
            case
                when listed.done_week < listed.week then 'done'
                when listed.due_date < listed.week_end then 'overdue'
                else 'open'
            end as {{ text_type() }}
        ) as status,
        case when listed.done_week < listed.week then listed.done_week end as done_week,
        listed.opportunity_id,
        at_week.opportunity_name,
        listed.opportunity_id is not null and at_week.action_key is not null
            as is_opportunity_found,
        cast(
            case
                when listed.opportunity_id is not null
                    then coalesce(activity_since.activities, 0)
            end as integer
        ) as deal_activities_since,
        activity_since.last_activity_date as last_deal_activity_date,
        at_recorded.stage_end as stage_at_1on1,
        at_week.stage_end as stage_now,
        coalesce(at_recorded.stage_end <> at_week.stage_end, false) as is_stage_changed,
        at_recorded.close_date as close_date_at_1on1,
        at_week.close_date as close_date_now,
        coalesce(at_recorded.close_date <> at_week.close_date, false) as is_close_date_changed,
        -- A row closed at its week_end has movement won or lost: it is the week it closed.
        cast(
            case
                when not at_week.is_open_end and coalesce(at_recorded.is_open_end, true)
                    then at_week.movement
            end as {{ text_type() }}
        ) as deal_closed_since
    from listed
    left join at_recorded
        on
            listed.action_key = at_recorded.action_key
            and at_recorded.recency = 1
    left join at_week
        on
            listed.action_key = at_week.action_key
            and listed.week = at_week.week
            and at_week.recency = 1
    left join activity_since
        on
            listed.action_key = activity_since.action_key
            and listed.week = activity_since.week

)

select * from final
