"""Kluis kernel: settings, database, keys, history, mail, tasks and the web shell."""

import warnings

# authlib prefers the `httpx2` fork and warns when it finds httpx; we stay on httpx, which
# respx (our HTTP test double) and the rest of the stack use.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
