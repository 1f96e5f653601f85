with

source as (

    select
        Id,
        MasterLabel,
        ApiName,
        SortOrder,
        IsActive,
        IsClosed,
        IsWon,
        DefaultProbability,
        ForecastCategoryName
    from {{ source('salesforce', 'OpportunityStage') }}

),

-- ApiName is the value Opportunity.StageName holds; MasterLabel is what the UI shows.
-- Orgs that predate ApiName fall back to the label, which then equals the stored value.
renamed as (

    select
        cast(Id as {{ text_type() }}) as opportunity_stage_id,
        cast(MasterLabel as {{ text_type() }}) as stage_label,
        cast(coalesce(ApiName, MasterLabel) as {{ text_type() }}) as stage_name,
        cast(SortOrder as integer) as sort_order,
        coalesce(cast(IsActive as boolean), true) as is_active,
        coalesce(cast(IsClosed as boolean), false) as is_closed,
        coalesce(cast(IsWon as boolean), false) as is_won,
        cast(DefaultProbability as {{ double_type() }}) as default_probability,
        cast(ForecastCategoryName as {{ text_type() }}) as forecast_category_name
    from source

),

final as (

    select * from renamed

)

select * from final
