"""Which metrics and packet sections need which Salesforce objects and fields (METRICS.md, the
dbt models), so that doctor can say what a missing or hidden one costs.

Kept explicit rather than derived from the dbt graph: the words are for a sales ops engineer,
and a field can matter for a rule (an `Omitted` forecast category) that no column name shows.
`tests/doctor` checks that every catalog object has an entry and that every entry names a
catalog object or field, so the map cannot drift from the catalog silently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """What an object or field feeds, and what the run does without it."""

    feeds: str
    without: str = ""


# An object or field no metric or packet section reads: landed for BI tools only.
FOR_BI_ONLY = Need("nothing in the packets (landed for BI tools)", "its table is empty for BI")

OBJECT_NEEDS: dict[str, Need] = {
    "Organization": Need(
        "the fiscal year start, fiscal year names and the money locale",
        "quarters start in the month of the setting fiscal_year_start_month, else January; "
        "money is formatted for en_US",
    ),
    "FiscalYearSettings": Need(
        "the fiscal year names of custom fiscal quarters", "custom quarters are named by year"
    ),
    "Period": Need(
        "custom fiscal quarters (Type = 'Quarter') for quota, won_to_date, pacing and coverage",
        "quarters follow the fiscal year start month",
    ),
    "CurrencyType": Need(
        "converting every amount to the corporate currency",
        "amounts are used as they are",
    ),
    "DatedConversionRate": Need(
        "dated exchange rates of opportunity amounts (Advanced Currency Management)",
        "opportunity amounts use the static CurrencyType rates",
    ),
    "RecordType": Need(
        "the record_types include/exclude rules and each deal's record type",
        "every opportunity counts and deals show no record type",
    ),
    "Profile": Need(
        "the pairs.include_profiles/exclude_profiles rules",
        "profile rules match nobody (with include_profiles set, nobody gets a packet)",
    ),
    "UserRole": Need(
        "the pairs.include_roles/exclude_roles rules",
        "role rules match nobody (with include_roles set, nobody gets a packet)",
    ),
    "User": Need("who gets a packet (manager-rep pairs), names and manager emails"),
    "Account": Need(
        "each deal's account name and industry, lessons matched by industry",
        "deals show no account or industry",
    ),
    "Contact": FOR_BI_ONLY,
    "OpportunityStage": Need(
        "stage order and closed/won flags (deal movement, stage jumps of fast movers)",
        "the standard Salesforce stage list, extended by the setting extra_stages, is used",
    ),
    "Opportunity": Need(
        "opportunities_created, pipeline_created, closed_won_count/amount, closed_lost_count, "
        "deal movement, stuck deals, fast movers, won_to_date and open_pipeline"
    ),
    "OpportunityHistory": Need(
        "each deal's state as of a week's end: deal movement, stage_aging, close_date_pushed, "
        "open_pipeline",
        "the current record stands for every past week: movement and stage aging are approximate",
    ),
    "OpportunityFieldHistory": Need(
        "close_date_pushed (CloseDate changes)", "close-date pushes come from OpportunityHistory"
    ),
    "OpportunityContactRole": FOR_BI_ONLY,
    "Task": Need(
        "calls, emails and the no_activity stuck rule",
        "calls and emails count as not logged (null in every packet)",
    ),
    "Event": Need(
        "meetings and the no_activity stuck rule",
        "meetings count as not logged (null in every packet)",
    ),
    "ForecastingQuota": Need(
        "quota, attainment, pacing, coverage and the performance-conversation agenda",
        "quotas come from the setting quota_csv; without it packets say there is no quota",
    ),
}

_QUARTERS = "custom fiscal quarter boundaries"
_RATES = "currency conversion"
_NO_RATE = "amounts in that currency have no rate and count as null"

FIELD_NEEDS: dict[tuple[str, str], Need] = {
    ("Organization", "FiscalYearStartMonth"): Need(
        "standard fiscal quarters", "quarters start in January unless configured"
    ),
    ("Organization", "UsesStartDateAsFiscalYearName"): Need(
        "fiscal year names (FY labels)", "fiscal years are named by the year they end in"
    ),
    ("Organization", "DefaultLocaleSidKey"): Need(
        "the money locale", "money is formatted for en_US unless money_locale is set"
    ),
    ("FiscalYearSettings", "Name"): Need(
        "fiscal year names of custom quarters", "custom quarters are named by year"
    ),
    ("Period", "FiscalYearSettingsId"): Need(
        "fiscal year names of custom quarters", "custom quarters are named by year"
    ),
    ("Period", "Type"): Need(_QUARTERS, "custom quarters cannot be told from months"),
    ("Period", "StartDate"): Need(_QUARTERS, "custom quarters cannot be used"),
    ("Period", "EndDate"): Need(_QUARTERS, "custom quarters cannot be used"),
    ("Period", "Number"): Need("quarter numbers in labels", "custom quarters have no number"),
    ("CurrencyType", "IsoCode"): Need(_RATES, "no currency has a rate"),
    ("CurrencyType", "ConversionRate"): Need(_RATES, "no currency has a static rate"),
    ("CurrencyType", "IsCorporate"): Need(
        "the corporate currency", "the setting currency_code is taken as the corporate one"
    ),
    ("DatedConversionRate", "IsoCode"): Need(_RATES, _NO_RATE),
    ("DatedConversionRate", "ConversionRate"): Need(_RATES, _NO_RATE),
    ("DatedConversionRate", "StartDate"): Need(_RATES, _NO_RATE),
    ("DatedConversionRate", "NextStartDate"): Need(
        _RATES, "every dated rate is taken as open-ended"
    ),
    ("RecordType", "DeveloperName"): Need(
        "the record_types include/exclude rules", "record type rules match nothing"
    ),
    ("RecordType", "Name"): Need("each deal's record type", "deals show no record type"),
    ("RecordType", "SobjectType"): Need(
        "telling Opportunity record types from others", "record types of all objects are listed"
    ),
    ("Profile", "Name"): Need("profile rules", "profile rules match nobody"),
    ("UserRole", "Name"): Need("role rules", "role rules match nobody"),
    ("User", "Id"): Need("every pair"),
    ("User", "Name"): Need("rep and manager names in every packet"),
    ("User", "IsActive"): Need("who gets a packet (active reps of active managers)"),
    ("User", "ManagerId"): Need("manager-rep pairs"),
    ("User", "Email"): Need(
        "managers' emails for the 'packets are ready' notice", "managers get no email"
    ),
    ("User", "Title"): Need("the rep's title in the packet header", "no title is shown"),
    ("User", "UserRoleId"): Need("role rules", "role rules match nobody"),
    ("User", "ProfileId"): Need("profile rules", "profile rules match nobody"),
    ("User", "TimeZoneSidKey"): Need(
        "the time zone of each pair's weekly 1:1 (the manager's)",
        "every 1:1 is set in org_timezone",
    ),
    ("Account", "Name"): Need("each deal's account name", "deals show no account"),
    ("Account", "Industry"): Need(
        "each deal's industry, lessons matched by industry", "lessons are not matched by industry"
    ),
    ("OpportunityStage", "ApiName"): Need(
        "matching StageName values to org stages", "stages are matched by their label"
    ),
    ("OpportunityStage", "MasterLabel"): Need("stage labels", "stages show their API name"),
    ("OpportunityStage", "SortOrder"): Need(
        "stage order: advanced/regressed, stage jumps", "the org's stages have no order"
    ),
    ("OpportunityStage", "IsClosed"): Need("which stages are closed", "no org stage is closed"),
    ("OpportunityStage", "IsWon"): Need("which stages are won", "no org stage is won"),
    ("Opportunity", "Id"): Need("every deal"),
    ("Opportunity", "Name"): Need("deal names in every packet"),
    ("Opportunity", "OwnerId"): Need("whose deal it is: every deal metric"),
    ("Opportunity", "StageName"): Need("deal movement, stage_aging, fast movers"),
    ("Opportunity", "CloseDate"): Need(
        "closed_won/closed_lost weeks, won_to_date, open_pipeline, close_date_pushed"
    ),
    ("Opportunity", "IsClosed"): Need("open/closed state: every deal metric"),
    ("Opportunity", "IsWon"): Need("closed_won_count/amount, won_to_date, fast movers"),
    ("Opportunity", "CreatedDate"): Need(
        "opportunities_created, pipeline_created, won cycles, stage_aging"
    ),
    ("Opportunity", "Amount"): Need(
        "pipeline_created, closed_won_amount, won_to_date, open_pipeline, coverage, deal amounts",
        "every amount is null: deal counts only, no quota attainment or coverage",
    ),
    ("Opportunity", "ForecastCategoryName"): Need(
        "leaving Omitted deals out of open_pipeline, each deal's forecast category",
        "no deal is left out of open_pipeline as Omitted",
    ),
    ("Opportunity", "AccountId"): Need(
        "each deal's account and industry", "deals show no account or industry"
    ),
    ("Opportunity", "NextStep"): Need("each deal's next step", "deals show no next step"),
    ("Opportunity", "Loss_Reason__c"): Need(
        "field-feedback themes from recent losses (Communication)",
        "losses carry no reason: no field-feedback themes",
    ),
    ("Opportunity", "CurrencyIsoCode"): Need(
        "each amount's currency", "every amount is taken as corporate currency"
    ),
    ("Opportunity", "RecordTypeId"): Need(
        "record type rules and each deal's record type",
        "record type rules match nothing; deals show no record type",
    ),
    ("OpportunityHistory", "OpportunityId"): Need("deal state as of a week's end"),
    ("OpportunityHistory", "StageName"): Need("deal stage as of a week's end"),
    ("OpportunityHistory", "CreatedDate"): Need("when each change happened"),
    ("OpportunityHistory", "Amount"): Need(
        "amounts as of a week's end (open_pipeline, deal amounts)",
        "past amounts are null (no amount then)",
    ),
    ("OpportunityHistory", "CloseDate"): Need(
        "close_date_pushed and open_pipeline as of a week's end",
        "close-date pushes come from OpportunityFieldHistory only",
    ),
    ("OpportunityHistory", "ForecastCategory"): Need(
        "forecast category as of a week's end", "the current forecast category is used"
    ),
    ("OpportunityHistory", "CurrencyIsoCode"): Need(
        "the currency of past amounts", "past amounts take the opportunity's current currency"
    ),
    ("OpportunityFieldHistory", "OpportunityId"): Need("close_date_pushed"),
    ("OpportunityFieldHistory", "Field"): Need("close_date_pushed"),
    ("OpportunityFieldHistory", "CreatedDate"): Need("close_date_pushed"),
    ("OpportunityFieldHistory", "OldValue"): Need(
        "close_date_pushed", "close-date pushes come from OpportunityHistory only"
    ),
    ("OpportunityFieldHistory", "NewValue"): Need(
        "close_date_pushed", "close-date pushes come from OpportunityHistory only"
    ),
    ("Task", "OwnerId"): Need("whose calls and emails they are"),
    ("Task", "ActivityDate"): Need("the week of each call and email"),
    ("Task", "IsClosed"): Need("calls and emails count closed Tasks only"),
    ("Task", "TaskSubtype"): Need(
        "telling calls and emails apart", "calls and emails are told apart by Type alone"
    ),
    ("Task", "Type"): Need(
        "calls and emails where TaskSubtype is empty", "Tasks without TaskSubtype count as neither"
    ),
    ("Task", "WhatId"): Need("the no_activity stuck rule", "no Task counts as activity on a deal"),
    ("Event", "OwnerId"): Need("whose meetings they are"),
    ("Event", "StartDateTime"): Need("the week of each meeting"),
    ("Event", "WhatId"): Need(
        "the no_activity stuck rule", "no Event counts as activity on a deal"
    ),
    ("ForecastingQuota", "QuotaOwnerId"): Need("whose quota it is"),
    ("ForecastingQuota", "StartDate"): Need("the quarter of each quota"),
    ("ForecastingQuota", "QuotaAmount"): Need("quota, attainment, pacing, coverage"),
    ("ForecastingQuota", "CurrencyIsoCode"): Need(
        "each quota's currency", "quotas are taken as corporate currency"
    ),
}


def object_need(name: str) -> Need:
    return OBJECT_NEEDS.get(name, FOR_BI_ONLY)


def field_need(object_name: str, field_name: str) -> Need | None:
    """What the field feeds; None for a field no metric or packet section reads."""
    return FIELD_NEEDS.get((object_name, field_name))
