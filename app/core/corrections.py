"""The body of a PATCH: a correction of a versioned record."""

from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from app.core.i18n import _
from app.core.types import not_null


class Correction(BaseModel):
    """At least one field; a field marked `json_schema_extra=not_null` may be left out but not
    set to null (the others, such as a note or an end date, may be cleared with null)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(_("Give at least one field to change."))
        for field in self.model_fields_set:
            if getattr(self, field) is None and type(self).model_fields[field].json_schema_extra is not_null:
                raise ValueError(_("{field} cannot be null.", field=field))
        return self
