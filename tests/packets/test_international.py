"""Packets of a real company's org (issue 11): money in the corporate currency and the org's
locale, deals in another currency with both amounts, an amount or quota without a rate listed
instead of summed, the fiscal quarter's label, and a kind of activity the org does not log in
Salesforce (blank, explained, never a "why" question or a row of zeros)."""

from __future__ import annotations

import json
import re

from .marts_fixture import (
    HOSTILE,
    INTL_JPY_DEAL,
    INTL_QUOTA_ROW,
    INTL_USD_DEAL,
    R1,
    R2,
)

NBSP = "\xa0"


def _deal(data: dict, opportunity_id: str) -> dict:
    return next(d for d in data["deals"] if d["opportunity_id"] == opportunity_id)


def test_single_currency_json_keys(by_rep):
    """Every packet says its currency; deals carry their own amount and currency (equal to the
    converted ones in a single-currency org), the forecast category and the record type."""
    data = by_rep[R1].to_dict()
    assert data["currency"] == "USD"
    assert data["schema_version"] == "1.2"
    assert data["activity_not_logged"] == []
    assert "money_locale" not in data
    for deal in data["deals"]:
        assert deal["amount_original"] == deal["amount"]
        assert deal["currency_original"] == "USD"
        assert "record_type" in deal and deal["record_type"] is None
    assert _deal(data, "006000000000D01AAA")["forecast_category"] == "Commit"
    quota = data["quota"]
    assert quota["quarter_label"] == "FY2026 Q1"
    assert (quota["quarter_start"], quota["quarter_end"]) == ("2026-01-01", "2026-04-01")


def test_international_json_amounts_are_corporate(intl_contexts):
    data = json.loads(intl_contexts[R1].to_json())
    assert data["currency"] == "EUR"
    usd = _deal(data, INTL_USD_DEAL)
    assert (usd["amount"], usd["amount_original"], usd["currency_original"]) == (
        41400,
        45000,
        "USD",
    )
    jpy = _deal(data, INTL_JPY_DEAL)
    assert jpy["amount"] is None  # never the yen amount as if it were euros
    assert (jpy["amount_original"], jpy["currency_original"]) == (800000, "JPY")
    listed = data["data_quality"]["unconverted_amounts"]
    assert [(u["record_id"], u["currency"], u["numbers"]) for u in listed] == [
        (INTL_JPY_DEAL, "JPY", ["deal_amount", "open_pipeline"])
    ]


def test_a_deal_in_another_currency_shows_both_amounts(intl_rendered):
    html, md = intl_rendered[R1].html, intl_rendered[R1].markdown
    both = f"41.400{NBSP}€ (45.000{NBSP}$)"
    row = next(r for r in md.splitlines() if r.startswith("| New opp |"))
    assert both in row
    assert both in html
    # A deal in the corporate currency shows one amount.
    won = next(r for r in md.splitlines() if r.startswith("| Won deal |"))
    assert f"| 25.000{NBSP}€ |" in won and "(" not in won.split("|")[-3]
    # German grouping throughout, euro sign after the number.
    assert f"120.000{NBSP}€" in md and "$120,000" not in md


def test_an_amount_without_a_rate_is_shown_unconverted_and_listed(intl_rendered, intl_contexts):
    md = intl_rendered[R1].markdown
    assert f"#### Small deal (— (800.000{NBSP}¥, no rate))" in md
    appendix = md.split("## Appendix: data quality")[1]
    assert "Small deal (006000000000D03AAA)" in appendix
    assert "no JPY conversion rate for CloseDate Thu 30 Apr 2026" in appendix
    assert "deal amount, open pipeline" in appendix
    # The stuck-deal total leaves it out (120,000 + 80,000) instead of adding yen to euros.
    assert f"3 stuck deal(s) worth 200.000{NBSP}€" in md


def test_a_quota_in_a_currency_without_a_rate_is_no_quota(intl_contexts, intl_rendered):
    ctx = intl_contexts[R2]
    assert ctx.quota is None
    assert ctx.quota_without_rate == ["JPY"]
    data = ctx.to_dict()
    assert data["quota"] is None
    assert [u["record_id"] for u in data["data_quality"]["unconverted_amounts"]] == [INTL_QUOTA_ROW]
    md, html = intl_rendered[R2].markdown, intl_rendered[R2].html
    assert "quota is in a currency without a conversion rate (JPY)" in md
    assert "quota is in a currency without a conversion rate (JPY)" in html
    assert "No quota set for this quarter" not in md
    assert "0%" not in md.split("### Quota")[1].split("###")[0]


def test_activity_the_org_does_not_log_is_blank_and_explained(intl_contexts, intl_rendered):
    ctx = intl_contexts[R1]
    data = ctx.to_dict()
    assert data["activity_not_logged"] == ["emails"]
    emails = data["metrics"]["emails"]
    for stat in ("this_week", "prior_week", "avg_4w", "team_median"):
        assert emails[stat] is None, stat
    assert emails["logged"] is False
    # Calls and meetings are still logged and still compared.
    assert data["metrics"]["calls"]["logged"] is True
    assert data["metrics"]["calls"]["this_week"] == 8

    md = intl_rendered[R1].markdown
    row = next(r for r in md.splitlines() if r.startswith("| Emails"))
    assert "not logged in Salesforce" in row
    assert "0" not in row.replace("(not logged in Salesforce)", "")  # no zeros, no median
    assert "`" not in row  # no sparkline
    assert "The org does not log emails in Salesforce" in md
    assert "Einstein Activity Capture" in md
    html = intl_rendered[R1].html
    assert "The org does not log emails in Salesforce" in html
    emails_row = re.search(r"<tr><td>Emails.*?</tr>", html, re.S).group(0)
    assert "not logged in Salesforce" in emails_row
    assert "ask why" not in emails_row


def test_no_why_question_about_activity_the_org_does_not_log(intl_contexts):
    for ctx in intl_contexts.values():
        assert all(q.metric != "emails" for q in ctx.questions)
        prep = " ".join(d for step in ctx.manager_prep for d in step.details)
        assert "emails not logged in Salesforce" in prep
        assert "emails —" not in prep


def test_hostile_record_types_stay_inert(intl_rendered):
    packet = intl_rendered[R2]
    assert "<script>" not in packet.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in packet.html
    stuck = packet.markdown.split("### Stuck deals")[1]
    assert "\\<script\\>" in stuck and "<script>" not in stuck
    assert HOSTILE not in packet.markdown


def test_record_type_column_only_where_deals_have_record_types(intl_rendered, by_rep):
    assert by_rep[R1].shows_record_types is False
    packet = intl_rendered[R2]
    assert "forecast <bdi>Commit</bdi>" in packet.html
