with

users_classified as (

    select
        user_id,
        user_name,
        email,
        title,
        is_active,
        manager_id,
        manager_name,
        manager_is_active,
        user_role_name,
        profile_name,
        active_direct_reports,
        is_manager,
        has_manager_cycle,
        is_included_by_config,
        is_pair_eligible,
        ineligible_reason
    from {{ ref('int_users_classified') }}

),

final as (

    select
        user_id,
        user_name,
        email,
        title,
        is_active,
        manager_id,
        manager_name,
        manager_is_active,
        user_role_name,
        profile_name,
        cast(active_direct_reports as integer) as active_direct_reports,
        is_manager,
        has_manager_cycle,
        is_included_by_config,
        is_pair_eligible,
        ineligible_reason
    from users_classified

)

select * from final
