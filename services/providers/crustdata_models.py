"""Crustdata answers as models: a person record (`person_data`), one profile's outcome, and a
batch job's status.

Crustdata sends `null` for a list or a section it has nothing for; those read as empty, so the
code reading a person never checks for None twice. The credit price of a matched profile depends
on the contact fields asked for (docs.crustdata.com pricing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

DEFAULT_FIELDS = ("basic_profile", "experience", "education", "skills", "social_handles")
# Credits per matched profile (docs.crustdata.com pricing): the base profile is 1, and each contact
# field asked for adds its price, at most 7. Field names are the documented plural ones.
_FIELD_CREDITS = {
    "contact.business_emails": 1,
    "contact.personal_emails": 2,
    "contact.phone_numbers": 2,
}
T = TypeVar("T")


def _none_as_empty(value: Any) -> Any:
    """Crustdata sends `null` for a list it has nothing for (documented lists can be null)."""
    return [] if value is None else value


def _none_as_model(value: Any) -> Any:
    return {} if value is None else value


NullableList = Annotated[list[T], BeforeValidator(_none_as_empty)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Location(_Loose):
    """`basic_profile.location`: an object (`raw`, sometimes `city`/`state`/`country`); older
    answers and other endpoints send a plain string, which becomes `raw`."""

    raw: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"raw": value} if isinstance(value, str) else value

    @property
    def text(self) -> str | None:
        """What a list shows: the raw text, else the parts that are there."""
        if self.raw and self.raw.strip():
            return self.raw.strip()
        parts = [p.strip() for p in (self.city, self.state, self.country) if p and p.strip()]
        return ", ".join(parts) or None


class BasicProfile(_Loose):
    name: str | None = None
    headline: str | None = None
    current_title: str | None = None
    summary: str | None = None
    location: Location | None = None
    languages: NullableList[str] = Field(default_factory=list)


class Employment(_Loose):
    name: str | None = None
    title: str | None = None
    professional_network_id: str | int | None = None
    start_date: str | None = None
    end_date: str | None = None


class EmploymentDetails(_Loose):
    current: NullableList[Employment] = Field(default_factory=list)
    past: NullableList[Employment] = Field(default_factory=list)


class Experience(_Loose):
    employment_details: Annotated[EmploymentDetails, BeforeValidator(_none_as_model)] = Field(
        default_factory=EmploymentDetails
    )


class School(_Loose):
    school: str | None = None
    degree: str | None = None
    field_of_study: str | None = None
    start_date: str | None = None
    end_date: str | None = None


class Education(_Loose):
    schools: NullableList[School] = Field(default_factory=list)


class Skills(_Loose):
    professional_network_skills: NullableList[str] = Field(default_factory=list)


def _contact_values(value: Any) -> Any:
    """Contact lists hold strings or objects with the value under `email`/`phone`/`number`."""
    items = _none_as_empty(value)
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("email") or item.get("phone") or item.get("number") or item.get("value")
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


ContactList = Annotated[list[str], BeforeValidator(_contact_values)]


class Contact(_Loose):
    """`person_data.contact`: plural lists, each only present when its field was asked for."""

    business_emails: ContactList = Field(default_factory=list)
    personal_emails: ContactList = Field(default_factory=list)
    phone_numbers: ContactList = Field(default_factory=list)


# A section Crustdata answers with `null` reads as an empty one.
_NullAsEmpty = BeforeValidator(_none_as_model)


class PersonData(_Loose):
    basic_profile: Annotated[BasicProfile, _NullAsEmpty] = Field(default_factory=BasicProfile)
    experience: Annotated[Experience, _NullAsEmpty] = Field(default_factory=Experience)
    education: Annotated[Education, _NullAsEmpty] = Field(default_factory=Education)
    skills: Annotated[Skills, _NullAsEmpty] = Field(default_factory=Skills)
    social_handles: Annotated[dict[str, Any], BeforeValidator(_none_as_model)] = Field(
        default_factory=dict
    )
    contact: Annotated[Contact, _NullAsEmpty] = Field(default_factory=Contact)

    @property
    def current_company(self) -> str | None:
        current = self.experience.employment_details.current
        return current[0].name if current else None

    @property
    def location_text(self) -> str | None:
        location = self.basic_profile.location
        return location.text if location is not None else None


class ProfileOutcome(BaseModel):
    """The result for one requested URL."""

    url: str  # as requested by the caller
    status: Literal["enriched", "not_found", "failed"]
    person: PersonData | None = None
    confidence: float | None = None
    error: str | None = None
    retryable: bool = False  # True when the failure was transient (try again later)
    billed: bool = False  # Crustdata returned a match, so it charged for it (parsed or not)
    sandbox: bool = False  # the answer came from the local sandbox, not Crustdata


class BatchStatus(_Loose):
    """`GET /batch/{batch_id}`: the links appear only when completed, `error_message` only when
    failed. A completed job with `result_count` 0 may name a file that was never written."""

    batch_id: str
    status: Literal["pending", "processing", "completed", "failed"]
    identifier_count: int | None = None
    result_count: int | None = None
    entities_requested: int | None = None
    entities_fulfilled: int | None = None
    download_url: str | None = None
    download_urls: NullableList[str] = Field(default_factory=list)
    error_message: str | None = None


def credits_per_profile(fields: Sequence[str]) -> int:
    return min(7, 1 + sum(_FIELD_CREDITS.get(f, 0) for f in fields))
