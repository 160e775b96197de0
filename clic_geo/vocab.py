"""What people write in spreadsheets, mapped to the controlled vocabularies.

Keys are normalised with :func:`normalise_token` (lower case,
separators unified). Every enum value and label is accepted as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from clic_geo.schema import (
    CATEGORY_LABELS,
    CUCKOOING_LABELS,
    HARDENING_LABELS,
    OUTCOME_LABELS,
    REFERRAL_LABELS,
    SUPPORT_LABELS,
    Category,
    CuckooingStatus,
    Hardening,
    LineStatus,
    Outcome,
    Referral,
    Support,
)

__all__ = [
    "CATEGORY_ALIASES",
    "HARDENING_ALIASES",
    "HEADER_ALIASES",
    "LINE_STATUS_ALIASES",
    "OUTCOME_ALIASES",
    "REFERRAL_ALIASES",
    "STATUS_ALIASES",
    "SUPPORT_ALIASES",
    "normalise_token",
]


def normalise_token(s: str) -> str:
    """Lower-case, trim, unify separators: the key for alias lookups."""
    s = s.strip().lower().replace("&", " and ")
    s = re.sub(r"[_\-./]+", " ", s)
    s = re.sub(r"[^\w ]+", "", s)
    return re.sub(r"\s+", " ", s).strip()


def _build(
    enum: type[StrEnum], labels: Mapping[str, str], extra: Mapping[str, Iterable[str]]
) -> Mapping[str, str]:
    out: dict[str, str] = {}
    for member in enum:
        out[normalise_token(member.value)] = member.value
        if member in labels:
            out[normalise_token(labels[member])] = member.value
    for code, words in extra.items():
        for w in words:
            out[normalise_token(w)] = str(code)
    return MappingProxyType(out)


CATEGORY_ALIASES = _build(
    Category,
    CATEGORY_LABELS,
    {
        Category.DRUG_SUPPLY: [
            "supply",
            "supply of drugs",
            "drugs supply",
            "pwits",
            "pwitsupply",
            "possession with intent to supply",
            "dealing",
            "drug dealing",
            "drugs dealing",
            "drug trafficking",
            "trafficking",
            "production of drugs",
            "cultivation",
        ],
        Category.DRUG_POSSESSION: [
            "possession",
            "possession of drugs",
            "drugs possession",
            "possession of cannabis",
        ],
        Category.DRUGS: [
            "drug",
            "drug offence",
            "drug offences",
            "drugs offence",
            "misuse of drugs",
        ],
        Category.VIOLENCE: [
            "violent crime",
            "violence and sexual offences",
            "violence against the person",
            "assault",
            "robbery",
            "violence with injury",
            "violence without injury",
            "gbh",
            "abh",
            "wounding",
            "serious violence",
        ],
        Category.WEAPONS: [
            "weapon",
            "possession of weapons",
            "possession of a weapon",
            "knife",
            "knife crime",
            "bladed article",
            "offensive weapon",
            "firearm",
            "firearms",
        ],
        Category.THREAT_TO_LIFE: [
            "threats to life",
            "ttl",
            "osman",
            "osman warning",
            "threat to kill",
            "threats to kill",
        ],
        Category.CUCKOOING_REPORT: ["cuckooing", "cuckoo", "cuckooed", "home takeover"],
        Category.INTELLIGENCE_REPORT: [
            "intelligence",
            "intel",
            "intel report",
            "information report",
            "5x5",
            "intelligence log",
        ],
        Category.ASB: [
            "asb",
            "antisocial behaviour",
            "anti social behaviour",
            "anti-social behavior",
            "antisocial behavior",
            "nuisance",
        ],
        Category.OTHER: [
            "other crime",
            "criminal damage and arson",
            "criminal damage",
            "arson",
            "public order",
            "other theft",
            "theft",
            "shoplifting",
            "burglary",
            "vehicle crime",
            "bicycle theft",
            "theft from the person",
            "fraud",
        ],
    },
)

STATUS_ALIASES = _build(
    CuckooingStatus,
    CUCKOOING_LABELS,
    {
        CuckooingStatus.NONE: ["no", "not cuckooed", "n a", "na", "not known", ""],
        CuckooingStatus.SUSPECTED: ["suspect", "possible", "suspected cuckooing", "at risk"],
        CuckooingStatus.CONFIRMED: ["cuckooed", "yes", "confirmed cuckooing", "active"],
        CuckooingStatus.RESOLVED: ["closed", "ended", "cleared", "no longer cuckooed", "former"],
    },
)

HARDENING_ALIASES = _build(
    Hardening,
    HARDENING_LABELS,
    {
        Hardening.SPY_HOLE: ["spyhole", "peephole", "peep hole", "door viewer"],
        Hardening.KEY_CHAIN: ["keychain", "door chain", "chain", "security chain"],
        Hardening.CCTV: ["camera", "cameras", "cctv repair", "cctv repaired", "cctv fitted"],
        Hardening.ENTRY_SYSTEM: [
            "entry system",
            "door entry",
            "communal entry",
            "communal door",
            "fob",
            "fob entry",
        ],
        Hardening.WARNING_NOTICE: [
            "cpwn",
            "warning notice",
            "community protection warning",
            "cpn",
            "community protection notice",
        ],
    },
)

OUTCOME_ALIASES = _build(
    Outcome,
    OUTCOME_LABELS,
    {
        Outcome.ENGAGED: [
            "engagement",
            "spoke",
            "spoken to",
            "contact made",
            "seen",
            "visited",
            "completed",
            "done",
            "positive",
        ],
        Outcome.NO_ANSWER: ["no reply", "nobody home", "not in", "no contact", "na", "no access"],
        Outcome.DECLINED: ["refused", "declined", "refused support", "not engaged"],
        Outcome.INTELLIGENCE: [
            "intel",
            "intelligence",
            "intel submitted",
            "intelligence submitted",
        ],
        Outcome.ARREST: ["arrested", "arrest made"],
        Outcome.SAFEGUARDING: ["safeguarding", "safeguarding concern", "concern raised"],
    },
)

SUPPORT_ALIASES = _build(
    Support,
    SUPPORT_LABELS,
    {
        Support.CALLING_CARD: ["card", "calling card left", "cc"],
        Support.SAFE_ALERT: ["safe", "safe marker", "safe alert added"],
        Support.PROTECTION_PLAN: [
            "plan",
            "ipp",
            "cl ipp",
            "protection plan",
            "individual protection plan",
            "county lines protection plan",
        ],
        Support.HARM_REDUCTION_KIT: [
            "hr kit",
            "harm reduction",
            "kit",
            "naloxone",
            "sharps box",
            "nitazene test strips",
            "test strips",
            "clean needles",
            "needles",
        ],
        Support.REFERRAL: ["referred", "referrals"],
    },
)

REFERRAL_ALIASES = _build(
    Referral,
    REFERRAL_LABELS,
    {
        Referral.FOOD_BANK: ["foodbank", "food"],
        Referral.MENTAL_HEALTH: ["mh", "cmht", "mental health team"],
        Referral.SUBSTANCE_MISUSE: [
            "drugs service",
            "drug service",
            "recovery steps",
            "addiction",
            "drug and alcohol",
            "recovery",
            "substance misuse service",
            "treatment",
        ],
        Referral.ADULT_SOCIAL_CARE: ["asc", "social care", "adult services", "social services"],
        Referral.HEATING_GRANT: ["heating", "fuel", "warm home", "warm homes", "energy"],
        Referral.HOUSING: ["housing provider", "homelessness", "council housing", "landlord"],
    },
)

LINE_STATUS_ALIASES = _build(
    LineStatus,
    {},
    {
        LineStatus.ACTIVE: ["live", "operating", "open", "embedded", "yes"],
        LineStatus.DISRUPTED: ["closed", "dismantled", "inactive", "ended", "no", "stopped"],
    },
)

#: Column header aliases per field (normalised form). The first match wins.
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "id": (
            "id",
            "ref",
            "reference",
            "crime id",
            "incident id",
            "incident ref",
            "record id",
            "urn",
            "occurrence id",
            "log number",
            "address id",
            "visit id",
            "line id",
            "address ref",
            "visit ref",
        ),
        "date": (
            "date",
            "occurred",
            "datetime",
            "date time",
            "occurred at",
            "occurred on",
            "when",
            "month",
            "incident date",
            "date occurred",
            "reported",
            "reported date",
            "timestamp",
            "visit date",
            "visited",
            "visited on",
            "date of visit",
        ),
        "time": ("time", "time occurred", "visit time"),
        "category": (
            "type",
            "category",
            "crime type",
            "incident type",
            "offence",
            "offence type",
            "classification",
        ),
        "lat": ("lat", "latitude", "wgs84 latitude", "lat wgs84", "y wgs84"),
        "lon": ("lon", "lng", "long", "longitude", "wgs84 longitude", "lon wgs84", "x wgs84"),
        "easting": ("easting", "eastings", "east", "x", "bng easting", "os easting", "x bng"),
        "northing": ("northing", "northings", "north", "y", "bng northing", "os northing", "y bng"),
        "grid_ref": (
            "grid ref",
            "gridref",
            "grid reference",
            "os grid ref",
            "os grid reference",
            "osgr",
            "ngr",
            "grid",
        ),
        "notes": (
            "notes",
            "note",
            "description",
            "details",
            "summary",
            "narrative",
            "comments",
            "comment",
        ),
        "location": ("location", "place", "street", "location description", "where"),
        "source": ("source", "system", "origin"),
        # addresses
        "address": ("address", "premises", "full address", "property", "address line"),
        "status": ("status", "cuckooing status", "cuckooing", "cuckooed"),
        "status_date": ("status date", "status since", "since", "date of status", "status changed"),
        "safe_alert": ("safe alert", "safe", "safe marker", "safe flag"),
        "protection_plan": (
            "protection plan",
            "cl ipp",
            "ipp",
            "individual protection plan",
            "plan",
            "county lines individual protection plan",
        ),
        "next_visit_due": (
            "next visit due",
            "next visit",
            "visit due",
            "due",
            "next due",
            "plan review",
            "review date",
        ),
        "hardening": ("hardening", "target hardening", "measures", "measures fitted"),
        # visits
        "address_id": (
            "address id",
            "address ref",
            "premises id",
            "premises ref",
            "address of concern",
        ),
        "officers": (
            "officers",
            "officer",
            "who",
            "staff",
            "attended by",
            "visited by",
            "team",
            "who went",
        ),
        "outcome": ("outcome", "result", "visit outcome"),
        "support": ("support", "support given", "support package", "package"),
        "referrals": ("referrals", "referral", "referred to", "referrals made"),
        # county lines
        "name": ("name", "line", "line name", "deal line", "line id name"),
        "area": ("area", "operating area", "town"),
    }
)
