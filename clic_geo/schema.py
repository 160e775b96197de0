"""Column names and controlled vocabularies, in one place.

Everything that names a column or a category is a constant here, so the
reader, the store, the hotspot engine and the app agree on spelling.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "CATEGORY_LABELS",
    "COUNTY_LINES_CATEGORIES",
    "CUCKOOING_LABELS",
    "HARDENING_LABELS",
    "KEY",
    "MAX_TEXT",
    "OUTCOME_COL",
    "OUTCOME_LABELS",
    "POLICE_UK_CATEGORY",
    "REASON_COL",
    "REFERRAL_LABELS",
    "ROW",
    "ROW_COL",
    "SUPPORT_LABELS",
    "TREND_LABELS",
    "Category",
    "Col",
    "CuckooingStatus",
    "Hardening",
    "LineStatus",
    "Outcome",
    "Referral",
    "Support",
    "TimePrecision",
    "Trend",
]


#: Columns a reader adds to the rows it could not use, and to rejects files.
ROW_COL: Final = "file_row"
REASON_COL: Final = "reason"
OUTCOME_COL: Final = "import_outcome"
#: Columns validation adds to accepted rows: the stable identity used to spot
#: duplicates, and the spreadsheet row the record came from.
KEY: Final = "key"
ROW: Final = "_row"
#: The longest free text accepted in one field.
MAX_TEXT: Final = 10_000


class Col:
    """Column names of the canonical frames (incidents, addresses, visits)."""

    ID: Final = "id"
    WHEN: Final = "occurred_at"  # pandas Timestamp (UTC-naive, local time)
    MONTH: Final = "month"  # "YYYY-MM"
    PRECISION: Final = "time_precision"
    CATEGORY: Final = "category"
    ORIGINAL_TYPE: Final = "original_type"
    SEVERITY: Final = "severity"
    LAT: Final = "latitude"
    LON: Final = "longitude"
    EASTING: Final = "easting"
    NORTHING: Final = "northing"
    AREA: Final = "area_id"  # not "area": GeoDataFrame.area is the geometric area
    SOURCE: Final = "source"
    LOCATION: Final = "location"  # free-text place description ("On or near ...")
    NOTES: Final = "notes"
    IMPORT_ID: Final = "import_id"
    ROW: Final = "row"
    REASON: Final = "reason"
    WEIGHT: Final = "weight"
    # addresses
    ADDRESS: Final = "address"
    STATUS: Final = "cuckooing_status"
    STATUS_SINCE: Final = "status_since"
    SAFE_ALERT: Final = "safe_alert"
    PROTECTION_PLAN: Final = "protection_plan"
    NEXT_VISIT_DUE: Final = "next_visit_due"
    HARDENING: Final = "hardening"
    # visits
    ADDRESS_ID: Final = "address_id"
    OFFICERS: Final = "officers"
    OUTCOME: Final = "outcome"
    SUPPORT: Final = "support"
    REFERRALS: Final = "referrals"
    # county lines
    LINE_NAME: Final = "name"
    LINE_STATUS: Final = "status"
    # hotspots (the frame the engine returns and the planner and app consume)
    HOTSPOT_ID: Final = "hotspot_id"
    RANK: Final = "rank"  # 1 = go here first
    SCORE: Final = "score"
    TREND: Final = "trend"  # a Trend value


class TimePrecision(StrEnum):
    """How precisely an incident's time is known."""

    MONTH = "month"  # published data: month only
    DAY = "day"
    MINUTE = "minute"


class Category(StrEnum):
    """Incident categories (the documented vocabulary)."""

    DRUG_SUPPLY = "drug_supply"
    DRUG_POSSESSION = "drug_possession"
    DRUGS = "drugs"  # supply or possession not distinguished (data.police.uk "Drugs")
    VIOLENCE = "violence"
    WEAPONS = "weapons"
    THREAT_TO_LIFE = "threat_to_life"
    CUCKOOING_REPORT = "cuckooing_report"
    INTELLIGENCE_REPORT = "intelligence_report"
    ASB = "anti_social_behaviour"
    OTHER = "other"


CATEGORY_LABELS: Final[dict[str, str]] = {
    Category.DRUG_SUPPLY: "Drug supply",
    Category.DRUG_POSSESSION: "Drug possession",
    Category.DRUGS: "Drugs (supply or possession)",
    Category.VIOLENCE: "Violence",
    Category.WEAPONS: "Weapons",
    Category.THREAT_TO_LIFE: "Threat to life",
    Category.CUCKOOING_REPORT: "Cuckooing report",
    Category.INTELLIGENCE_REPORT: "Intelligence report",
    Category.ASB: "Anti-social behaviour",
    Category.OTHER: "Other",
}

#: The categories that make up the county-lines problem (the map's default filter).
COUNTY_LINES_CATEGORIES: Final[tuple[str, ...]] = (
    Category.DRUG_SUPPLY,
    Category.DRUG_POSSESSION,
    Category.DRUGS,
    Category.WEAPONS,
    Category.THREAT_TO_LIFE,
    Category.CUCKOOING_REPORT,
    Category.INTELLIGENCE_REPORT,
)

#: data.police.uk "Crime type" -> our category. Types not listed map to OTHER;
#: the original type is always kept in ``original_type``.
POLICE_UK_CATEGORY: Final[dict[str, str]] = {
    "drugs": Category.DRUGS,
    "possession of weapons": Category.WEAPONS,
    "violence and sexual offences": Category.VIOLENCE,
    "violent crime": Category.VIOLENCE,  # used by the 2011-2013 files
    "robbery": Category.VIOLENCE,
    "anti-social behaviour": Category.ASB,
}


class CuckooingStatus(StrEnum):
    """Status of an address of concern with respect to cuckooing."""

    NONE = "none"  # of concern for another reason (SAFE alert, plan) but not cuckooed
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    RESOLVED = "resolved"


CUCKOOING_LABELS: Final[dict[str, str]] = {
    CuckooingStatus.NONE: "Not cuckooed (SAFE alert or plan)",
    CuckooingStatus.SUSPECTED: "Cuckooing suspected",
    CuckooingStatus.CONFIRMED: "Cuckooing confirmed",
    CuckooingStatus.RESOLVED: "Cuckooing resolved",
}


class Hardening(StrEnum):
    """Target-hardening measures fitted to a premises through the housing provider."""

    SPY_HOLE = "spy_hole"
    KEY_CHAIN = "key_chain"
    CCTV = "cctv"
    ENTRY_SYSTEM = "entry_system"
    WARNING_NOTICE = "warning_notice"


HARDENING_LABELS: Final[dict[str, str]] = {
    Hardening.SPY_HOLE: "Spy hole",
    Hardening.KEY_CHAIN: "Key chain",
    Hardening.CCTV: "CCTV",
    Hardening.ENTRY_SYSTEM: "Communal entry system",
    Hardening.WARNING_NOTICE: "Community protection warning notice",
}


class Outcome(StrEnum):
    """What happened at a vulnerability visit."""

    ENGAGED = "engaged"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    INTELLIGENCE = "intelligence"
    ARREST = "arrest"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


OUTCOME_LABELS: Final[dict[str, str]] = {
    Outcome.ENGAGED: "Engaged",
    Outcome.NO_ANSWER: "No answer",
    Outcome.DECLINED: "Declined support",
    Outcome.INTELLIGENCE: "Intelligence gained",
    Outcome.ARREST: "Arrest",
    Outcome.SAFEGUARDING: "Safeguarding concern raised",
    Outcome.OTHER: "Other",
}


class Support(StrEnum):
    """Parts of the support package given at a visit."""

    CALLING_CARD = "calling_card"
    SAFE_ALERT = "safe_alert"
    PROTECTION_PLAN = "protection_plan"
    HARM_REDUCTION_KIT = "harm_reduction_kit"
    REFERRAL = "referral"


SUPPORT_LABELS: Final[dict[str, str]] = {
    Support.CALLING_CARD: "Calling card",
    Support.SAFE_ALERT: "SAFE alert",
    Support.PROTECTION_PLAN: "County lines individual protection plan",
    Support.HARM_REDUCTION_KIT: "Harm reduction kit",
    Support.REFERRAL: "Referral to a partner",
}


class Referral(StrEnum):
    """Partner types a visit can refer someone to."""

    FOOD_BANK = "food_bank"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_MISUSE = "substance_misuse"
    ADULT_SOCIAL_CARE = "adult_social_care"
    HEATING_GRANT = "heating_grant"
    HOUSING = "housing"


REFERRAL_LABELS: Final[dict[str, str]] = {
    Referral.FOOD_BANK: "Food bank",
    Referral.MENTAL_HEALTH: "Mental health",
    Referral.SUBSTANCE_MISUSE: "Substance misuse",
    Referral.ADULT_SOCIAL_CARE: "Adult social care",
    Referral.HEATING_GRANT: "Heating grant",
    Referral.HOUSING: "Housing",
}


class Trend(StrEnum):
    """Trend category of a hotspot over time (after ArcGIS Pro's Emerging Hot Spot Analysis)."""

    NEW = "new"
    CONSECUTIVE = "consecutive"
    INTENSIFYING = "intensifying"
    PERSISTENT = "persistent"
    DIMINISHING = "diminishing"
    SPORADIC = "sporadic"
    OSCILLATING = "oscillating"
    HISTORICAL = "historical"
    NO_PATTERN = "no_pattern"


TREND_LABELS: Final[dict[str, str]] = {
    Trend.NEW: "New",
    Trend.CONSECUTIVE: "Consecutive",
    Trend.INTENSIFYING: "Intensifying",
    Trend.PERSISTENT: "Persistent",
    Trend.DIMINISHING: "Diminishing",
    Trend.SPORADIC: "Sporadic",
    Trend.OSCILLATING: "Oscillating",
    Trend.HISTORICAL: "Historical",
    Trend.NO_PATTERN: "No pattern",
}


class LineStatus(StrEnum):
    """Status of a county line."""

    ACTIVE = "active"
    DISRUPTED = "disrupted"
