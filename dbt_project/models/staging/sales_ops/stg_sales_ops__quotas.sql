{#- The quota CSV of var `quota_csv` when set, else the `quotas` seed (empty by default). -#}
with

source as (

    select
        rep_id,
        quarter_start,
        quota_amount
    {% if var('quota_csv', '') | trim != '' -%}
    from {{ source('sales_ops', 'quotas') }}
    {%- else -%}
    from {{ ref('quotas') }}
    {%- endif %}

),

renamed as (

    select
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(quarter_start as date) as quarter_start,
        cast(quota_amount as {{ double_type() }}) as quota_amount
    from source
    where rep_id is not null

),

final as (

    select * from renamed

)

select * from final
