{%- set feedback_weeks = feedback_weeks() -%}

with

weeks as (

    select
        week,
        week_start
    from {{ ref('int_weeks_enumerated') }}

),

loss_reasons as (

    select
        opportunity_id,
        week,
        rep_id,
        opportunity_name,
        amount,
        loss_reason,
        theme_key
    from {{ ref('int_loss_reasons_themed') }}

),

-- A loss is recent feedback for the feedback weeks up to and including the week it was lost in.
recent as (

    select
        weeks.week,
        loss_reasons.week as lost_week,
        loss_reasons.opportunity_id,
        loss_reasons.rep_id,
        loss_reasons.opportunity_name,
        loss_reasons.amount,
        loss_reasons.loss_reason,
        loss_reasons.theme_key
    from weeks
    inner join loss_reasons
        on
            weeks.week >= loss_reasons.week
            and {{ iso_week_label(add_days('weeks.week_start', -7 * (feedback_weeks - 1))) }}
            <= loss_reasons.week

),

final as (

    select * from recent

)

select * from final
