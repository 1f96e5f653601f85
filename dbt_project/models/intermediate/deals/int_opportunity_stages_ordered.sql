{%- set extra_stages = var('extra_stages') -%}
{%- if extra_stages is string -%}
{%- set extra_stages = extra_stages.split(',') | map('trim') | reject('equalto', '') | list -%}
{%- endif -%}

with

org_stages as (

    select
        stage_name,
        stage_label,
        sort_order,
        is_closed,
        is_won
    from {{ ref('stg_salesforce__opportunity_stages') }}

),

standard_stages as (

    select
        stage_name,
        stage_label,
        sort_order,
        is_closed,
        is_won
    from {{ ref('standard_opportunity_stages') }}

),

opportunities as (

    select
        stage_name,
        is_closed,
        is_won
    from {{ ref('int_opportunities_scoped') }}

),

opportunity_history as (

    select stage_name from {{ ref('int_opportunity_histories_converted') }}

),

-- var extra_stages (Settings.extra_stages), in the order config lists them.
extra_stages as (

    {% for stage in extra_stages %}
    select
        cast('{{ stage | replace("'", "''") }}' as {{ text_type() }}) as stage_name,
        {{ loop.index }} as extra_position
    {% if not loop.last %}union all{% endif %}
    {% else %}
    select
        cast(null as {{ text_type() }}) as stage_name,
        cast(null as integer) as extra_position
    where 1 = 0
    {% endfor %}

),

-- OpportunityStage.ApiName is what StageName holds; an org stage without one goes by its label.
org_list as (

    select
        coalesce(stage_name, stage_label) as stage_name,
        coalesce(stage_label, stage_name) as stage_label,
        sort_order,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,
        'org' as source  -- noqa: RF04
    from org_stages
    where coalesce(stage_name, stage_label) is not null

),

new_extra_stages as (

    select
        extra_stages.stage_name,
        min(extra_stages.extra_position) as extra_position
    from extra_stages
    left join standard_stages
        on extra_stages.stage_name = standard_stages.stage_name
    where standard_stages.stage_name is null
    group by extra_stages.stage_name

),

numbered_extra_stages as (

    select
        stage_name,
        row_number() over (order by extra_position) as extra_rank
    from new_extra_stages

),

standard_open_bounds as (

    select max(sort_order) as last_open_sort_order
    from standard_stages
    where not is_closed

),

extra_stage_count as (

    select count(*) as extra_stages from numbered_extra_stages

),

-- Extra stages are open stages placed after the last standard open stage (Negotiation/Review)
-- and before Closed Won / Closed Lost, which move down to make room.
standard_list as (

    select
        stage_name,
        stage_label,
        sort_order,
        is_closed,
        is_won,
        'standard' as source  -- noqa: RF04
    from standard_stages
    where not is_closed

    union all

    select
        numbered_extra_stages.stage_name,
        numbered_extra_stages.stage_name as stage_label,
        cast(
            standard_open_bounds.last_open_sort_order + numbered_extra_stages.extra_rank as integer
        ) as sort_order,
        false as is_closed,
        false as is_won,
        'standard' as source  -- noqa: RF04
    from numbered_extra_stages
    cross join standard_open_bounds

    union all

    select
        standard_stages.stage_name,
        standard_stages.stage_label,
        cast(standard_stages.sort_order + extra_stage_count.extra_stages as integer) as sort_order,
        standard_stages.is_closed,
        standard_stages.is_won,
        'standard' as source  -- noqa: RF04
    from standard_stages
    cross join extra_stage_count
    where standard_stages.is_closed

),

org_stage_count as (

    select count(*) as org_stages from org_list

),

declared as (

    select * from org_list

    union all

    select standard_list.*
    from standard_list
    cross join org_stage_count
    where org_stage_count.org_stages = 0

),

observed_names as (

    select stage_name from opportunities
    union distinct
    select stage_name from opportunity_history

),

-- A stage found in the data but in no list: sorted after every known stage (alphabetically),
-- closed/won when a current Opportunity record in that stage says so.
unknown_names as (

    select observed_names.stage_name
    from observed_names
    where
        observed_names.stage_name is not null
        and not exists (
            select 1
            from declared
            where
                declared.stage_name = observed_names.stage_name
                or declared.stage_label = observed_names.stage_name
        )

),

unknown_flags as (

    select
        unknown_names.stage_name,
        coalesce({{ dbt.bool_or('opportunities.is_closed') }}, false) as is_closed,
        coalesce({{ dbt.bool_or('opportunities.is_won') }}, false) as is_won
    from unknown_names
    left join opportunities
        on unknown_names.stage_name = opportunities.stage_name
    group by unknown_names.stage_name

),

declared_bounds as (

    select coalesce(max(sort_order), 0) as last_sort_order from declared

),

unknown_list as (

    select
        unknown_flags.stage_name,
        unknown_flags.stage_name as stage_label,
        cast(
            declared_bounds.last_sort_order
            + row_number() over (order by unknown_flags.stage_name) as integer
        ) as sort_order,
        unknown_flags.is_closed,
        unknown_flags.is_won,
        'observed' as source  -- noqa: RF04
    from unknown_flags
    cross join declared_bounds

),

all_stages as (

    select * from declared
    union all
    select * from unknown_list

),

final as (

    select
        stage_name,
        stage_label,
        sort_order,
        -- Position in the list ordered by (sort_order, name): "stages advanced" counts these.
        cast(
            row_number() over (order by sort_order nulls last, stage_name) as integer
        ) as stage_position,
        is_closed,
        is_won,
        source
    from all_stages

)

select * from final
