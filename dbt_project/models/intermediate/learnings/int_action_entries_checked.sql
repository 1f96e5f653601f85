{#- Every action entry of a known pair (ids from the week's manifest), checked across weeks:
    an id the pair already used for an earlier week's action, and a done marker without an
    action of that id recorded for an earlier week, get a problem (rejected, never silently
    dropped); the others are accepted. -#}
with

entries as (

    select
        action_entry_id,
        week,
        manager_slug,
        rep_slug,
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
    from {{ ref('stg_learnings__actions') }}
    where manager_id is not null and rep_id is not null

),

recorded as (

    select
        *,
        row_number() over (
            partition by manager_id, rep_id, action_id order by week, entry_number
        ) as recorded_rank
    from entries
    where entry_status = 'open'

),

first_recorded as (

    select
        manager_id,
        rep_id,
        action_id,
        week as recorded_week
    from recorded
    where recorded_rank = 1

),

checked_recorded as (

    select
        recorded.action_entry_id,
        case
            when recorded.recorded_rank > 1
                then
                    'id ' || recorded.action_id
                    || ' is already the id of the action recorded for '
                    || first_recorded.recorded_week
        end as problem,
        case
            when recorded.recorded_rank > 1
                then
                    'give each action of the pair its own id;'
                    || ' to mark that one done, write status: done'
        end as fix
    from recorded
    inner join first_recorded
        on
            recorded.manager_id = first_recorded.manager_id
            and recorded.rep_id = first_recorded.rep_id
            and recorded.action_id = first_recorded.action_id

),

checked_markers as (

    select
        entries.action_entry_id,
        case
            when
                first_recorded.recorded_week is null
                or entries.week <= first_recorded.recorded_week
                then
                    'no action with id ' || entries.action_id
                    || ' was recorded by this pair for an earlier week'
        end as problem,
        case
            when
                first_recorded.recorded_week is null
                or entries.week <= first_recorded.recorded_week
                then '{{ dbt.escape_single_quotes(
                    "use the id of the action as it was recorded, in a later week's file"
                ) }}'
        end as fix
    from entries
    left join first_recorded
        on
            entries.manager_id = first_recorded.manager_id
            and entries.rep_id = first_recorded.rep_id
            and entries.action_id = first_recorded.action_id
    where entries.entry_status = 'done'

),

checks as (

    select * from checked_recorded
    union all
    select * from checked_markers

),

final as (

    select
        entries.*,
        checks.problem,
        checks.fix,
        checks.problem is null as is_accepted
    from entries
    inner join checks
        on entries.action_entry_id = checks.action_entry_id

)

select * from final
