with

source as (

    select
        Id,
        Name
    from {{ source('salesforce', 'Profile') }}

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as profile_id,
        cast(Name as {{ text_type() }}) as profile_name
    from source

),

final as (

    select * from renamed

)

select * from final
