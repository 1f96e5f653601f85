{#- Appended by every run and never rebuilt (full_refresh: false, see the model's yml): the
    state history outlives Salesforce's history retention. int_opportunity_states_segmented reads
    the rows earlier runs wrote, through a relation lookup rather than ref() (a ref would make
    the model its own ancestor). New columns are appended to the table earlier runs wrote
    (on_schema_change: append_new_columns): their old rows read null there. -#}

with

states as (

    select
        opportunity_id,
        owner_id,
        week,
        week_start,
        week_end,
        week_end_at,
        stage_end,
        sort_order_end,
        amount_end,
        amount_original_end,
        currency_iso_code_end,
        close_date_end,
        forecast_category_end,
        is_closed_end,
        is_won_end,
        stage_entered_at_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where {{ in_build_window('week') }}

),

final as (

    select
        cast(opportunity_id || '-' || week as {{ text_type() }}) as opportunity_week_key,
        opportunity_id,
        owner_id,
        week,
        week_start,
        week_end,
        week_end_at as snapshot_at,
        stage_end as stage_name,
        sort_order_end as sort_order,
        amount_end as amount,
        amount_original_end as amount_original,
        cast(currency_iso_code_end as {{ text_type() }}) as currency_iso_code,
        close_date_end as close_date,
        cast(forecast_category_end as {{ text_type() }}) as forecast_category,
        is_closed_end as is_closed,
        is_won_end as is_won,
        stage_entered_at_end as stage_entered_at
    from states

)

select * from final
