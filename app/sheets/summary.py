"""The year sheet as a results screen shows it (`…/years/{year}/summary`): names, leader and deputy,
each member's rank, total and class, the awards, and the link to the whole sheet. A projection
of the sheet itself, so that it can never say something the sheet does not."""

from pydantic import BaseModel, ConfigDict, Field

from app.awards.models import AwardStatus
from app.core.text import fold
from app.scoring.schemas import Score
from app.sheets.schemas import ClusterYearSheet


class MemberLine(BaseModel):
    unit_id: int
    name: str
    rank: int | None = Field(description="Null: not ranked, or no standings for the year.")
    total: Score | None = Field(description="The combined total; null: not ranked.")
    class_name: str | None = Field(description="The class (xếp loại) the total earns.")


class AwardLine(BaseModel):
    award_type_name: str
    unit_name: str
    status: AwardStatus


class ClusterYearSummary(BaseModel):
    """A cluster-year on a phone's results screen: the members in rank order (by name when not
    ranked), who leads, the awards; everything else is at `href`."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "cluster_name": "Cụm thi đua số 5",
                "year": 2024,
                "leader": "Hưng Yên",
                "deputy": "Thái Bình",
                "standings_frozen": True,
                "members": [
                    {"unit_id": 36, "name": "Nam Định", "rank": 1, "total": 97.5, "class_name": "Xuất sắc"},
                    {"unit_id": 33, "name": "Hưng Yên", "rank": 2, "total": 96, "class_name": "Xuất sắc"},
                ],
                "awards": [
                    {
                        "award_type_name": "Cờ thi đua của Chính phủ",
                        "unit_name": "Nam Định",
                        "status": "nominated",
                    }
                ],
                "href": "/v1/clusters/5/years/2024",
            }
        }
    )

    cluster: int
    cluster_name: str
    year: int
    leader: str | None = Field(description="The leading unit's (Cụm trưởng) name.")
    deputy: str | None = Field(description="The deputy's (Cụm phó) name.")
    standings_frozen: bool | None = Field(description="Null: no standings for the year.")
    members: list[MemberLine]
    awards: list[AwardLine]
    href: str = Field(description="The whole sheet.")


def summary_of(sheet: ClusterYearSheet) -> ClusterYearSummary:
    rows = {row.unit_id: row for row in sheet.standings.rows} if sheet.standings else {}
    members: dict[int, MemberLine] = {}
    for member in sheet.members:
        unit = member.unit
        row = rows.get(unit.id)
        members.setdefault(
            unit.id,
            MemberLine(
                unit_id=unit.id,
                name=unit.name,
                rank=row.rank if row else None,
                total=row.combined_total if row else None,
                class_name=row.class_name if row else None,
            ),
        )
    ranked = sorted(members.values(), key=lambda m: (m.rank is None, m.rank or 0, fold(m.name), m.name))
    lead = sheet.leadership
    return ClusterYearSummary(
        cluster=sheet.cluster.number,
        cluster_name=sheet.cluster.name,
        year=sheet.year,
        leader=lead.leader.unit.name if lead else None,
        deputy=lead.deputy.unit.name if lead and lead.deputy else None,
        standings_frozen=sheet.standings.frozen if sheet.standings else None,
        members=ranked,
        awards=[
            AwardLine(award_type_name=a.award_type_name, unit_name=a.unit.name, status=a.status)
            for a in sheet.awards
        ],
        href=f"/v1/clusters/{sheet.cluster.number}/years/{sheet.year}",
    )


class ClusterYearItem(BaseModel):
    year: int
    href: str = Field(description="The year's sheet.")
    etag: str = Field(description="The sheet's current ETag (send it in `If-None-Match`).")
    summary_href: str = Field(description="The year's summary (`getClusterYearSummary`).")
    summary_etag: str = Field(description="The summary's current ETag.")


class ClusterYearList(BaseModel):
    """A cluster's years, the latest first: not paged (a cluster has a few dozen at most)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "items": [
                    {
                        "year": 2025,
                        "href": "/v1/clusters/5/years/2025",
                        "etag": '"9c4f0b7e2a1d4c3b8e6f5a2d1c0b9e8f-vi"',
                        "summary_href": "/v1/clusters/5/years/2025/summary",
                        "summary_etag": '"3e1a9d7c5b2f4e6a8c0d1b3f5e7a9c2d-vi"',
                    }
                ],
            }
        }
    )

    cluster: int
    items: list[ClusterYearItem]
