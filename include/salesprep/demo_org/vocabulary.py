"""Words the demo org is made of: names, companies, industries, stages and the text reps type."""

from __future__ import annotations

from salesprep.catalog import STANDARD_OPPORTUNITY_STAGES

# (first name, last name, email local part). The first few are put on real people on purpose:
# an apostrophe, accents and a non-Latin script exercise escaping, slugs and CSV quoting.
HARD_REP_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Conor", "O'Brien", "conor.obrien"),
    ("Renée", "Lefèvre", "renee.lefevre"),
    ("Анна", "Смирнова", "anna.smirnova"),
)
HARD_MANAGER_NAMES: tuple[tuple[str, str, str], ...] = (
    ("María José", "Núñez-García", "mariajose.nunez-garcia"),
)

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah", "Aaron", "Adrian", "Aisha", "Alex", "Alicia", "Amara", "Andre", "Angela", "Arjun",
    "Ben", "Bianca", "Brandon", "Camila", "Carlos", "Chloe", "Chris", "Dana", "Daniel", "Deepa",
    "Diego", "Elena", "Emily", "Ethan", "Fatima", "Felix", "Grace", "Hannah", "Hiro", "Isaac",
    "Isabel", "Jamal", "James", "Jasmine", "Jenna", "Jordan", "Julia", "Kai", "Karen", "Kevin",
    "Lars", "Laura", "Leah", "Lucas", "Maya", "Megan", "Mei", "Michael", "Mohammed", "Nadia",
    "Nathan", "Nina", "Noah", "Olivia", "Omar", "Priya", "Rachel", "Rahul", "Rosa", "Ryan",
    "Samuel", "Sara", "Sean", "Sofia", "Sophie", "Tariq", "Thomas", "Tom", "Valentina", "Victor",
    "Wei", "Yara", "Yusuf", "Zach", "Zoe",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Abbott", "Adeyemi", "Alvarez", "Anderson", "Bauer", "Bennett", "Brooks", "Campbell",
    "Castillo", "Chen", "Clarke", "Collins", "Costa", "Das", "Dubois", "Edwards", "Evans",
    "Fischer", "Flores", "Foster", "Garcia", "Gupta", "Hansen", "Harris", "Hughes", "Ibrahim",
    "Ito", "Jensen", "Johnson", "Kapoor", "Kelly", "Kim", "Kowalski", "Larsen", "Lee", "Lopez",
    "Martin", "Meyer", "Miller", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor",
    "Olsen", "Patel", "Perez", "Petrov", "Price", "Ramirez", "Reddy", "Reyes", "Richter",
    "Rossi", "Russo", "Sanchez", "Schmidt", "Shah", "Silva", "Singh", "Sullivan", "Tanaka",
    "Taylor", "Thompson", "Turner", "Vargas", "Walker", "Wang", "Weber", "Williams", "Wright",
    "Yamamoto", "Young", "Zhang",
)  # fmt: skip

EMAIL_DOMAIN = "northwind-demo.example.com"

# Team regions: (label, time zone, billing countries). Reps work in their manager's time zone,
# so meetings at 09:00 in Sydney or 17:00 in Los Angeles land late or early in UTC.
REGIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("NA East", "America/New_York", ("United States", "Canada")),
    ("NA West", "America/Los_Angeles", ("United States", "Canada", "Mexico")),
    ("EMEA", "Europe/London", ("United Kingdom", "Ireland", "Germany", "France", "Netherlands")),
    ("APAC", "Australia/Sydney", ("Australia", "New Zealand", "Singapore", "Japan")),
    ("DACH", "Europe/Berlin", ("Germany", "Austria", "Switzerland")),
    ("Japan", "Asia/Tokyo", ("Japan",)),
)

# The Industry picklist of a default org, with weights for a B2B software seller.
INDUSTRIES: tuple[tuple[str, int], ...] = (
    ("Technology", 14), ("Finance", 8), ("Banking", 6), ("Healthcare", 9), ("Manufacturing", 9),
    ("Retail", 7), ("Insurance", 5), ("Education", 4), ("Telecommunications", 4), ("Energy", 3),
    ("Transportation", 4), ("Consulting", 4), ("Media", 3), ("Government", 2), ("Hospitality", 2),
    ("Biotechnology", 3), ("Construction", 2), ("Food & Beverage", 3), ("Utilities", 2),
    ("Not For Profit", 2), ("Engineering", 2), ("Chemicals", 1), ("Shipping", 2), ("Other", 2),
)  # fmt: skip
ACCOUNT_TYPES: tuple[tuple[str, int], ...] = (
    ("Prospect", 50), ("Customer - Direct", 30), ("Customer - Channel", 10),
    ("Channel Partner / Reseller", 4), ("Other", 6),
)  # fmt: skip
COMPANY_HEADS: tuple[str, ...] = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Blue Harbor", "Bluepeak", "Brightline",
    "Cascade", "Cedar", "Clearwater", "Cobalt", "Copperleaf", "Crescent", "Crown", "Delta",
    "Evergreen", "Falcon", "Foxglove", "Granite", "Greenfield", "Harbor", "Highland", "Horizon",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Lighthouse", "Lumen", "Maple", "Meridian",
    "Northstar", "Northwind", "Oakridge", "Orbit", "Pacific", "Pinnacle", "Prairie", "Quantum",
    "Redwood", "Riverbend", "Sagebrush", "Silverline", "Solstice", "Stonebridge", "Summit",
    "Sunrise", "Tidewater", "Trident", "Union", "Vanguard", "Vertex", "Westbrook", "Willow",
    "Zenith",
)  # fmt: skip
COMPANY_TAILS: tuple[str, ...] = (
    "Analytics", "Bank", "Biotech", "Brands", "Capital", "Clinics", "Construction", "Dynamics",
    "Energy", "Foods", "Freight", "Health", "Hotels", "Industries", "Insurance", "Labs",
    "Logistics", "Manufacturing", "Media", "Networks", "Partners", "Pharma", "Retail",
    "Software", "Solutions", "Systems", "Telecom", "Trading", "Ventures", "Works",
)  # fmt: skip
COMPANY_FORMS: tuple[str, ...] = ("", "", "", " Inc.", " LLC", " Ltd", " GmbH", " Group", " Co.")
# A few account names real exports carry, with commas, quotes and ampersands.
ODD_ACCOUNT_NAMES: tuple[str, ...] = (
    "Smith, Jones & Partners",
    'The "Corner" Bakery Co.',
    "Müller & Söhne GmbH",
    "O'Neill Freight, Inc.",
)

CONTACT_TITLES: tuple[str, ...] = (
    "CFO", "CIO", "CTO", "VP Finance", "VP Operations", "VP Engineering", "Director of IT",
    "IT Manager", "Head of Procurement", "Operations Manager", "Controller", "COO",
    "Director of Sales Operations", "Product Manager", "Security Architect", "CEO",
)  # fmt: skip
CONTACT_ROLES: tuple[str, ...] = (
    "Decision Maker", "Economic Buyer", "Technical Buyer", "Evaluator", "Influencer",
    "Executive Sponsor", "Business User",
)  # fmt: skip

# The standard Salesforce stage list: (label = ApiName, probability, forecast category).
STAGES: tuple[tuple[str, int, str], ...] = tuple(
    (stage.name, stage.probability, stage.forecast_category)
    for stage in STANDARD_OPPORTUNITY_STAGES
)
# OpportunityHistory.ForecastCategory holds the API value, not the label the Opportunity shows.
FORECAST_CATEGORY_API: dict[str, str] = {
    "Pipeline": "Pipeline",
    "Best Case": "BestCase",
    "Commit": "Forecast",
    "Closed": "Closed",
    "Omitted": "Omitted",
}

OPPORTUNITY_TYPES: tuple[tuple[str, int], ...] = (
    ("New Business", 60), ("Existing Customer - Upgrade", 20),
    ("Existing Customer - Renewal", 12), ("Existing Customer - Replacement", 8),
)  # fmt: skip
LEAD_SOURCES: tuple[tuple[str, int], ...] = (
    ("Web", 25), ("Phone Inquiry", 8), ("Partner Referral", 12), ("Employee Referral", 5),
    ("External Referral", 8), ("Trade Show", 10), ("Purchased List", 6), ("Other", 6),
    ("Outbound", 20),
)  # fmt: skip
PRODUCTS: tuple[str, ...] = (
    "Platform", "Analytics Add-on", "Enterprise Licenses", "Expansion", "Renewal", "Pilot",
    "Data Integration", "Premier Support", "Multi-site Rollout", "Security Bundle",
    "Seats Upsell", "Migration",
)  # fmt: skip

# Lost-deal reasons reps type, by theme, in varied wording. The implementation-timeline theme
# grows over the window: the pattern the guide's "communication" step is meant to surface.
LOSS_REASONS: dict[str, tuple[str, ...]] = {
    "implementation": (
        "Loved the product but our implementation timeline was too long for them",
        "Needed to be live in 6 weeks; onboarding estimate was 12",
        "Implementation timeline - they could not wait for a Q3 go-live",
        "Concerned about rollout time and our services capacity",
        "Go-live date would have slipped past their busy season",
        "Chose a vendor that promised a faster implementation",
    ),
    "price": (
        "Price too high for their budget",
        "Budget cut mid-cycle, could not justify the cost",
        "Procurement wanted a discount we could not give",
        "Pricing: per-seat model too expensive at their volume",
        "Lost on price",
    ),
    "competitor": (
        "Went with a competitor",
        "Incumbent vendor renewed at a steep discount",
        "Chose a competitor's bundled suite",
        "Competitor already in place in another division",
        "Lost to a cheaper competitor with fewer features",
    ),
    "no_decision": (
        "No decision - project shelved",
        "Champion left the company, project on hold",
        "Timing: revisit next fiscal year",
        "Went dark after the proposal",
        "No budget this year; no decision made",
        "Project deprioritized after reorg",
    ),
}
NEXT_STEPS: tuple[str, ...] = (
    "Send revised proposal to {first}",
    "Schedule demo with their IT team",
    "Follow up on security review",
    "Confirm budget with CFO",
    "Book technical deep-dive",
    "Get redlines back from legal",
    "Intro call with {first}'s manager",
    "Share ROI model, then call {first}",
    "Send case study (retail, 3 sites)",
    "Align on pilot success criteria",
    "Waiting on procurement; chase Friday",
    'Send "mutual action plan" draft',
    # Next steps that carry a field-feedback theme (packets count them for open deals).
    "Walk {first} through the implementation plan",
    "Pricing concession request with finance",
    "Competitive bake-off vs. incumbent next week",
    "Onboarding timeline call with {first}'s ops lead",
)
DESCRIPTIONS: tuple[str, ...] = (
    "",
    "",
    "",
    "Inbound from webinar.",
    "Replacing a homegrown tool.\nTwo sites first, then the rest.",
    "Expansion after a good first year.",
    "Referral from partner; exec sponsor is the COO.",
    "Pilot in one region, then rollout if KPIs hold.",
)

CALL_SUBJECTS: tuple[str, ...] = (
    "Call", "Discovery call", "Follow-up call", "Left voicemail", "Check-in call",
    "Pricing call", "Call: intro",
)  # fmt: skip
EMAIL_SUBJECTS: tuple[str, ...] = (
    "Email: Follow-up", "Email: Proposal attached", "Email: Re: next steps",
    "Email: Meeting recap", "Email: Intro", "Email: Re: pricing question",
    "Email: Case study",
)  # fmt: skip
TODO_SUBJECTS: tuple[str, ...] = (
    "Prepare proposal", "Update account plan", "Send contract", "Research org chart",
)  # fmt: skip
MEETING_SUBJECTS: tuple[str, ...] = (
    "Discovery meeting", "Product demo", "Proposal review", "Technical deep-dive",
    "Executive briefing", "Negotiation meeting", "Onsite visit", "QBR",
)  # fmt: skip
