"""The demo org generator: a believable, deterministic Salesforce org written as an org folder."""

from salesprep.demo_org.generator import DemoOrgError, OrgSummary, generate_org
from salesprep.demo_org.ids import InvalidIdError, is_valid_id, salesforce_id

__all__ = [
    "DemoOrgError",
    "InvalidIdError",
    "OrgSummary",
    "generate_org",
    "is_valid_id",
    "salesforce_id",
]
