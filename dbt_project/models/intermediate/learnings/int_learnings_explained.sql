with

matched as (

    select
        pair_id,
        manager_id,
        rep_id,
        week,
        week_start,
        week_end,
        learning_id,
        learning_week,
        is_own_pair,
        stage_name,
        is_about_open_deal,
        stage_open_deals,
        industry_open_deals,
        matched_industry,
        matched_themes,
        is_theme_from_losses,
        is_theme_from_feedback
    from {{ ref('int_learnings_matched') }}

),

-- Only learnings with at least one reason are relevant; each reason as a phrase of the packet.
relevant as (

    select
        matched.*,
        'same stage as ' || cast(matched.stage_open_deals as {{ text_type() }})
        || ' open deal(s) (' || matched.stage_name || ')' as stage_text,
        'same industry as ' || cast(matched.industry_open_deals as {{ text_type() }})
        || ' open deal(s) (' || matched.matched_industry || ')' as industry_text,
        'theme ' || matched.matched_themes || ' matches '
        || case
            when matched.is_theme_from_losses and matched.is_theme_from_feedback
                then '{{ dbt.escape_single_quotes(
                    "recent loss reasons and this pair's field feedback"
                ) }}'
            when matched.is_theme_from_losses then 'recent loss reasons'
            else '{{ dbt.escape_single_quotes("this pair's field feedback") }}'
        end as theme_text
    from matched
    where
        matched.is_own_pair
        or matched.is_about_open_deal
        or matched.stage_open_deals > 0
        or matched.industry_open_deals > 0
        or matched.matched_themes is not null

),

explained as (

    select
        pair_id,
        manager_id,
        rep_id,
        week,
        week_start,
        week_end,
        learning_id,
        learning_week,
        is_own_pair,
        {{ concat_non_null("','", [
            "case when is_own_pair then 'own_pair' end",
            "case when is_about_open_deal then 'opportunity' end",
            "case when stage_open_deals > 0 then 'stage' end",
            "case when industry_open_deals > 0 then 'industry' end",
            "case when matched_themes is not null then 'theme' end",
        ]) }} as match_reasons,
        {{ concat_non_null("'; '", [
            "case when is_own_pair then '"
            ~ dbt.escape_single_quotes("recorded in this pair's own 1:1 of ")
            ~ "' || learning_week end",
            "case when is_about_open_deal then 'about an open deal of this rep' end",
            "case when stage_open_deals > 0 then stage_text end",
            "case when industry_open_deals > 0 then industry_text end",
            "case when matched_themes is not null then theme_text end",
        ]) }} as why,
        (case when is_own_pair then 1 else 0 end)
        + (case when is_about_open_deal then 1 else 0 end)
        + (case when stage_open_deals > 0 then 1 else 0 end)
        + (case when industry_open_deals > 0 then 1 else 0 end)
        + (case when matched_themes is not null then 1 else 0 end) as match_count
    from relevant

),

final as (

    select * from explained

)

select * from final
