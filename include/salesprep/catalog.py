"""The Salesforce objects and fields salesprep reads: one declaration shared by the demo
generator, the API emulator, extraction, the raw checkpoint and the dbt sources."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# Salesforce describe `type` values, grouped by the Arrow type they land as in Parquet.
_ARROW_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(
        [
            "id",
            "reference",
            "string",
            "picklist",
            "multipicklist",
            "combobox",
            "textarea",
            "email",
            "phone",
            "url",
            "anyType",
        ],
        pa.string(),
    ),
    "boolean": pa.bool_(),
    **dict.fromkeys(["currency", "double", "percent"], pa.float64()),
    "int": pa.int64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Field:
    """One field of a Salesforce object, as `describe` reports it."""

    name: str
    type: str
    required: bool = False
    reference_to: str | None = None
    # The org feature the field comes with ("" for fields every org has), e.g. CurrencyIsoCode
    # exists only in multi-currency orgs.
    feature: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.type]


@dataclass(frozen=True)
class SObject:
    """A Salesforce object salesprep extracts, with the fields it declares."""

    name: str
    fields: tuple[Field, ...]
    required: bool = False
    # Incremental cursor: SystemModstamp where the object has one, else CreatedDate.
    cursor: str = "SystemModstamp"
    label: str = ""
    # The org feature an object belongs to ("" for objects every org has): an org without the
    # feature has no such object, and METRICS.md says what that means (e.g. one currency).
    feature: str = ""
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> Field:
        """The declared field called `name` (case-insensitive, as Salesforce compares)."""
        return self._by_name[name.lower()]

    def has_field(self, name: str) -> bool:
        return name.lower() in self._by_name

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def has_is_deleted(self) -> bool:
        return self.has_field("IsDeleted")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type) for f in self.fields])

    def fields_for(self, features: frozenset[str] = frozenset()) -> tuple[Field, ...]:
        """The fields an org with `features` has: every field, less those of other features."""
        return tuple(f for f in self.fields if not f.feature or f.feature in features)


def _f(
    name: str, type_: str, *, required: bool = False, to: str | None = None, feature: str = ""
) -> Field:
    return Field(name=name, type=type_, required=required, reference_to=to, feature=feature)


_AUDIT = (
    _f("CreatedDate", "datetime"),
    _f("LastModifiedDate", "datetime"),
    _f("SystemModstamp", "datetime"),
)
_DELETABLE_AUDIT = (_f("IsDeleted", "boolean"), *_AUDIT)

OBJECTS: tuple[SObject, ...] = (
    SObject(
        "Organization",
        (
            _f("Id", "id", required=True),
            _f("Name", "string"),
            # Standard fiscal years: quarters start in this month (METRICS.md, Quarter).
            _f("FiscalYearStartMonth", "int"),
            _f("UsesStartDateAsFiscalYearName", "boolean"),
            _f("DefaultLocaleSidKey", "picklist"),
            _f("LanguageLocaleKey", "picklist"),
            _f("TimeZoneSidKey", "picklist"),
            *_AUDIT,
        ),
        label="Organization",
    ),
    SObject(
        "FiscalYearSettings",
        (
            _f("Id", "id", required=True),
            _f("Name", "string"),
            _f("StartDate", "date"),
            _f("EndDate", "date"),
            _f("IsStandardYear", "boolean"),
            _f("YearType", "picklist"),
            _f("QuarterLabelScheme", "picklist"),
            _f("QuarterPrefix", "picklist"),
            _f("SystemModstamp", "datetime"),
        ),
        label="Fiscal Year Settings",
        feature="custom_fiscal_year",
    ),
    SObject(
        "Period",
        (
            _f("Id", "id", required=True),
            _f("FiscalYearSettingsId", "reference", to="FiscalYearSettings"),
            _f("Type", "picklist"),
            _f("StartDate", "date"),
            _f("EndDate", "date"),
            _f("Number", "int"),
            _f("QuarterLabel", "picklist"),
            _f("PeriodLabel", "picklist"),
            _f("FullyQualifiedLabel", "string"),
            _f("IsForecastPeriod", "boolean"),
            _f("SystemModstamp", "datetime"),
        ),
        label="Period",
        feature="custom_fiscal_year",
    ),
    SObject(
        "CurrencyType",
        (
            _f("Id", "id", required=True),
            _f("IsoCode", "picklist"),
            # Units of this currency per unit of the corporate currency (amount / rate).
            _f("ConversionRate", "double"),
            _f("DecimalPlaces", "int"),
            _f("IsActive", "boolean"),
            _f("IsCorporate", "boolean"),
            *_AUDIT,
        ),
        label="Currency Type",
        feature="multi_currency",
    ),
    SObject(
        "DatedConversionRate",
        (
            _f("Id", "id", required=True),
            _f("IsoCode", "picklist"),
            _f("ConversionRate", "double"),
            _f("StartDate", "date"),
            _f("NextStartDate", "date"),
            *_AUDIT,
        ),
        label="Dated Conversion Rate",
        feature="advanced_currency_management",
    ),
    SObject(
        "RecordType",
        (
            _f("Id", "id", required=True),
            _f("Name", "string"),
            _f("DeveloperName", "string"),
            _f("SobjectType", "picklist"),
            _f("IsActive", "boolean"),
            *_AUDIT,
        ),
        label="Record Type",
        feature="record_types",
    ),
    SObject(
        "Profile",
        (_f("Id", "id", required=True), _f("Name", "string"), *_AUDIT),
        label="Profile",
    ),
    SObject(
        "UserRole",
        (
            _f("Id", "id", required=True),
            _f("Name", "string"),
            _f("DeveloperName", "string"),
            _f("ParentRoleId", "reference", to="UserRole"),
            *_AUDIT,
        ),
        label="Role",
    ),
    SObject(
        "User",
        (
            _f("Id", "id", required=True),
            _f("Name", "string", required=True),
            _f("FirstName", "string"),
            _f("LastName", "string"),
            _f("Username", "string"),
            _f("Email", "email"),
            _f("Title", "string"),
            _f("Department", "string"),
            _f("IsActive", "boolean", required=True),
            _f("ManagerId", "reference", required=True, to="User"),
            _f("UserRoleId", "reference", to="UserRole"),
            _f("ProfileId", "reference", to="Profile"),
            _f("TimeZoneSidKey", "picklist"),
            *_AUDIT,
        ),
        required=True,
        label="User",
    ),
    SObject(
        "Account",
        (
            _f("Id", "id", required=True),
            _f("Name", "string"),
            _f("Industry", "picklist"),
            _f("Type", "picklist"),
            _f("BillingCountry", "string"),
            _f("NumberOfEmployees", "int"),
            _f("AnnualRevenue", "currency"),
            _f("OwnerId", "reference", to="User"),
            *_DELETABLE_AUDIT,
        ),
        label="Account",
    ),
    SObject(
        "Contact",
        (
            _f("Id", "id", required=True),
            _f("AccountId", "reference", to="Account"),
            _f("FirstName", "string"),
            _f("LastName", "string"),
            _f("Title", "string"),
            _f("Email", "email"),
            _f("OwnerId", "reference", to="User"),
            *_DELETABLE_AUDIT,
        ),
        label="Contact",
    ),
    SObject(
        "OpportunityStage",
        (
            _f("Id", "id", required=True),
            _f("MasterLabel", "string"),
            _f("ApiName", "string"),
            _f("SortOrder", "int"),
            _f("IsActive", "boolean"),
            _f("IsClosed", "boolean"),
            _f("IsWon", "boolean"),
            _f("DefaultProbability", "percent"),
            _f("ForecastCategoryName", "picklist"),
            *_AUDIT,
        ),
        label="Opportunity Stage",
    ),
    SObject(
        "Opportunity",
        (
            _f("Id", "id", required=True),
            _f("Name", "string", required=True),
            _f("AccountId", "reference", to="Account"),
            _f("OwnerId", "reference", required=True, to="User"),
            _f("StageName", "picklist", required=True),
            _f("Amount", "currency"),
            _f("CloseDate", "date", required=True),
            _f("Probability", "percent"),
            _f("ForecastCategoryName", "picklist"),
            _f("Type", "picklist"),
            _f("LeadSource", "picklist"),
            _f("NextStep", "string"),
            _f("Description", "textarea"),
            _f("IsClosed", "boolean", required=True),
            _f("IsWon", "boolean", required=True),
            # Custom field: free-text loss reason. Optional; the name is configurable.
            _f("Loss_Reason__c", "textarea"),
            # The currency of Amount (multi-currency orgs only).
            _f("CurrencyIsoCode", "picklist", feature="multi_currency"),
            _f("RecordTypeId", "reference", to="RecordType", feature="record_types"),
            _f("IsDeleted", "boolean"),
            _f("CreatedDate", "datetime", required=True),
            _f("LastModifiedDate", "datetime"),
            _f("SystemModstamp", "datetime"),
        ),
        required=True,
        label="Opportunity",
    ),
    SObject(
        "OpportunityHistory",
        (
            _f("Id", "id", required=True),
            _f("OpportunityId", "reference", required=True, to="Opportunity"),
            _f("StageName", "picklist", required=True),
            _f("Amount", "currency"),
            _f("CloseDate", "date"),
            _f("Probability", "percent"),
            _f("ForecastCategory", "picklist"),
            _f("CurrencyIsoCode", "picklist", feature="multi_currency"),
            _f("CreatedById", "reference", to="User"),
            _f("IsDeleted", "boolean"),
            _f("CreatedDate", "datetime", required=True),
            _f("SystemModstamp", "datetime"),
        ),
        label="Opportunity History",
    ),
    SObject(
        "OpportunityFieldHistory",
        (
            _f("Id", "id", required=True),
            _f("OpportunityId", "reference", required=True, to="Opportunity"),
            _f("Field", "picklist", required=True),
            _f("OldValue", "anyType"),
            _f("NewValue", "anyType"),
            _f("CreatedById", "reference", to="User"),
            _f("IsDeleted", "boolean"),
            _f("CreatedDate", "datetime", required=True),
        ),
        cursor="CreatedDate",
        label="Opportunity Field History",
    ),
    SObject(
        "OpportunityContactRole",
        (
            _f("Id", "id", required=True),
            _f("OpportunityId", "reference", required=True, to="Opportunity"),
            _f("ContactId", "reference", to="Contact"),
            _f("Role", "picklist"),
            _f("IsPrimary", "boolean"),
            *_DELETABLE_AUDIT,
        ),
        label="Opportunity Contact Role",
    ),
    SObject(
        "Task",
        (
            _f("Id", "id", required=True),
            _f("OwnerId", "reference", required=True, to="User"),
            _f("WhatId", "reference", to="Opportunity"),
            _f("WhoId", "reference", to="Contact"),
            _f("Subject", "string"),
            _f("ActivityDate", "date", required=True),
            _f("Status", "picklist"),
            _f("IsClosed", "boolean", required=True),
            _f("Type", "picklist"),
            _f("TaskSubtype", "picklist"),
            _f("CallDurationInSeconds", "int"),
            # Activities older than a year are archived: only queryAll returns them.
            _f("IsArchived", "boolean"),
            *_DELETABLE_AUDIT,
        ),
        label="Task",
    ),
    SObject(
        "Event",
        (
            _f("Id", "id", required=True),
            _f("OwnerId", "reference", required=True, to="User"),
            _f("WhatId", "reference", to="Opportunity"),
            _f("WhoId", "reference", to="Contact"),
            _f("Subject", "string"),
            _f("StartDateTime", "datetime", required=True),
            _f("EndDateTime", "datetime"),
            _f("DurationInMinutes", "int"),
            _f("ActivityDate", "date"),
            _f("Type", "picklist"),
            _f("EventSubtype", "picklist"),
            _f("IsArchived", "boolean"),
            *_DELETABLE_AUDIT,
        ),
        label="Event",
    ),
    SObject(
        "ForecastingQuota",
        (
            _f("Id", "id", required=True),
            _f("QuotaOwnerId", "reference", required=True, to="User"),
            _f("StartDate", "date", required=True),
            _f("QuotaAmount", "currency", required=True),
            _f("CurrencyIsoCode", "picklist", feature="multi_currency"),
            _f("ForecastingTypeId", "reference"),
            *_AUDIT,
        ),
        label="Forecasting Quota",
    ),
)

# Org features that bring objects or fields of their own (SObject.feature, Field.feature).
FEATURES: tuple[str, ...] = (
    "multi_currency",
    "advanced_currency_management",
    "custom_fiscal_year",
    "record_types",
)

_BY_NAME = {o.name.lower(): o for o in OBJECTS}


def objects_for(features: frozenset[str] = frozenset()) -> tuple[SObject, ...]:
    """The objects an org with `features` has: those every org has, plus the features' own."""
    return tuple(o for o in OBJECTS if not o.feature or o.feature in features)


class UnknownObjectError(KeyError):
    """An object name that salesprep does not declare."""


def get_object(name: str) -> SObject:
    """The declared object called `name` (case-insensitive)."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError as exc:
        known = ", ".join(o.name for o in OBJECTS)
        raise UnknownObjectError(f"unknown Salesforce object {name!r}; known: {known}") from exc


@dataclass(frozen=True)
class StandardStage:
    """A stage of the picklist every new Salesforce org starts with."""

    name: str
    sort_order: int
    probability: int
    forecast_category: str
    is_closed: bool = False
    is_won: bool = False


# The standard stage list: stage order and closed/won flags when an org has no readable
# OpportunityStage (METRICS.md); config extends it with `extra_stages`. The dbt seed
# `standard_opportunity_stages.csv` holds the same rows (a test keeps them equal).
STANDARD_OPPORTUNITY_STAGES: tuple[StandardStage, ...] = (
    StandardStage("Prospecting", 1, 10, "Pipeline"),
    StandardStage("Qualification", 2, 10, "Pipeline"),
    StandardStage("Needs Analysis", 3, 20, "Pipeline"),
    StandardStage("Value Proposition", 4, 50, "Pipeline"),
    StandardStage("Id. Decision Makers", 5, 60, "Pipeline"),
    StandardStage("Perception Analysis", 6, 70, "Pipeline"),
    StandardStage("Proposal/Price Quote", 7, 75, "Pipeline"),
    StandardStage("Negotiation/Review", 8, 90, "Pipeline"),
    StandardStage("Closed Won", 9, 100, "Closed", is_closed=True, is_won=True),
    StandardStage("Closed Lost", 10, 0, "Omitted", is_closed=True),
)

# Key prefixes of the standard objects (the first 3 characters of every record Id).
KEY_PREFIXES: dict[str, str] = {
    "Organization": "00D",
    "FiscalYearSettings": "022",
    "Period": "026",
    "CurrencyType": "02c",
    "DatedConversionRate": "04w",
    "RecordType": "012",
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "OpportunityContactRole": "00K",
    "OpportunityStage": "01J",
    "OpportunityFieldHistory": "017",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "UserRole": "00E",
    "Profile": "00e",
    "ForecastingQuota": "0J9",
}
