"""The leaderships' table, `Leadership`, is defined in `app.memberships.models`: a membership
change must keep every leader and deputy a member, so memberships read it, and the memberships
package must not import this one (which imports memberships). Imported here for `app.models`
and for this feature's modules."""

from app.memberships.models import Leadership

__all__ = ["Leadership"]
