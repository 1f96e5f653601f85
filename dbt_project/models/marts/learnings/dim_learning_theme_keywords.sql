{#- Kept equal to salesprep.packets.discussion.THEME_KEYWORDS (tests/learnings checks it): the
    packets classify loss reasons with the same keywords. -#}
with

keywords as (

    select
        theme_keywords.theme_key,
        theme_keywords.theme_label,
        theme_keywords.escalate_to,
        theme_keywords.keyword
    from (
        values
        ('implementation', 'Implementation timeline', 'the head of services', 'implement'),
        ('implementation', 'Implementation timeline', 'the head of services', 'onboard'),
        ('implementation', 'Implementation timeline', 'the head of services', 'rollout'),
        ('implementation', 'Implementation timeline', 'the head of services', 'roll-out'),
        ('implementation', 'Implementation timeline', 'the head of services', 'deploy'),
        ('implementation', 'Implementation timeline', 'the head of services', 'integrat'),
        ('implementation', 'Implementation timeline', 'the head of services', 'go-live'),
        ('implementation', 'Implementation timeline', 'the head of services', 'go live'),
        ('implementation', 'Implementation timeline', 'the head of services', 'time to value'),
        ('implementation', 'Implementation timeline', 'the head of services', 'setup'),
        ('price', 'Price', 'sales leadership (pricing)', 'pric'),
        ('price', 'Price', 'sales leadership (pricing)', 'cost'),
        ('price', 'Price', 'sales leadership (pricing)', 'budget'),
        ('price', 'Price', 'sales leadership (pricing)', 'expensive'),
        ('price', 'Price', 'sales leadership (pricing)', 'discount'),
        ('price', 'Price', 'sales leadership (pricing)', 'afford'),
        ('price', 'Price', 'sales leadership (pricing)', 'too high'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'compet'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'went with'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'chose'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'lost to'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'incumbent'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'alternative'),
        ('competitor', 'Competitor', 'product marketing (competitive intelligence)', 'vendor'),
        ('timing', 'Timing / no decision', null, 'timing'),
        ('timing', 'Timing / no decision', null, 'no decision'),
        ('timing', 'Timing / no decision', null, 'not now'),
        ('timing', 'Timing / no decision', null, 'postpone'),
        ('timing', 'Timing / no decision', null, 'delay'),
        ('timing', 'Timing / no decision', null, 'on hold'),
        ('timing', 'Timing / no decision', null, 'stall'),
        ('timing', 'Timing / no decision', null, 'status quo'),
        ('timing', 'Timing / no decision', null, 'next year'),
        ('timing', 'Timing / no decision', null, 'went dark'),
        ('timing', 'Timing / no decision', null, 'unresponsive'),
        ('timing', 'Timing / no decision', null, 'no response'),
        ('timing', 'Timing / no decision', null, 'non-responsive'),
        ('timing', 'Timing / no decision', null, 'priorit')
    ) as theme_keywords (theme_key, theme_label, escalate_to, keyword)

),

final as (

    select
        cast(theme_key as varchar) as theme_key,
        cast(theme_label as varchar) as theme_label,
        cast(escalate_to as varchar) as escalate_to,
        cast(keyword as varchar) as keyword
    from keywords

)

select * from final
