with

pairs as (

    select
        pair_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

recent_losses as (

    select
        week,
        rep_id,
        theme_key
    from {{ ref('int_recent_losses_themed') }}
    -- `other` is a reason that names no theme, and a loss without a reason has none.
    where theme_key is not null and theme_key <> 'other'

),

own_feedback as (

    select
        pair_id,
        week,
        learning_id
    from {{ ref('int_learnings_offered') }}
    where is_own_pair and kind = 'feedback'

),

learning_themes as (

    select
        learning_id,
        theme_key
    from {{ ref('int_learnings_themed') }}

),

-- The themes a pair met lately: its rep's recent loss reasons, and its own field feedback.
collected as (

    select distinct
        pairs.pair_id,
        recent_losses.week,
        recent_losses.theme_key,
        'losses' as theme_source,
        cast(null as {{ text_type() }}) as source_learning_id
    from recent_losses
    inner join pairs
        on recent_losses.rep_id = pairs.rep_id

    union all

    select distinct
        own_feedback.pair_id,
        own_feedback.week,
        learning_themes.theme_key,
        'feedback' as theme_source,
        own_feedback.learning_id as source_learning_id
    from own_feedback
    inner join learning_themes
        on own_feedback.learning_id = learning_themes.learning_id

),

final as (

    select * from collected

)

select * from final
