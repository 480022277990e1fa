"""Version 1 of the Seinpost events: the contract between intake, classifier, aggregator
and every outside system that subscribes.

Rules (see ``schemas/VERSIONING.md``):
- within v1 changes are additive only: a new optional field, a new enum value for the
  slug fields (they are open vocabularies), a new minor ``schema_version`` ("1.1");
- consumers accept every ``1.x`` and ignore fields they do not know;
- anything else is v2: new models beside these and new topics (``...v2``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION: Final = "1.1"
"""What producers of this code base write. Consumers of v1 accept any ``1.x``."""

TEXT_MAX_LENGTH: Final = 2000
TEXT_MIN_LENGTH: Final = 10

SchemaVersion = Annotated[
    str,
    StringConstraints(pattern=r"^1\.\d{1,3}$"),
    Field(
        description="Version of the event schema, `1.<minor>`. A v1 consumer accepts every 1.x "
        "and ignores fields it does not know; 2.x never appears on a v1 topic.",
        examples=["1.0"],
    ),
]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$"),
]
"""A code from an open vocabulary (vindplaats, reporter role, family situation, domain)."""

OrganisationId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
]

PlaceName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
]


class _Model(BaseModel):
    """Events are values: immutable, and unknown fields are ignored (additive evolution)."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class KnowledgeType(StrEnum):
    """Whose knowledge the signal carries; bundles show both side by side."""

    PROFESSIONAL = "professionele_kennis"
    LIVED_EXPERIENCE = "ervaringskennis"


class AgeBand(StrEnum):
    """Age of the children a signal is about."""

    BABY_TODDLER = "0-2"
    PRESCHOOL = "3-5"
    PRIMARY_SCHOOL = "6-11"
    SECONDARY_SCHOOL = "12-17"
    YOUNG_ADULT = "18-24"


class TargetGroupV1(_Model):
    age_bands: list[AgeBand] = Field(
        default_factory=list,
        max_length=5,
        description="Age bands of the children concerned; empty when not known.",
    )
    family_situations: list[Slug] = Field(
        default_factory=list,
        max_length=10,
        description="Family situations, e.g. `eenoudergezin`, `groot_gezin`, `nieuwkomers`; "
        "codes from the open vocabulary in `schemas.vocabulary`.",
    )


class SignalContentV1(_Model):
    """What a reporter tells about one signal: shared by the HTTP submission and the event."""

    signal_id: uuid.UUID = Field(
        description="Chosen by the client when the signal is written down, so that a retry "
        "(offline phone, importer) can never create a second signal."
    )
    observed_on: date = Field(description="Day the reporter noticed the signal.")
    text: str = Field(
        min_length=TEXT_MIN_LENGTH,
        max_length=TEXT_MAX_LENGTH,
        description="The signal in the reporter's words (Dutch). On topics this text is "
        "always scrubbed of personal data.",
    )
    municipality: PlaceName = Field(description="Municipality (gemeente), official name.")
    neighbourhood: PlaceName | None = Field(
        default=None, description="Neighbourhood (wijk) within the municipality, if known."
    )
    vindplaats: Slug = Field(
        description="Where the signal was noticed, e.g. `schoolpoort`, `huisbezoek`."
    )
    reporter_role: Slug = Field(description="Role of the reporter, e.g. `brugfiguur`.")
    knowledge_type: KnowledgeType = Field(
        description="Professional knowledge or lived experience (ervaringskennis)."
    )
    target_group: TargetGroupV1 = Field(default_factory=TargetGroupV1)
    families_count: int | None = Field(
        default=None, ge=1, le=10_000, description="How many families the signal concerns."
    )
    organisation: OrganisationId = Field(
        description="Reporting organisation (its Seinpost id). Never shown in bundles."
    )

    @field_validator("text")
    @classmethod
    def _text_has_content(cls, value: str) -> str:
        if len(value.strip()) < TEXT_MIN_LENGTH:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} characters besides white space",
                {"min_length": TEXT_MIN_LENGTH},
            )
        return value


class SignalSubmissionV1(SignalContentV1):
    """Body of ``POST /v1/signals``: strict, so a typo in a field name is an error, not a loss."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    submitted_at: AwareDatetime | None = Field(
        default=None,
        description="When the reporter pressed send (may be long before it reached us when the "
        "phone was offline). Defaults to the time intake received it.",
    )


class RedactionKind(StrEnum):
    NAME = "naam"
    NATIONAL_NUMBER = "rijksregisternummer"
    PHONE = "telefoonnummer"
    EMAIL = "e-mail"
    IBAN = "rekeningnummer"
    ADDRESS = "adres"
    BIRTH_DATE = "geboortedatum"


class RedactionCountV1(_Model):
    kind: RedactionKind
    count: int = Field(ge=1)


class SignalSubmittedV1(SignalContentV1):
    """A signal accepted by intake, its text scrubbed. Topic ``seinpost.signals.submitted.v1``."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    submitted_at: AwareDatetime = Field(description="When the reporter sent it.")
    received_at: AwareDatetime = Field(description="When intake accepted it.")
    redactions: list[RedactionCountV1] = Field(
        default_factory=list,
        description="What the scrubber removed from the text: kinds and counts, never content.",
    )


class EvidenceV1(_Model):
    term: str = Field(description="Vocabulary entry that matched, e.g. `huurachterstand`.")
    matched: str = Field(description="The words as they stand in the (scrubbed) text.")
    start: int = Field(ge=0, description="Offset of the match in the text (characters).")
    end: int = Field(ge=0)


class DomainTagV1(_Model):
    domain: Slug = Field(description="Life domain id (levensdomein), e.g. `inkomen`.")
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[EvidenceV1] = Field(default_factory=list)


class ClassificationSource(StrEnum):
    MODEL = "model"
    CORRECTION = "correction"


class CorrectionRefV1(_Model):
    """Who changed the tags of a signal, when and why (since 1.1)."""

    correction_id: uuid.UUID
    corrected_by_role: Slug = Field(description="Role of the person, e.g. `coordinator`.")
    corrected_at: AwareDatetime
    reason: str | None = Field(
        default=None, max_length=500, description="Why, in the person's words (scrubbed)."
    )


class ClassificationV1(_Model):
    classifier_version: str = Field(
        description="Classifier build, includes the taxonomy version; for a human correction "
        "`correctie:<correction_id>`."
    )
    taxonomy_version: str
    domains: list[DomainTagV1] = Field(
        description="Domains at or above their threshold, the primary domain first, then by "
        "score (may be empty)."
    )
    scores: dict[Slug, float] = Field(
        default_factory=dict, description="Score of every domain of the taxonomy."
    )
    primary_domain: Slug | None = Field(
        description="What the signal is mainly about, if any domain passed: usually the "
        "highest score; a cross-cutting domain (services, participation) or evidence late in "
        "the text can yield it to a concrete need of similar score."
    )
    needs_review: bool = Field(
        description="True when no domain passed its threshold: a person should tag it."
    )
    classified_at: AwareDatetime
    source: ClassificationSource = Field(
        default=ClassificationSource.MODEL,
        description="`model` (the classifier decided) or `correction` (a person did; it outranks "
        "every model classification of the signal). Since 1.1.",
    )
    correction: CorrectionRefV1 | None = Field(
        default=None, description="Set exactly when `source` is `correction`. Since 1.1."
    )

    @model_validator(mode="after")
    def _primary_is_a_tag(self) -> ClassificationV1:
        if (self.source is ClassificationSource.CORRECTION) != (self.correction is not None):
            raise ValueError("correction is set exactly when source is `correction`")
        tagged = [tag.domain for tag in self.domains]
        if self.primary_domain is not None and self.primary_domain not in tagged:
            raise ValueError("primary_domain must be one of the tagged domains")
        if self.needs_review != (not tagged):
            raise ValueError("needs_review is true exactly when no domain is tagged")
        return self


class SignalClassifiedV1(_Model):
    """A submitted signal with its life domains. Topic ``seinpost.signals.classified.v1``."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    signal: SignalSubmittedV1
    classification: ClassificationV1


class CorrectionV1(_Model):
    """A person's correction of a signal's life domains. Topic ``seinpost.corrections.v1``.

    It carries the whole (scrubbed) signal so that consumers — the classifier learning from it,
    the aggregator keeping tag history — need no join. Since 1.1.
    """

    schema_version: SchemaVersion = SCHEMA_VERSION
    correction_id: uuid.UUID
    signal: SignalSubmittedV1
    domains: list[Slug] = Field(
        min_length=1, description="The right life domains, the primary one first."
    )
    corrected_by_role: Slug = Field(description="Role of the person, e.g. `coordinator`.")
    corrected_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=500, description="Scrubbed free text.")
    taxonomy_id: Slug = Field(
        description="Taxonomy the domains belong to: a classifier learns only from corrections of "
        "its own taxonomy, so corrections never cross networks that do not share one."
    )

    @field_validator("domains")
    @classmethod
    def _distinct(cls, domains: list[str]) -> list[str]:
        if len(set(domains)) != len(domains):
            raise PydanticCustomError("domains_repeated", "a domain appears twice")
        return domains

    def reference(self) -> CorrectionRefV1:
        return CorrectionRefV1(
            correction_id=self.correction_id,
            corrected_by_role=self.corrected_by_role,
            corrected_at=self.corrected_at,
            reason=self.reason,
        )


class CountCellV1(_Model):
    """One cell of a bundle breakdown. Small groups are suppressed, never shown."""

    key: str
    label: str
    count: int | None = Field(ge=0, description="Null when suppressed.")
    suppressed: bool = Field(
        description="True when the real count is below the bundle's minimum group size."
    )

    @model_validator(mode="after")
    def _suppressed_has_no_count(self) -> CountCellV1:
        if self.suppressed != (self.count is None):
            raise ValueError("a cell has a count exactly when it is not suppressed")
        return self


class BundleAreaV1(_Model):
    """Whose bundle it is: a steering group and the area it covers."""

    steering_group_id: str = Field(description="Id of the steering group (stuurgroep).")
    steering_group_name: str
    municipalities: list[PlaceName] = Field(description="Municipalities the bundle covers.")
    neighbourhoods: list[PlaceName] | None = Field(
        default=None, description="Neighbourhoods it is limited to; null means all of them."
    )
    domains_of_interest: list[Slug] | None = Field(
        default=None, description="Life domains it is limited to; null means all twelve."
    )


class PeriodCountV1(_Model):
    """One point of a trend line."""

    period_start: date
    period_end: date
    label: str = Field(description="Dutch label of the period, e.g. `K3 2026`.")
    count: CountCellV1


class TrendV1(_Model):
    """How a domain or theme compares with earlier periods."""

    previous: CountCellV1 = Field(description="Signals in the period just before, same length.")
    baseline: CountCellV1 = Field(description="Signals in all baseline periods together.")
    baseline_days: int = Field(ge=0, description="Length of the baseline in days.")
    direction: Literal["nieuw", "stijgend", "dalend", "stabiel", "onbekend"] = Field(
        description="`nieuw`: no signal before; `stijgend`: the rising test is significant; "
        "`dalend`/`stabiel` compare with the previous period; `onbekend` when counts are hidden."
    )
    p_value: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="One-sided p-value of the rising test; null when a count is suppressed.",
    )
    rate_ratio: float | None = Field(
        default=None, ge=0.0, description="Current rate / baseline rate; null when hidden."
    )
    series: list[PeriodCountV1] = Field(description="Oldest period first, current last.")


class SourcesV1(_Model):
    """Who saw a theme: counts of distinct sources, never which ones."""

    organisations: int = Field(ge=0, description="Distinct reporting organisations.")
    roles: int = Field(ge=0, description="Distinct reporter roles.")
    vindplaatsen: int = Field(ge=0, description="Distinct places where it was noticed.")
    professional: CountCellV1
    lived_experience: CountCellV1
    reinforced: bool = Field(
        description="Versterkt signaal: at least three independent organisations reported it."
    )


class EscalationV1(_Model):
    level: Literal["wijk", "gemeente", "vlaanderen", "federaal"]
    reason: str = Field(description="Dutch sentence: competence and spread.")


class ThemeV1(_Model):
    """Signals describing the same problem, grouped by text similarity within a domain."""

    theme_id: str = Field(description="Stable across periods: kept when a theme returns.")
    domain: Slug
    label: str = Field(description="Its most shared terms, e.g. `schooluitstap · betalen`.")
    shared_terms: list[str] = Field(
        description="Terms used by at least half of its signals: why they were grouped."
    )
    signal_count: CountCellV1
    sources: SourcesV1
    municipality_count: int = Field(ge=0)
    neighbourhood_count: int = Field(ge=0)
    neighbourhoods: list[str] = Field(
        description="Neighbourhoods with at least the minimum number of its signals."
    )
    vindplaatsen: list[str] = Field(
        description="Vindplaatsen (labels) with at least the minimum number of its signals."
    )
    first_seen: date
    last_seen: date
    is_new: bool
    is_rising: bool
    trend: TrendV1
    escalation: EscalationV1
    examples: list[str] = Field(
        description="Two or three scrubbed example texts, only for themes above the minimum."
    )


class DomainSectionV1(_Model):
    """One life domain: its count, trend and themes."""

    domain: Slug
    label: str
    count: CountCellV1 = Field(description="Signals with this as their main domain.")
    trend: TrendV1
    themes: list[ThemeV1] = Field(description="Themes with at least the minimum, largest first.")
    other: CountCellV1 = Field(
        description="Signals of this domain in themes below the minimum or in no theme."
    )
    details_hidden: bool = Field(
        description="True when the domain's count is suppressed, so its themes are not shown."
    )


class PreviousThemeV1(_Model):
    """A theme of the previous bundle and what happened to it."""

    theme_id: str
    label: str
    domain: Slug
    decision_status: str | None
    decision_label: str = Field(description="Dutch description of the decision status.")
    owner: str | None = Field(description="Trekker (a role or organisation, never a person).")
    note: str | None
    decided_at: AwareDatetime | None
    current: CountCellV1 | None = Field(
        description="Its signals in this period; null when the theme did not return."
    )


class PolicyBundleV1(_Model):
    """A policy bundle (beleidsbundel) for one steering group and period.

    Topic ``seinpost.bundles.v1``. Every count is a ``CountCellV1``: groups below
    ``min_group_size`` are suppressed, and so are enough other cells that no suppressed
    group can be recomputed from totals.
    """

    schema_version: SchemaVersion = SCHEMA_VERSION
    bundle_id: uuid.UUID
    version: int = Field(ge=1, description="1 for the first bundle of this area and period.")
    title: str
    area: BundleAreaV1
    period_start: date = Field(description="First day of the period (inclusive).")
    period_end: date = Field(description="Last day of the period (inclusive).")
    period_label: str
    compiled_at: AwareDatetime
    min_group_size: int = Field(ge=1, description="Groups smaller than this are suppressed.")
    summary: list[str] = Field(description="Dutch sentences for the first page.")
    signal_count: CountCellV1
    needs_review: CountCellV1 = Field(description="Signals no domain was found for.")
    by_domain: list[CountCellV1] = Field(
        description="Signals per main life domain; with needs_review they add up to the total."
    )
    by_municipality: list[CountCellV1]
    by_neighbourhood: list[CountCellV1]
    by_vindplaats: list[CountCellV1]
    by_knowledge_type: list[CountCellV1]
    trend: list[PeriodCountV1] = Field(description="Total signals per period, oldest first.")
    domains: list[DomainSectionV1]
    new_theme_ids: list[str]
    rising_theme_ids: list[str]
    previous_themes: list[PreviousThemeV1]
    method_note: str = Field(description="Dutch: how themes, trends and advice were made.")
    suppression_note: str | None = Field(
        default=None, description="Dutch sentence saying which cells were suppressed and why."
    )

    @model_validator(mode="after")
    def _period_is_ordered(self) -> PolicyBundleV1:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class DeadLetterV1(_Model):
    """A record a consumer could not process. Topic ``seinpost.deadletter.v1``.

    ``error`` names the field and the reason but never echoes input values: a dead letter
    must not become a side channel for personal data.
    """

    schema_version: SchemaVersion = SCHEMA_VERSION
    dead_letter_id: uuid.UUID
    failed_at: AwareDatetime
    service: str = Field(description="Service that gave up, e.g. `classifier`.")
    consumer_group: str
    topic: str = Field(description="Topic of the original record.")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key_base64: str | None = Field(description="Original record key, base64.")
    payload_base64: str = Field(description="Original record value, base64, byte for byte.")
    payload_size: int = Field(ge=0)
    error_code: str = Field(
        description="Machine-readable reason: `invalid_json`, `invalid_event`, "
        "`unsupported_schema_version`, `payload_too_large`, `processing_failed`."
    )
    error: str = Field(description="Human-readable reason: which field, what is wrong.")


# --- CloudEvents 1.0 envelope (structured content mode) -------------------------------------

DataT = TypeVar("DataT", bound=BaseModel)

EVENT_SOURCE_PREFIX: Final = "/seinpost"


class CloudEventV1(BaseModel, Generic[DataT]):
    """CloudEvents 1.0 envelope, structured mode: the Kafka record value is this JSON."""

    model_config = ConfigDict(frozen=True, extra="allow")  # extension attributes are allowed

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, description="Unique per source; a redelivery keeps the id.")
    source: str = Field(min_length=1, description="URI reference of the producing service.")
    type: str = Field(description="Event type, reverse-DNS, ending in the major version.")
    time: AwareDatetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: DataT


class SignalSubmittedEventV1(CloudEventV1[SignalSubmittedV1]):
    type: Literal["be.seinpost.signal.submitted.v1"] = "be.seinpost.signal.submitted.v1"


class SignalClassifiedEventV1(CloudEventV1[SignalClassifiedV1]):
    type: Literal["be.seinpost.signal.classified.v1"] = "be.seinpost.signal.classified.v1"


class SignalCorrectedEventV1(CloudEventV1[CorrectionV1]):
    type: Literal["be.seinpost.signal.corrected.v1"] = "be.seinpost.signal.corrected.v1"


class PolicyBundleEventV1(CloudEventV1[PolicyBundleV1]):
    type: Literal["be.seinpost.bundle.published.v1"] = "be.seinpost.bundle.published.v1"


class DeadLetterEventV1(CloudEventV1[DeadLetterV1]):
    type: Literal["be.seinpost.record.deadlettered.v1"] = "be.seinpost.record.deadlettered.v1"


EVENT_MODELS: Final[dict[str, type[CloudEventV1[BaseModel]]]] = {
    "signal_submitted.v1": SignalSubmittedEventV1,  # type: ignore[dict-item]
    "signal_classified.v1": SignalClassifiedEventV1,  # type: ignore[dict-item]
    "signal_corrected.v1": SignalCorrectedEventV1,  # type: ignore[dict-item]
    "policy_bundle.v1": PolicyBundleEventV1,  # type: ignore[dict-item]
    "dead_letter.v1": DeadLetterEventV1,  # type: ignore[dict-item]
}
"""Name of the committed JSON Schema file (without ``.json``) → envelope model."""

_EVENT_ID_NAMESPACE: Final = uuid.UUID("5e1a9057-0000-4000-8000-5e1a90570001")


def _dataschema(name: str) -> str:
    return f"urn:seinpost:schema:{name}"


def signal_submitted_event(signal: SignalSubmittedV1) -> SignalSubmittedEventV1:
    return SignalSubmittedEventV1(
        # The signal id is the event id: a retried submission is the same event, not a new one.
        id=str(signal.signal_id),
        source=f"{EVENT_SOURCE_PREFIX}/intake",
        time=signal.received_at,
        subject=str(signal.signal_id),
        dataschema=_dataschema("signal_submitted.v1"),
        data=signal,
    )


def signal_classified_event(classified: SignalClassifiedV1) -> SignalClassifiedEventV1:
    signal_id = classified.signal.signal_id
    version = classified.classification.classifier_version
    return SignalClassifiedEventV1(
        # Deterministic: reclassifying the same signal with the same classifier is the same event.
        id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"classified:{signal_id}:{version}")),
        source=f"{EVENT_SOURCE_PREFIX}/classifier",
        time=classified.classification.classified_at,
        subject=str(signal_id),
        dataschema=_dataschema("signal_classified.v1"),
        data=classified,
    )


def correction_event(correction: CorrectionV1) -> SignalCorrectedEventV1:
    return SignalCorrectedEventV1(
        id=str(correction.correction_id),
        source=f"{EVENT_SOURCE_PREFIX}/aggregator",
        time=correction.corrected_at,
        subject=str(correction.signal.signal_id),
        dataschema=_dataschema("signal_corrected.v1"),
        data=correction,
    )


def policy_bundle_event(bundle: PolicyBundleV1) -> PolicyBundleEventV1:
    return PolicyBundleEventV1(
        id=str(bundle.bundle_id),
        source=f"{EVENT_SOURCE_PREFIX}/aggregator",
        time=bundle.compiled_at,
        subject=f"{bundle.area.steering_group_id}/{bundle.period_start}/{bundle.period_end}",
        dataschema=_dataschema("policy_bundle.v1"),
        data=bundle,
    )


def dead_letter_event(dead_letter: DeadLetterV1) -> DeadLetterEventV1:
    return DeadLetterEventV1(
        id=str(dead_letter.dead_letter_id),
        source=f"{EVENT_SOURCE_PREFIX}/{dead_letter.service}",
        time=dead_letter.failed_at,
        subject=f"{dead_letter.topic}/{dead_letter.partition}/{dead_letter.offset}",
        dataschema=_dataschema("dead_letter.v1"),
        data=dead_letter,
    )


# --- Decisions of a steering group (aggregator platform) ------------------------------------


class DecisionStatus(StrEnum):
    """What a steering group decided about a theme (beslissing)."""

    IN_PROGRESS = "in_behandeling"
    SOLVED_LOCALLY = "opgelost_in_de_wijk"
    REFERRED_CITY = "doorgestuurd_stad"
    REFERRED_FLANDERS = "doorgestuurd_vlaanderen"
    REFERRED_FEDERAL = "doorgestuurd_federaal"
    NO_ACTION = "geen_actie"


DECISION_STATUS_LABELS: Final[dict[DecisionStatus, str]] = {
    DecisionStatus.IN_PROGRESS: "In behandeling",
    DecisionStatus.SOLVED_LOCALLY: "Opgelost in de wijk",
    DecisionStatus.REFERRED_CITY: "Doorgestuurd naar de stad",
    DecisionStatus.REFERRED_FLANDERS: "Doorgestuurd naar Vlaanderen",
    DecisionStatus.REFERRED_FEDERAL: "Doorgestuurd naar het federale niveau",
    DecisionStatus.NO_ACTION: "Geen actie",
}

SteeringGroupId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
]

ThemeId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"),
]


class DecisionV1(_Model):
    """A steering group's decision on one theme. Topic ``seinpost.decisions.v1``.

    Decisions are never overwritten: a new decision on the same theme is a new event, and the
    latest (by ``decided_at``) is the current one; the earlier ones are its history.
    """

    schema_version: SchemaVersion = SCHEMA_VERSION
    decision_id: uuid.UUID = Field(
        description="Unique per decision; a retried request with the same id is the same event."
    )
    steering_group_id: SteeringGroupId = Field(description="The deciding steering group.")
    theme_id: ThemeId = Field(description="Theme of one of the steering group's bundles.")
    bundle_id: uuid.UUID | None = Field(
        default=None, description="Bundle in which the steering group read the theme."
    )
    status: DecisionStatus
    owner: str | None = Field(
        default=None,
        max_length=120,
        description="Who follows the theme up (trekker): an organisation or a role, not a person.",
    )
    note: str | None = Field(
        default=None, max_length=2000, description="Explanation for the field (Dutch)."
    )
    decided_at: AwareDatetime


class DecisionRecordedEventV1(CloudEventV1[DecisionV1]):
    type: Literal["be.seinpost.decision.recorded.v1"] = "be.seinpost.decision.recorded.v1"


EVENT_MODELS["decision.v1"] = DecisionRecordedEventV1  # type: ignore[assignment]


def decision_event(decision: DecisionV1) -> DecisionRecordedEventV1:
    return DecisionRecordedEventV1(
        id=str(decision.decision_id),
        source=f"{EVENT_SOURCE_PREFIX}/aggregator",
        time=decision.decided_at,
        subject=f"{decision.steering_group_id}/{decision.theme_id}",
        dataschema=_dataschema("decision.v1"),
        data=decision,
    )
