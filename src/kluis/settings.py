"""One typed settings object: `config/<env>.toml`, then `KLUIS_*` environment variables.

Nothing else in the code base reads `os.environ`. Nested settings are reached from the
environment with a double underscore: `KLUIS_SESSION__IDLE_MINUTES=5`,
`KLUIS_PROVIDERS__ITSME__CLIENT_ID=...`. Every setting is documented in `config/README.md`.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from cryptography import x509

from kluis.errors import ConfigurationError

Environment = Literal["development", "test", "production"]
LevelOfAssurance = Literal["low", "substantial", "high"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"


class SessionSettings(msgspec.Struct, kw_only=True):
    idle_minutes: int = 15
    absolute_hours: int = 8
    login_attempt_minutes: int = 10


class LocationSettings(msgspec.Struct, kw_only=True):
    """One storage location: a local directory (a disk) or an S3 bucket (a site).

    `s3` credentials belong in the environment, not in a file: the whole list as JSON in
    `KLUIS_VAULT__LOCATIONS`, or left empty for the usual `AWS_*` variables (config/README.md).
    """

    kind: Literal["local", "s3"] = "local"
    path: str = ""  # local: the directory
    endpoint_url: str = ""  # s3: empty means AWS itself
    bucket: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = ""

    def __post_init__(self) -> None:
        if self.kind == "s3" and not self.bucket:
            raise ValueError("an s3 location needs a bucket")
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise ValueError("give both access_key_id and secret_access_key, or neither")


def _default_locations() -> list[LocationSettings]:
    return [LocationSettings(path=f"var/locations/{n}") for n in (1, 2, 3)]


def _default_tiers() -> dict[str, int]:
    return {"250MB": 250 * 1000**2, "500MB": 500 * 1000**2, "1GB": 1000**3}


class VaultSettings(msgspec.Struct, kw_only=True):
    # Every citizen's room, unless an operator gave them one of the `quota_tiers`.
    quota_bytes: int = 1024**3
    quota_tiers: dict[str, int] = msgspec.field(default_factory=_default_tiers)
    # The largest single upload; also the clamd stream and scan limits.
    max_upload_bytes: int = 1024**3
    chunk_bytes: int = 1024**2
    fragments_needed: int = 2  # k: any k fragments rebuild a chunk
    fragments_total: int = 3  # n: one per location
    locations: list[LocationSettings] = msgspec.field(default_factory=_default_locations)
    # `unix:///path` or `tcp://host:port`, or several, comma-separated (a pool); empty
    # means the development scanner.
    clamd_url: str = ""
    # Start a project-local clamd (development, when ClamAV is installed).
    local_clamd: bool = False
    scan_timeout_seconds: float = 120.0


class MailSettings(msgspec.Struct, kw_only=True):
    """Outgoing e-mail. `outbox` keeps mail in a file for the developer (refused in
    production); `smtp` sends it. The SMTP password belongs in the environment."""

    mailer: Literal["outbox", "smtp"] = "outbox"
    from_address: str = "Kluis <kluis@localhost>"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    # A CA bundle to verify the SMTP server with; empty means the system's trust store.
    smtp_ca_file: str = ""
    smtp_timeout_seconds: float = 30.0
    # A mail the server cannot take now is retried after 30 s, 60 s, … at most 10 minutes
    # apart: 300 retries wait about two days before giving up.
    retry_first_seconds: float = 30.0
    retry_max_seconds: float = 600.0
    max_retries: int = 300
    confirmation_link_hours: int = 48


class TaskSettings(msgspec.Struct, kw_only=True):
    """Celery. An empty `broker_url` is the embedded broker: files under `data_dir`."""

    broker_url: str = ""
    # How often workers look for new work on the embedded broker.
    poll_seconds: float = 1.0
    # How often `kluis beat` runs the succession sweep (timers of days and months).
    sweep_seconds: float = 300.0


class RateLimitSettings(msgspec.Struct, kw_only=True):
    """Requests per window: login starts and callbacks per client address; the API per
    session, per office-software client, else per address (docs/redis.md)."""

    login_requests: int = 20
    api_requests: int = 600
    window_seconds: int = 60
    # The reverse proxies whose X-Forwarded-For is believed (addresses or networks, e.g.
    # "10.0.0.0/24"); empty means the connection's own address is the client's.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if min(self.login_requests, self.api_requests, self.window_seconds) < 1:
            raise ValueError("rate limits and their window must be at least 1")
        for proxy in self.trusted_proxies:
            ipaddress.ip_network(proxy, strict=False)  # a ValueError names the bad one


class OpsSettings(msgspec.Struct, kw_only=True):
    """Health, metrics and logs for the people who run the platform (config/README.md)."""

    # The bearer token Prometheus sends to `/metrics` (from the environment). Without one,
    # `/metrics` answers only outside production.
    metrics_token: str = ""
    # How long each readiness check (database, Redis, clamd, a location) may take.
    check_timeout_seconds: float = 2.0


class _Provider(msgspec.Struct, kw_only=True, tag_field="kind"):
    """What every identity provider has, whatever its protocol."""

    label: str
    # The provider's level names (`acr` values, AuthnContextClassRefs) → ours; unmapped
    # ones are "low".
    loa: dict[str, LevelOfAssurance] = msgspec.field(default_factory=dict)
    min_loa: LevelOfAssurance = "substantial"
    clock_skew_seconds: int = 120
    development: bool = False
    show_on_landing: bool = True


class ProviderSettings(_Provider, kw_only=True, tag="oidc"):
    """An OpenID Connect provider, configured entirely here (see config/README.md)."""

    discovery_url: str
    client_id: str
    client_auth: Literal["private_key_jwt", "client_secret_basic"] = "private_key_jwt"
    client_secret: str | None = None
    scopes: list[str] = msgspec.field(default_factory=lambda: ["openid"])
    claims_request: dict[str, Any] | None = None
    acr_values: list[str] = msgspec.field(default_factory=list)
    request_object: Literal["none", "signed", "signed+encrypted"] = "none"
    id_token_encrypted: bool = False
    userinfo_encrypted: bool = False
    use_userinfo: bool = True
    nrn_claim: str = "egovNRN"
    given_name_claim: str = "given_name"
    surname_claim: str = "family_name"
    birth_date_claim: str | None = "birthdate"
    email_claim: str | None = "email"
    language_claim: str | None = "locale"
    signing_algorithms: list[str] = msgspec.field(default_factory=lambda: ["RS256", "PS256"])
    max_token_age_seconds: int = 600

    @property
    def url(self) -> str:
        """Where the provider lives (its origin may receive our logout redirect)."""
        return self.discovery_url

    def check(self, name: str) -> None:
        missing = [field for field in ("client_id", "discovery_url") if not getattr(self, field)]
        if missing:
            raise ConfigurationError(f"provider {name!r} needs {' and '.join(missing)}")
        if self.client_auth == "client_secret_basic" and not self.client_secret:
            raise ConfigurationError(f"provider {name!r}: client_secret_basic needs a secret")


class SamlProviderSettings(_Provider, kw_only=True, tag="saml"):
    """A SAML 2.0 identity provider (the federal service's SAML flavour, an eIDAS node),
    configured here and by its metadata (config/README.md, docs/identity.md)."""

    metadata_url: str
    # The identity provider's entity id; empty takes the only one the metadata describes.
    idp_entity_id: str = ""
    # Our entity id; empty is `{base_url}/auth/saml/<name>/metadata`.
    entity_id: str = ""
    name_id_format: str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    authn_context_class_refs: list[str] = msgspec.field(default_factory=list)
    authn_context_comparison: Literal["exact", "minimum", "better", "maximum"] = "minimum"
    force_authn: bool = False
    # eIDAS: the SPType and RequestedAttributes extensions of the AuthnRequest.
    eidas_sp_type: Literal["", "public", "private"] = ""
    eidas_requested_attributes: dict[str, bool] = msgspec.field(default_factory=dict)
    nrn_attribute: str = "egovNRN"
    # "eidas": PersonIdentifier as `<issuing country>/BE/<number>`.
    nrn_format: Literal["plain", "eidas"] = "plain"
    given_name_attribute: str = "givenName"
    surname_attribute: str = "surname"
    birth_date_attribute: str | None = None
    email_attribute: str | None = "mail"
    language_attribute: str | None = "PrefLanguage"
    metadata_max_age_seconds: int = 3600
    # The PEM certificate the provider signs its metadata with (eIDAS nodes and federations
    # publish one): metadata that is not signed by it, whole, is refused. Empty trusts the
    # metadata by its HTTPS address alone.
    metadata_certificate: str = ""

    @property
    def url(self) -> str:
        return self.metadata_url

    def check(self, name: str) -> None:
        if not self.metadata_url:
            raise ConfigurationError(f"provider {name!r} needs metadata_url")
        if shutil.which("xmlsec1") is None:
            raise ConfigurationError(
                f"provider {name!r}: SAML needs the xmlsec1 command (Debian: apt install xmlsec1)"
            )
        if self.metadata_certificate:
            try:
                x509.load_pem_x509_certificate(self.metadata_certificate.encode())
            except ValueError as exc:
                raise ConfigurationError(
                    f"provider {name!r}: metadata_certificate is not a PEM certificate"
                ) from exc


AnyProviderSettings = ProviderSettings | SamlProviderSettings


class Pkcs11Settings(msgspec.Struct, kw_only=True):
    """The key provider on a PKCS#11 token (docs/keys.md). The PIN only ever comes from
    `KLUIS_PKCS11__PIN`: a settings file that names one is refused."""

    module: str = "/usr/lib/softhsm/libsofthsm2.so"
    token_label: str = "kluis"  # noqa: S105 - a label, not a secret
    pin: str = ""
    # Keys are `{label_prefix}-master-k1`, `-index`, `-root`: several platforms can share a token.
    label_prefix: str = "kluis"

    def __repr__(self) -> str:  # the PIN stays out of tracebacks and logged settings
        return (
            f"Pkcs11Settings(module={self.module!r}, token_label={self.token_label!r}, "
            f"pin={'<set>' if self.pin else '<empty>'}, label_prefix={self.label_prefix!r})"
        )


class Settings(msgspec.Struct, kw_only=True):
    env: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    database_url: str = "sqlite+aiosqlite:///var/kluis.db"
    data_dir: str = "var"
    key_provider: Literal["local-file", "pkcs11"] = "local-file"
    key_file: str = "var/keys.json"
    allow_local_key_file: bool = False
    pkcs11: Pkcs11Settings = msgspec.field(default_factory=Pkcs11Settings)
    languages: list[str] = msgspec.field(default_factory=lambda: ["nl", "fr", "en", "de"])
    default_language: str = "nl"
    # The time zone of the citizens' pages and exports (the API speaks UTC).
    time_zone: str = "Europe/Brussels"
    session: SessionSettings = msgspec.field(default_factory=SessionSettings)
    providers: dict[str, AnyProviderSettings] = msgspec.field(default_factory=dict)
    vault: VaultSettings = msgspec.field(default_factory=VaultSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    tasks: TaskSettings = msgspec.field(default_factory=TaskSettings)
    # Redis for what every server process must share: rate limits and sessions.
    redis_url: str = ""
    rate_limits: RateLimitSettings = msgspec.field(default_factory=RateLimitSettings)
    dev_idp: bool = False
    demo_file: str = "config/demo.toml"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    ops: OpsSettings = msgspec.field(default_factory=OpsSettings)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def session_cookie(self) -> str:
        # `__Host-` needs Secure; browsers only allow the plain name on http://127.0.0.1.
        return "__Host-kluis" if self.secure_cookies else "kluis_session"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def path(self, value: str) -> Path:
        """A settings path, relative to the project root unless absolute."""
        p = Path(value)
        return p if p.is_absolute() else PROJECT_ROOT / p

    def development_stand_ins(self) -> list[str]:
        found = []
        if self.dev_idp:
            found.append("development identity provider (dev_idp)")
        found += [
            f"provider {name!r} marked development"
            for name, p in self.providers.items()
            if p.development
        ]
        if self.key_provider == "local-file" and not self.allow_local_key_file:
            found.append("local key file without allow_local_key_file")
        if not self.vault.clamd_url:
            found.append("development scanner (test signatures only)")
        elif self.vault.local_clamd:
            found.append("project-local clamd (test signatures only)")
        if self.mail.mailer == "outbox":
            found.append("development outbox (e-mail is kept, not sent)")
        if not self.tasks.broker_url:
            found.append("embedded task broker (no tasks.broker_url)")
        if not self.redis_url:
            found.append("per-process rate limits and sessions (no redis_url)")
        return found

    def check(self) -> None:
        """Refuse settings that must never run, whatever the environment says."""
        if self.env == "production":
            stand_ins = self.development_stand_ins()
            if stand_ins:
                raise ConfigurationError(
                    "production refuses development stand-ins: " + "; ".join(stand_ins)
                )
            if not self.secure_cookies:
                raise ConfigurationError("production needs an https:// public_url")
        vault = self.vault
        if not 1 <= vault.fragments_needed <= vault.fragments_total <= 255:
            raise ConfigurationError("vault: need 1 <= fragments_needed <= fragments_total")
        if len(vault.locations) != vault.fragments_total:
            raise ConfigurationError("vault: one location per fragment (fragments_total)")
        if self.key_provider == "pkcs11" and not (self.pkcs11.pin and self.pkcs11.token_label):
            raise ConfigurationError("pkcs11: give token_label, and the PIN as KLUIS_PKCS11__PIN")
        mail = self.mail
        if mail.mailer == "smtp" and not (mail.smtp_host and mail.from_address):
            raise ConfigurationError("mail: the smtp mailer needs smtp_host and from_address")
        if bool(mail.smtp_username) != bool(mail.smtp_password):
            raise ConfigurationError("mail: give both smtp_username and smtp_password, or neither")
        if self.default_language not in self.languages:
            raise ConfigurationError("default_language must be one of languages")
        try:
            self.zone  # noqa: B018 - loading it is the check
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise ConfigurationError(f"time_zone {self.time_zone!r} is unknown") from exc
        for name, p in self.providers.items():
            p.check(name)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _from_environ(environ: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("KLUIS_") or name == "KLUIS_ENV":
            continue
        path = name.removeprefix("KLUIS_").lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        parsed: Any = value
        if value.startswith(("[", "{")):
            parsed = msgspec.json.decode(value)
        node[path[-1]] = parsed
    return tree


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("KLUIS_ENV", overrides.get("env", "development"))
    file = CONFIG_DIR / f"{env}.toml"
    if not file.exists():
        raise ConfigurationError(f"no settings file for KLUIS_ENV={env!r} ({file})")
    data = tomllib.loads(file.read_text())
    if "pin" in data.get("pkcs11", {}):
        raise ConfigurationError(f"{file}: the PKCS#11 PIN belongs in KLUIS_PKCS11__PIN only")
    data = _merge(data, _from_environ(environ))
    data = _merge(data, overrides)
    data["env"] = env
    data["providers"] = {
        name: _with_profile(name, provider) for name, provider in data.get("providers", {}).items()
    }
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"invalid settings: {exc}") from exc
    for provider in settings.providers.values():
        if isinstance(provider, ProviderSettings):
            provider.discovery_url = provider.discovery_url.replace("{base_url}", settings.base_url)
    settings.check()
    return settings


def _with_profile(name: str, provider: dict[str, Any]) -> dict[str, Any]:
    """A provider's settings over its shared profile (`config/providers/<profile>.toml`)."""
    profile = provider.pop("profile", None)
    if profile is not None:
        file = CONFIG_DIR / "providers" / f"{profile}.toml"
        if not file.is_file():
            raise ConfigurationError(f"provider {name!r}: no profile {profile!r} ({file})")
        provider = _merge(tomllib.loads(file.read_text()), provider)
    return {"kind": "oidc", **provider}


@cache
def get_settings() -> Settings:
    return load_settings()
