with

history as (

    select
        opportunity_history_id,
        opportunity_id,
        history_sequence,
        close_date,
        created_at
    from {{ ref('int_opportunity_histories_sequenced') }}

),

field_history as (

    select
        opportunity_field_history_id,
        opportunity_id,
        field_name,
        old_value,
        new_value,
        created_at
    from {{ ref('stg_salesforce__opportunity_field_history') }}

),

opportunities as (

    select opportunity_id from {{ ref('int_opportunities_scoped') }}

),

-- OpportunityHistory: a row whose CloseDate is later than the previous non-null CloseDate.
history_close_dates as (

    select
        opportunity_history_id,
        opportunity_id,
        close_date,
        created_at,
        lag(close_date) over (
            partition by opportunity_id
            order by history_sequence
        ) as previous_close_date
    from history
    where close_date is not null

),

history_pushes as (

    select
        'opportunity_history' as push_source,
        opportunity_history_id as source_row_id,
        opportunity_id,
        created_at as pushed_at,
        previous_close_date,
        close_date as new_close_date
    from history_close_dates
    where close_date > previous_close_date

),

-- OpportunityFieldHistory: values are untyped text; anything that is not a date is skipped.
field_history_close_dates as (

    select
        field_history.opportunity_field_history_id,
        field_history.opportunity_id,
        field_history.created_at,
        {{ deals_text_to_date('field_history.old_value') }} as previous_close_date,
        {{ deals_text_to_date('field_history.new_value') }} as new_close_date
    from field_history
    inner join opportunities
        on field_history.opportunity_id = opportunities.opportunity_id
    where field_history.field_name = 'CloseDate' and field_history.created_at is not null

),

field_history_pushes as (

    select
        'opportunity_field_history' as push_source,
        opportunity_field_history_id as source_row_id,
        opportunity_id,
        created_at as pushed_at,
        previous_close_date,
        new_close_date
    from field_history_close_dates
    where new_close_date > previous_close_date

),

pushes as (

    select * from history_pushes
    union all
    select * from field_history_pushes

),

final as (

    select
        push_source || '-' || source_row_id as close_date_push_key,
        push_source,
        source_row_id,
        opportunity_id,
        pushed_at,
        previous_close_date,
        new_close_date
    from pushes

)

select * from final
