{#- Walks each user's manager chain a bounded number of hops instead of a recursive CTE: dbt
    injects unit-test fixtures and ephemerals as CTEs after the first `with`, which breaks
    `with recursive`. A chain that enters a loop within the bound is back on the loop at the
    last hop, so it is a cycle iff the last hop repeats an earlier one. -#}
{%- set max_hops = var('manager_chain_max_hops', 32) | int -%}
{%- set include_roles = var('include_roles') -%}
{%- set exclude_roles = var('exclude_roles') -%}
{%- set include_profiles = var('include_profiles') -%}
{%- set exclude_profiles = var('exclude_profiles') -%}

with

users as (

    select
        user_id,
        user_name,
        email,
        title,
        is_active,
        manager_id,
        user_role_id,
        profile_id,
        time_zone
    from {{ ref('stg_salesforce__users') }}

),

user_roles as (

    select
        user_role_id,
        user_role_name
    from {{ ref('stg_salesforce__user_roles') }}

),

profiles as (

    select
        profile_id,
        profile_name
    from {{ ref('stg_salesforce__profiles') }}

),

direct_reports as (

    select
        manager_id as user_id,
        count(*) as active_direct_reports
    from users
    where is_active
        and manager_id is not null
    group by manager_id

),

manager_chains as (

    select
        users.user_id,
        {% for hop in range(1, max_hops + 1) %}
        hop_{{ hop }}.user_id as hop_{{ hop }}_id{% if not loop.last %},{% endif %}
        {% endfor %}
    from users
    {% for hop in range(1, max_hops + 1) %}
    {%- set previous = 'users' if hop == 1 else 'hop_' ~ (hop - 1) %}
    left join users as hop_{{ hop }}
        on {{ previous }}.manager_id = hop_{{ hop }}.user_id
    {% endfor %}

),

-- The chain above a user loops (a self-managed user, two users managing each other, or a rep
-- whose manager's chain loops): such a user's reporting line is broken, so no packet.
cycles as (

    select
        user_id,
        coalesce(
            hop_{{ max_hops }}_id in (
                user_id,
                {% for hop in range(1, max_hops) %}
                hop_{{ hop }}_id{% if not loop.last %},{% endif %}
                {% endfor %}
            ),
            false
        ) as has_manager_cycle
    from manager_chains

),

joined as (

    select
        users.user_id,
        users.user_name,
        users.email,
        users.title,
        users.is_active,
        users.manager_id,
        users.time_zone,
        managers.user_name as manager_name,
        managers.email as manager_email,
        managers.is_active as manager_is_active,
        user_roles.user_role_name,
        profiles.profile_name,
        coalesce(direct_reports.active_direct_reports, 0) as active_direct_reports,
        cycles.has_manager_cycle
    from users
    left join users as managers
        on users.manager_id = managers.user_id
    left join user_roles
        on users.user_role_id = user_roles.user_role_id
    left join profiles
        on users.profile_id = profiles.profile_id
    left join direct_reports
        on users.user_id = direct_reports.user_id
    left join cycles
        on users.user_id = cycles.user_id

),

-- Include lists, when set, must match; exclude lists win over include lists.
config_rules as (

    select
        *,
        (
            {% if include_roles | length > 0 -%}
            coalesce(user_role_name in {{ sql_string_list(include_roles) }}, false)
            {%- else -%}
            true
            {%- endif %}
            and {% if include_profiles | length > 0 -%}
            coalesce(profile_name in {{ sql_string_list(include_profiles) }}, false)
            {%- else -%}
            true
            {%- endif %}
            and not coalesce(user_role_name in {{ sql_string_list(exclude_roles) }}, false)
            and not coalesce(profile_name in {{ sql_string_list(exclude_profiles) }}, false)
        ) as is_included_by_config
    from joined

),

-- The first reason that applies, most structural first, so a cycle is reported as a cycle
-- even though its members also have reports.
classified as (

    select
        *,
        case
            when not is_active then 'inactive'
            when has_manager_cycle then 'manager_cycle'
            when active_direct_reports > 0 then 'has_reports'
            -- A ManagerId that points at no User reads as no manager at all.
            when manager_is_active is null then 'no_manager'
            when not manager_is_active then 'inactive_manager'
            when not is_included_by_config then 'excluded_by_config'
        end as ineligible_reason
    from config_rules

),

final as (

    select
        user_id,
        user_name,
        email,
        title,
        is_active,
        manager_id,
        time_zone,
        manager_name,
        manager_email,
        manager_is_active,
        user_role_name,
        profile_name,
        active_direct_reports,
        active_direct_reports > 0 as is_manager,
        has_manager_cycle,
        is_included_by_config,
        ineligible_reason is null as is_pair_eligible,
        ineligible_reason
    from classified

)

select * from final
