with

users_classified as (

    select
        user_id,
        user_name,
        email,
        title,
        user_role_name,
        manager_id,
        is_pair_eligible
    from {{ ref('int_users_classified') }}

),

managers as (

    select
        user_id,
        user_name,
        email,
        time_zone
    from {{ ref('int_users_classified') }}

),

pairs as (

    select
        users_classified.manager_id || '-' || users_classified.user_id as pair_id,
        users_classified.manager_id,
        managers.user_name as manager_name,
        managers.email as manager_email,
        managers.time_zone as manager_time_zone,
        users_classified.user_id as rep_id,
        users_classified.user_name as rep_name,
        users_classified.email as rep_email,
        users_classified.title as rep_title,
        users_classified.user_role_name as rep_role_name
    from users_classified
    inner join managers
        on users_classified.manager_id = managers.user_id
    where users_classified.is_pair_eligible

),

final as (

    select * from pairs

)

select * from final
