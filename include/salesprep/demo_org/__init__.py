"""The demo org generator: a believable, deterministic Salesforce org written as an org folder."""

from salesprep.demo_org.generator import DemoOrgError, OrgSummary, generate_org
from salesprep.demo_org.ids import InvalidIdError, is_valid_id, salesforce_id
from salesprep.demo_org.shape import INTERNATIONAL, OrgShape

__all__ = [
    "INTERNATIONAL",
    "DemoOrgError",
    "InvalidIdError",
    "OrgShape",
    "OrgSummary",
    "generate_org",
    "is_valid_id",
    "salesforce_id",
]
