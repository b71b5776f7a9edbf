"""The floor of the app: what every feature uses and nothing of theirs."""

# Before any table is defined (every table's module imports `app.core`): the naming convention of
# the metadata they share.
from app.core import naming as naming
