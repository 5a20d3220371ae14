"""Kluis kernel: settings, database, keys, history, mail, tasks and the web shell."""

import warnings

# authlib prefers the `httpx2` fork and warns when it finds httpx; we stay on httpx, which
# respx (our HTTP test double) and the rest of the stack use. authlib turns its own warnings
# to "always" when its `deprecate` module is first imported, in front of any filter made
# before: so it is imported here first, and our filter goes in front of its.
import authlib.deprecate  # noqa: F401

warnings.filterwarnings("ignore", message="The httpx module is deprecated")
