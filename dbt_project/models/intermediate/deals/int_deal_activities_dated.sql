{#- Activity on a deal, from any owner, as the stuck rule and the action follow-up count it:
    closed Tasks on ActivityDate, Events on their start (ActivityDate when StartDateTime is
    empty), on a deal in scope. -#}
with

tasks as (

    select
        what_id,
        activity_date,
        is_closed
    from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select
        what_id,
        start_at,
        activity_date
    from {{ ref('stg_salesforce__events') }}

),

opportunities as (

    select opportunity_id from {{ ref('int_opportunities_scoped') }}

),

deal_activity as (

    select
        what_id as opportunity_id,
        activity_date
    from tasks
    where is_closed and what_id is not null and activity_date is not null

    union all

    select
        what_id as opportunity_id,
        coalesce(cast(start_at as date), activity_date) as activity_date
    from events
    where what_id is not null and coalesce(cast(start_at as date), activity_date) is not null

),

final as (

    select deal_activity.*
    from deal_activity
    inner join opportunities
        on deal_activity.opportunity_id = opportunities.opportunity_id

)

select * from final
