{#- One row per agreed action, with the week a later entry marked it done. -#}
with

entries as (

    select
        action_entry_id,
        week,
        manager_id,
        rep_id,
        action_id,
        owner,
        due_date,
        opportunity_id,
        is_shareable,
        entry_status,
        body,
        source_path,
        entry_number
    from {{ ref('int_action_entries_checked') }}
    where is_accepted

),

pairs as (

    select
        pair_id,
        manager_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

weeks as (

    select
        week,
        week_end
    from {{ ref('int_weeks') }}

),

recorded as (

    select * from entries
    where entry_status = 'open'

),

-- The first marker counts; a marker is accepted only when it is later than the action.
done as (

    select
        manager_id,
        rep_id,
        action_id,
        min(week) as done_week
    from entries
    where entry_status = 'done'
    group by manager_id, rep_id, action_id

),

final as (

    select
        recorded.manager_id || '-' || recorded.rep_id || '-' || recorded.action_id as action_key,
        pairs.pair_id,
        recorded.manager_id,
        recorded.rep_id,
        recorded.action_id,
        recorded.week as recorded_week,
        weeks.week_end as recorded_week_end,
        recorded.owner,
        recorded.due_date,
        recorded.opportunity_id,
        recorded.is_shareable,
        recorded.body,
        recorded.source_path,
        recorded.entry_number,
        done.done_week
    from recorded
    left join pairs
        on
            recorded.manager_id = pairs.manager_id
            and recorded.rep_id = pairs.rep_id
    left join weeks
        on recorded.week = weeks.week
    left join done
        on
            recorded.manager_id = done.manager_id
            and recorded.rep_id = done.rep_id
            and recorded.action_id = done.action_id

)

select * from final
