"""Every problem type the service answers, by its slug: `/problems/<slug>` names it in an answer's
`type`, and `GET /problems/<slug>` documents it (`app.problems.router`).

The texts are English message ids (`N_`), translated where a page is shown; the members are the
extension members a problem of the type may carry beside RFC 9457's (`type`, `title`, `status`,
`detail`, `instance`) and `request_id`, which every problem carries. `tests/test_problem_pages.py`
reads the source: a slug raised anywhere in `app/` without an entry here, or an entry whose
statuses or members differ from what the code raises, fails it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.core.i18n import N_


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    statuses: tuple[int, ...]
    title: str
    """A name for the type, in a few words."""
    meaning: str
    """When the service answers it, and what its members say."""
    action: str
    """What a client should do about it."""
    members: tuple[str, ...] = ()
    """Extension members a problem of this type may carry (beside `request_id`)."""


# What a client does, shared by many types.
_CORRECT = N_(
    "Correct the request as `detail` says (`field` names what to change, where given) and send it "
    "again; sent unchanged, it gets the same answer."
)
_CORRECT_DATA = N_(
    "Correct the data as `detail` says, or first change the record it conflicts with, then send the "
    "request again; sent unchanged, it gets the same answer."
)
_RETRY = N_("Wait the `Retry-After` seconds, then send the same request again.")
_REPORT = N_("Nothing in the request can fix it: report it to the service's operators with the `request_id`.")
_READ_AGAIN = N_(
    "Read the record again (its current ETag is `current_etag`), check that your change still "
    "makes sense, then send it with `If-Match` set to that ETag."
)
_EXISTING = N_(
    "Read the existing record and change it if needed (with `If-Match`), or choose another "
    "identifier; do not create it again."
)

_TYPES = (
    # --- The request's shape --------------------------------------------------------------------
    ProblemType(
        "bad-request",
        (400,),
        N_("Bad request"),
        N_("The request cannot be taken as it is, for a reason no more specific type names."),
        _CORRECT,
    ),
    ProblemType(
        "malformed-body",
        (400,),
        N_("Undecodable body"),
        N_(
            "The body cannot be read: not valid JSON (`detail` says where), or a CSV batch whose "
            "encoding, header or lines cannot be read."
        ),
        _CORRECT,
    ),
    ProblemType(
        "unknown-parameter",
        (400,),
        N_("Unknown query parameter"),
        N_(
            "The query string names a parameter the operation does not take (a misspelt or another "
            "operation's filter): it is refused, never ignored, so that a filtered list is never "
            "taken for the whole one. `parameters` lists those refused, `accepted_parameters` those "
            "the operation takes."
        ),
        N_("Remove or rename the parameters in `parameters`, using only those in `accepted_parameters`."),
        ("parameters", "accepted_parameters"),
    ),
    ProblemType(
        "repeated-parameter",
        (400,),
        N_("Repeated query parameter"),
        N_("A query parameter that takes one value is given more than once (`parameters`)."),
        N_("Give each parameter in `parameters` once."),
        ("parameters",),
    ),
    ProblemType(
        "conflicting-parameters",
        (400,),
        N_("A parameter under both its names"),
        N_(
            "A renamed query parameter is given under its deprecated name and its new one, with "
            "different values (`parameters` names both)."
        ),
        N_("Send the new name alone; the deprecated one is refused after its `Sunset` date."),
        ("parameters",),
    ),
    ProblemType(
        "cors-refused",
        (400,),
        N_("Cross-origin request refused"),
        N_(
            "A browser's preflight (`OPTIONS`) from a page of an origin the service does not allow, "
            "or asking for a method or header it does not allow. The allowed origins are the "
            "operator's setting `CORS_ORIGINS`."
        ),
        N_("Ask the service's operators to allow your page's origin; the request itself is not at fault."),
    ),
    ProblemType(
        "unauthorized",
        (401,),
        N_("Credential missing or not valid"),
        N_(
            "No `Authorization: Bearer` credential, or one the service does not accept: an unknown "
            "or revoked API key, or an access token that is expired, not yet valid, badly signed, "
            "from an untrusted issuer or for another audience. `WWW-Authenticate` says which."
        ),
        N_(
            "Send a valid API key or a fresh access token in `Authorization: Bearer …`; an admin "
            "makes keys (`POST /v1/keys`)."
        ),
    ),
    ProblemType(
        "forbidden",
        (403,),
        N_("Not allowed for this credential"),
        N_(
            "The credential is valid, but its role or grants do not allow this operation on this "
            "target (a reader writing, a cluster's key writing for another cluster, a unit's key "
            "pushing another unit's figures). It says nothing about the target itself. A figures "
            "batch lists the rows refused so (`forbidden_rows`, `forbidden_row_count`)."
        ),
        N_(
            "Use a credential whose role allows the operation (each operation names it), or leave "
            "out the rows you may not write."
        ),
        ("forbidden_rows", "forbidden_row_count"),
    ),
    ProblemType(
        "not-found",
        (404,),
        N_("Not found"),
        N_(
            "The resource of the path does not exist, or a record the request names does not "
            "(`field` then names where it is named; for a rule set, `emulation_year` the year no "
            "rule set covers)."
        ),
        N_(
            "Check the identifier (list the resource to find it); a record named in the body must "
            "exist before it is named."
        ),
        ("field", "emulation_year"),
    ),
    ProblemType(
        "not-acceptable",
        (406,),
        N_("No acceptable representation"),
        N_("`Accept` admits none of the media types the resource is served in (`available`)."),
        N_("Ask for one of `available` in `Accept`, or with `?format=` where the operation takes it."),
        ("available",),
    ),
    ProblemType(
        "payload-too-large",
        (413,),
        N_("Body too large"),
        N_(
            "The body is larger than the service takes (`MAX_REQUEST_BYTES`, or the larger limit "
            "of the figures batch), or an XLSX batch unpacks to more than `max_unpacked_bytes`; "
            "nothing was applied."
        ),
        N_("Send a smaller body: split a batch into several."),
        ("max_unpacked_bytes",),
    ),
    ProblemType(
        "too-many-rows",
        (413,),
        N_("Too many rows in a batch"),
        N_("A figures batch holds more rows than a batch may (`max_rows`); nothing was applied."),
        N_("Split the batch into batches of at most `max_rows` rows."),
        ("max_rows",),
    ),
    ProblemType(
        "unsupported-media-type",
        (415,),
        N_("Unsupported media type"),
        N_("The body's `Content-Type` is not one the operation takes (`detail` names them)."),
        N_("Send the body in a media type the operation takes, with its `Content-Type`."),
    ),
    ProblemType(
        "unsupported-content-encoding",
        (415,),
        N_("Compressed body refused"),
        N_(
            "The body has a `Content-Encoding` (gzip, …): the service takes bodies as they are, so "
            "that none can inflate past the size limit. The answer says `Accept-Encoding: identity`."
        ),
        N_("Send the body uncompressed, without `Content-Encoding`."),
    ),
    ProblemType(
        "unsupported-document-type",
        (415,),
        N_("Document type not accepted"),
        N_("An award's dossier document of a media type the service does not keep (`allowed_media_types`)."),
        N_("Convert the document to one of `allowed_media_types` (PDF, for instance) and upload it again."),
        ("allowed_media_types",),
    ),
    ProblemType(
        "validation",
        (422,),
        N_("Invalid request"),
        N_(
            "The request does not fit the operation's schema: a missing or unknown field, a value "
            "of the wrong type or out of range. `errors` lists each, with its location (`loc`), "
            "a `message` in the request's language and Pydantic's error `type`."
        ),
        N_("Correct each field `errors` lists, then send the request again."),
        ("errors",),
    ),
    ProblemType(
        "unprocessable",
        (422,),
        N_("Request breaks a rule"),
        N_(
            "The request is well-formed but its content breaks a rule of the data: an unknown "
            "metric, a period out of order, a unit name no unit or several units answer to "
            "(`candidates`), a figures batch with bad rows (`rows`, `problem_count`, "
            "`more_problems`), or an `Idempotency-Key` already used with another request "
            "(`idempotency_key`)."
        ),
        _CORRECT,
        ("field", "candidates", "rows", "problem_count", "more_problems", "idempotency_key"),
    ),
    ProblemType(
        "invalid-data",
        (422,),
        N_("Value cannot be stored"),
        N_("A value cannot be stored as given (out of the database's range or format)."),
        _CORRECT,
    ),
    ProblemType(
        "reference-not-found",
        (422,),
        N_("Reference to a missing record"),
        N_("The change names a record that does not exist (a foreign key: `constraint` names it)."),
        N_("Create the record it names first, or name one that exists."),
        ("constraint",),
    ),
    ProblemType(
        "constraint-violated",
        (422,),
        N_("Rule of the data broken"),
        N_("The change breaks a check of the database (`constraint` names it)."),
        _CORRECT_DATA,
        ("constraint",),
    ),
    ProblemType(
        "precondition-required",
        (428,),
        N_("If-Match required"),
        N_(
            "A change to a versioned record needs `If-Match` with the ETag you last read, so that no one "
            "else's change is overwritten."
        ),
        N_("Read the record, then send the change with `If-Match` set to its ETag."),
    ),
    ProblemType(
        "rate-limited",
        (429,),
        N_("Too many requests"),
        N_(
            "The caller's budget of reads or writes is spent for now (per key and role; without a "
            "key, per client address). `Retry-After`, `RateLimit` and `RateLimit-Policy` say how "
            "long and how much."
        ),
        N_("Wait the `Retry-After` seconds; pace your requests to the budget `RateLimit-Policy` states."),
    ),
    ProblemType(
        "internal",
        (500,),
        N_("Unexpected error"),
        N_("The service met an error it did not expect; nothing was changed."),
        _REPORT,
    ),
    ProblemType(
        "database-unavailable",
        (503,),
        N_("Database unavailable"),
        N_(
            "The database is down, refused or dropped the connection, or did not answer in time; "
            "nothing was changed."
        ),
        _RETRY,
    ),
    ProblemType(
        "identity-provider-unavailable",
        (503,),
        N_("Identity provider unavailable"),
        N_(
            "The access token's issuer could not be reached for the keys that check it; the token "
            "may well be valid."
        ),
        _RETRY,
    ),
    # --- Versions and concurrency ---------------------------------------------------------------
    ProblemType(
        "precondition-failed",
        (412,),
        N_("Record changed since read"),
        N_(
            "`If-Match` names a version that is no longer the current one: someone changed the "
            "record since you read it (`current_etag` is the current ETag), or there is no record "
            "to match."
        ),
        _READ_AGAIN,
        ("current_etag",),
    ),
    ProblemType(
        "record-exists",
        (412,),
        N_("Record already exists"),
        N_("`If-None-Match: *` asked to create the record only, and it exists (`current_etag`)."),
        N_("Read the record, then replace it with `If-Match` set to its ETag, if you mean to."),
        ("current_etag",),
    ),
    ProblemType(
        "conflict",
        (409,),
        N_("Conflict with what is stored"),
        N_("The request conflicts with what is stored, for a reason no more specific type names."),
        _CORRECT_DATA,
    ),
    ProblemType(
        "concurrent-update",
        (409,),
        N_("Concurrent change"),
        N_("Another request changed the same data at the same moment; this one was undone."),
        N_("Send the request again (read the record first if it is versioned)."),
        ("constraint",),
    ),
    ProblemType(
        "already-exists",
        (409,),
        N_("Already exists"),
        N_("A record with the same unique key exists (`constraint` names the key)."),
        _EXISTING,
        ("constraint",),
    ),
    ProblemType(
        "overlapping-period",
        (409,),
        N_("Overlapping periods"),
        N_(
            "The period overlaps another one the data allows only once on any day (`constraint` names the "
            "rule)."
        ),
        _CORRECT_DATA,
        ("constraint",),
    ),
    # --- Units, lineage, clusters, memberships, leadership --------------------------------------
    ProblemType(
        "unit-code-taken",
        (409,),
        N_("Unit code in use"),
        N_(
            "The code already names another unit on some day of this unit's period: a code names one unit "
            "on any day."
        ),
        N_("Use another code, or first end the period of the unit that holds it."),
    ),
    ProblemType(
        "unit-not-in-period",
        (409,),
        N_("Unit does not exist then"),
        N_(
            "The unit does not exist on the days the request is about: a membership starting "
            "before the unit (`unit_valid_from`) or outliving it (`unit_valid_to`), a unit's "
            "closing that a membership would outlive (`conflicting_membership_id`), a succession "
            "naming a unit that does not exist that day, or figures for days outside the unit's "
            "life (`predecessors`, `successors`: whose figures cover them)."
        ),
        N_(
            "Keep the dates within the unit's life; for days after it ceased (or before it "
            "began), use its successors (or predecessors)."
        ),
        (
            "field",
            "unit_valid_from",
            "unit_valid_to",
            "conflicting_membership_id",
            "predecessors",
            "successors",
        ),
    ),
    ProblemType(
        "unit-already-ceased",
        (409,),
        N_("Unit already ceased"),
        N_("A succession names as predecessor a unit that has already ceased (`unit_id`)."),
        N_("Name the units that exist on the effective date; a ceased unit's successor, perhaps."),
        ("unit_id",),
    ),
    ProblemType(
        "succession-invalid",
        (409,),
        N_("Succession not possible"),
        N_(
            "A unit would succeed itself, be named twice among the successors, or the date cannot be an "
            "effective date."
        ),
        _CORRECT,
    ),
    ProblemType(
        "alias-exists",
        (409,),
        N_("Alias already recorded"),
        N_("The unit already has this alias (`existing_alias_id`)."),
        N_("Use the existing alias; to retire or correct it, change it (`active`, with `If-Match`)."),
        ("existing_alias_id",),
    ),
    ProblemType(
        "cluster-exists",
        (409,),
        N_("Cluster number in use"),
        N_("A cluster with this number already exists."),
        _EXISTING,
    ),
    ProblemType(
        "membership-overlap",
        (409,),
        N_("Overlapping memberships"),
        N_(
            "The unit would be in two clusters on some day: a unit is in at most one cluster on "
            "any day. `conflicting_membership_id` and `conflicting_membership` name the other "
            "membership."
        ),
        N_("End or correct the other membership first (with `If-Match`), then send the request again."),
        ("conflicting_membership_id", "conflicting_membership"),
    ),
    ProblemType(
        "leadership-needs-member",
        (409,),
        N_("Leader or deputy would leave"),
        N_(
            "The membership change would take a cluster-year's leader (Cụm trưởng) or deputy (Cụm "
            "phó) out of the cluster that year; `conflicting_leaderships` names those leaderships."
        ),
        N_("Change those leaderships first, then the membership."),
        ("conflicting_leaderships",),
    ),
    ProblemType(
        "period-reversed",
        (409,),
        N_("Period ends before it starts"),
        N_("The change would leave `valid_to` before `valid_from`."),
        _CORRECT,
        ("field",),
    ),
    ProblemType(
        "not-a-member",
        (409,),
        N_("Not a member that year"),
        N_(
            "A unit the request names (a leader or deputy, a covenant's or a conference's host, a "
            "chair, a scored unit, a unit of a pledge) is not a member of the cluster in that year "
            "(`field` names it)."
        ),
        N_("Name a member of the cluster that year, or first record the membership."),
        ("field",),
    ),
    ProblemType(
        "no-members-recorded",
        (409,),
        N_("No members recorded"),
        N_(
            "The rotation cannot suggest a leader: no members of the cluster are recorded for the "
            "year or the end of the previous one."
        ),
        N_("Record the cluster's memberships first."),
    ),
    # --- Conferences, metrics, covenants, pledges, figures --------------------------------------
    ProblemType(
        "conference-mismatch",
        (409,),
        N_("Conference of another cluster-year"),
        N_(
            "The record names a conference (`conference_id`) that does not exist or is not one of "
            "its cluster-year's."
        ),
        N_("Name a conference of the same cluster and year (list them), or none."),
        ("field",),
    ),
    ProblemType(
        "conference-outside-its-year",
        (422,),
        N_("Conference date out of its year"),
        N_(
            "A conference of a year is held in that year, the year before or the year after; this date is "
            "not."
        ),
        _CORRECT,
        ("field",),
    ),
    ProblemType(
        "metric-exists",
        (409,),
        N_("Metric key in use"),
        N_("The catalogue already has a metric with this key."),
        _EXISTING,
    ),
    ProblemType(
        "no-covenant",
        (409,),
        N_("No covenant recorded"),
        N_("Pledges belong to a covenant (giao ước thi đua), and none is recorded for the cluster-year."),
        N_("Record the covenant first, then its pledges."),
    ),
    ProblemType(
        "not-a-task",
        (409,),
        N_("Pledge is not a task"),
        N_(
            "A status is set only on a task pledge; an amount or a count is checked against the members' "
            "figures."
        ),
        N_("Set statuses on task pledges only."),
    ),
    ProblemType(
        "pledge-has-statuses",
        (409,),
        N_("Pledge has statuses"),
        N_(
            "The replacement would drop a pledge whose members have statuses, or make it other "
            "than a task (`field` names it)."
        ),
        N_("Keep that pledge at its position, as a task."),
        ("field",),
    ),
    ProblemType(
        "figures-conflict",
        (409,),
        N_("Batch conflicts with stored figures"),
        N_(
            "Every row a figures batch refused conflicts with what is stored (a stale "
            "`expected_version`, days outside the unit's life); nothing was applied. `rows` "
            "lists them, `problem_count` counts them, `more_problems` sums up the rest."
        ),
        N_("Read the figures the rows name, correct those rows, then send the whole batch again."),
        ("rows", "problem_count", "more_problems"),
    ),
    # --- Scoring --------------------------------------------------------------------------------
    ProblemType(
        "no-scoring-framework",
        (409,),
        N_("No scoring framework"),
        N_("The cluster-year has no scoring framework: there is nothing to score or rank against."),
        N_("Record the cluster-year's scoring framework first."),
    ),
    ProblemType(
        "scores-recorded",
        (409,),
        N_("Scores already recorded"),
        N_(
            "The framework's replacement would drop a scorer or a criterion that has points, or "
            "lower a maximum below points recorded (`field`)."
        ),
        N_("Keep them, or first correct the score sheets that hold those points."),
        ("field",),
    ),
    ProblemType(
        "standings-frozen",
        (409,),
        N_("Standings frozen"),
        N_(
            "The cluster-year's standings are frozen (`freeze_number`): the framework and the "
            "scores do not change until an admin thaws them."
        ),
        N_("Ask an admin to thaw the freeze (with a reason), if the change is due."),
        ("freeze_number",),
    ),
    ProblemType(
        "freeze-already-thawed",
        (409,),
        N_("Freeze already thawed"),
        N_("The freeze (`freeze_number`) was already thawed."),
        N_("Nothing to do: read the standings' freezes to see the current state."),
        ("freeze_number",),
    ),
    # --- Rules, awards --------------------------------------------------------------------------
    ProblemType(
        "no-rule-set",
        (409,),
        N_("No rule set for the year"),
        N_(
            "No rule set covers the emulation year (`emulation_year`): the rules are recorded from "
            "2024 on, and none is invented for other years."
        ),
        N_("Use a year a rule set covers (`GET /v1/rule-sets`)."),
        ("emulation_year",),
    ),
    ProblemType(
        "rule-refused",
        (409,),
        N_("Refused by a rule"),
        N_(
            "A rule of the year's rule set refuses the nomination: `rule` names it, `basis` and "
            "`confidence` say where it comes from, `facts` what it found, and `rule_checks` lists "
            "every check beside it."
        ),
        N_(
            "Nothing to retry: the nomination does not meet the rule. If the facts were wrong, correct them "
            "first."
        ),
        ("rule", "basis", "confidence", "facts", "rule_checks"),
    ),
    ProblemType(
        "award-exists",
        (409,),
        N_("Achievement already awarded"),
        N_(
            "Another award of this type already recognises the unit's year: one achievement, one award "
            "(`rule`)."
        ),
        N_("Read the unit's awards; refuse or revoke the other one first if it is wrong."),
        ("rule",),
    ),
    ProblemType(
        "vote-required",
        (409,),
        N_("Nomination needs a vote"),
        N_(
            "The award type is nominated by a cluster's vote (the Government and the Ministry "
            "flags): closing the vote nominates, not a direct request."
        ),
        N_("Hold and close the vote; only an admin's attested record (with `source`) is created directly."),
        ("field",),
    ),
    ProblemType(
        "vote-mismatch",
        (409,),
        N_("Vote does not match the nomination"),
        N_(
            "The vote the nomination names was held by another cluster, for another award or year, "
            "does not have the unit among its candidates, or relied on other standings (`field`)."
        ),
        N_("Name the vote that nominated this unit for this award and year."),
        ("field",),
    ),
    ProblemType(
        "set-by-vote",
        (422,),
        N_("Field set by the vote"),
        N_(
            "The nomination gives `rank`, `vote_id` or `standings_version` (`field`): they are "
            "recorded by the vote that nominates, from the frozen standings it relied on."
        ),
        N_("Leave that field out."),
        ("field",),
    ),
    ProblemType(
        "set-by-transition",
        (422,),
        N_("Field set by a transition"),
        N_(
            "The nomination gives what belongs to a decision (a status other than nominated, a "
            "decision's number or authority; `field`): a decision is recorded by its transition."
        ),
        N_("Leave that field out and record the decision with `POST /v1/awards/{id}/transitions`."),
        ("field",),
    ),
    ProblemType(
        "rank-not-stated",
        (422,),
        N_("Rank not stated by the source"),
        N_("An attested record gives a rank only when its source states it (`source.facts.rank: stated`)."),
        N_("Leave `rank` out, or cite a source that states it."),
        ("field",),
    ),
    ProblemType(
        "decision-not-stated",
        (422,),
        N_("Decision not stated by the source"),
        N_(
            "An attested record gives a decision's number or authority only when its source states "
            "the decision (`source.facts.decision`)."
        ),
        N_("Leave that field out, or cite a source that states the decision."),
        ("field",),
    ),
    ProblemType(
        "transition-not-allowed",
        (409,),
        N_("Transition not allowed"),
        N_(
            "The award cannot move from its status to the one asked; `allowed_transitions` lists where it "
            "can."
        ),
        N_("Choose one of `allowed_transitions`, or read the award: someone may have moved it already."),
        ("allowed_transitions",),
    ),
    ProblemType(
        "step-out-of-order",
        (409,),
        N_("Step dated before the previous one"),
        N_("An award's step may not be dated before its previous step (`field`)."),
        _CORRECT,
        ("field",),
    ),
    # --- Votes ----------------------------------------------------------------------------------
    ProblemType(
        "standings-not-frozen",
        (409,),
        N_("Standings not frozen"),
        N_(
            "A vote for an award that needs the candidates' rank relies on frozen standings, and "
            "the cluster-year's are not frozen (`rule` names the rule that needs the rank)."
        ),
        N_("Freeze the standings (`POST …/standings/freezes`), then create the vote."),
        ("rule",),
    ),
    ProblemType(
        "no-voters",
        (409,),
        N_("Nobody could vote"),
        N_("The cluster has no member that year that exists on the day of the vote."),
        N_("Record the cluster's memberships, or check the vote's year and day."),
    ),
    ProblemType(
        "round-not-open",
        (409,),
        N_("Round not open"),
        N_("The vote has no open round, or the round named is not the open one."),
        N_("Read the vote for its current round; open another round if the rules allow."),
        ("field",),
    ),
    ProblemType(
        "not-a-voter",
        (409,),
        N_("Not a voter"),
        N_("The attendance names units that are not voters of this vote (`field`)."),
        _CORRECT,
        ("field",),
    ),
    ProblemType(
        "written-votes-not-counted",
        (409,),
        N_("Written votes not counted"),
        N_("The vote's rule set does not count written votes of absent voters (`rule`)."),
        N_("Leave out `written`: those voters vote only if present."),
        ("field", "rule"),
    ),
    ProblemType(
        "already-voted",
        (409,),
        N_("Already voted"),
        N_(
            "The units named (`field`) have already voted in this round: one ballot per voter, and it was "
            "counted."
        ),
        N_("Nothing to retry: the first ballot counts."),
        ("field",),
    ),
    ProblemType(
        "not-present",
        (409,),
        N_("Voter not present"),
        N_(
            "Ballots are cast for units not recorded as present (or voting in writing) in the round "
            "(`field`)."
        ),
        N_("Record their attendance first, or leave them out."),
        ("field",),
    ),
    ProblemType(
        "self-approval-refused",
        (409,),
        N_("Self-approval not allowed"),
        N_("The vote's rule set does not let a unit approve itself (`rule`)."),
        N_("Cast the ballot without the voting unit among its approvals."),
        ("rule",),
    ),
    ProblemType(
        "ballot-invalid",
        (409,),
        N_("Ballot not valid"),
        N_(
            "A ballot approves more candidates than there are seats, or a unit that is not a candidate of "
            "the round."
        ),
        _CORRECT,
        ("field",),
    ),
    ProblemType(
        "ballot-count-mismatch",
        (409,),
        N_("Ballot count does not match"),
        N_(
            "When the round was closed, its ballots did not add up: a ballot is still being "
            "counted (close again in a moment), or one was removed from the database (the round "
            "is not counted)."
        ),
        N_(
            "Close again in a moment; if it persists, report it with the `request_id`: the round's ballots "
            "were tampered with."
        ),
    ),
    ProblemType(
        "ballot-seal-broken",
        (409,),
        N_("Sealed ballot altered"),
        N_(
            "A sealed ballot does not open under the key it names: it was altered in the database. The "
            "round is not counted."
        ),
        _REPORT,
    ),
    ProblemType(
        "ballot-seal-key-mismatch",
        (503,),
        N_("Ballot seal key missing"),
        N_("The round's ballots were sealed with a key this instance does not hold: a setting to fix."),
        N_(
            "Report it: the operators add the key to `BALLOT_SEAL_PREVIOUS_KEYS`; then close the round again."
        ),
    ),
    ProblemType(
        "ballot-not-counted",
        (503,),
        N_("Ballot not recorded"),
        N_("The ballot could not be recorded for now."),
        N_("Cast it again after `Retry-After`: had it been recorded after all, the answer says so."),
    ),
    ProblemType(
        "tie-unresolved",
        (409,),
        N_("Tie not resolved"),
        N_(
            "Candidates (`tied`) are tied across the last seat, and the rule set's tie-breakers do "
            "not settle it."
        ),
        N_("Close the round again with the chair's choice (`chair_choice`) among `tied`."),
        ("tied",),
    ),
    ProblemType(
        "no-further-round",
        (409,),
        N_("No further round"),
        N_("The vote cannot have another round: its last round is open, void, or the last its rules allow."),
        N_("Close the open round first, or stop: the rules allow no other."),
    ),
    ProblemType(
        "no-candidate-left",
        (409,),
        N_("No candidate left"),
        N_("No candidate is left for another round of the vote."),
        N_("Nothing to retry: the vote is over."),
    ),
    # --- Keys, people ---------------------------------------------------------------------------
    ProblemType(
        "self-revocation",
        (409,),
        N_("A key revoking itself"),
        N_("A key cannot revoke itself (an admin would lock themselves out)."),
        N_("Revoke it with another admin key."),
    ),
    ProblemType(
        "person-exists",
        (409,),
        N_("Person already registered"),
        N_("The people register already holds this person of this identity provider (`existing_person_id`)."),
        N_("Read and change that person (with `If-Match`) instead of adding them again."),
        ("existing_person_id",),
    ),
)

PROBLEM_TYPES: Mapping[str, ProblemType] = MappingProxyType({t.slug: t for t in _TYPES})
"""By slug, in the order above (the request's shape, then versions, then each feature)."""
