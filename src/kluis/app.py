"""The composition root: builds every service from the settings and assembles the app."""

from __future__ import annotations

import ctypes
import gc
import importlib
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from acts import NotaryRegister, OfficeAccess, OfficeVault, Seals
from acts.admin import OfficeAdminPages
from acts.api_clients import OfficeClients
from acts.deeds import Deeds
from acts.deeds.pages import DeedPages
from acts.deeds.routes import DeedController, OfficeDeedController
from acts.dossiers.access import DossierAccess
from acts.dossiers.company_routes import CompanyController, CompanyPages
from acts.dossiers.pages import DossierPages
from acts.dossiers.routes import DossierController
from acts.dossiers.services import DossierServices, build_dossiers
from acts.oauth import office_software_middleware, token_endpoint
from acts.pages import OfficePages
from acts.questionnaires.pages import QuestionnairePages
from acts.questionnaires.routes import QuestionnaireController
from acts.questionnaires.service import Questionnaires
from acts.routes import OfficeController, OfficeVaultController, seal_keys
from idp_bridge import Identity, build_identity
from idp_bridge.dev_idp import DevIdentityProvider, DevIdentityProviderController
from idp_bridge.history import Histories, HistoryApi, HistoryPages
from idp_bridge.inbox import NotificationController, NotificationPages
from idp_bridge.notifications import Notifications
from idp_bridge.routes import (
    AuthController,
    MeController,
    PagesController,
    SamlController,
    identity_middleware,
    jwks,
)
from kluis import audit
from kluis import db as database
from kluis.demo import load_demo
from kluis.hooks import Hooks
from kluis.keys import KeyProvider, key_provider_from
from kluis.logs import configure_logging
from kluis.mail import DevelopmentOutbox, outbox_path
from kluis.redis_client import redis_from
from kluis.settings import Settings, get_settings
from kluis.tasks import Tasks
from kluis.web import (
    csrf_config,
    csrf_middleware,
    exception_handlers,
    security_headers,
    static_files,
    template_config,
)
from kluis.web.errors import refuse_nul
from kluis.web.health import health_handlers
from kluis.web.i18n import language_middleware
from kluis.web.observe import metrics_endpoint, observed
from kluis.web.openapi import document_refusals, openapi_config
from kluis.web.outbox import DevOutboxController
from kluis.web.ratelimit import RateLimiter
from succession import Succession, build_succession
from succession.pages import ChoicePages, DeskPages, EstatePages, InheritancePages
from succession.routes import SuccessionController
from vault import Contacts, Documents, Shares, build_documents
from vault.pages import SharingPages, VaultPages
from vault.routes import ContactController, DocumentController, ShareController

MODEL_MODULES = (
    "kluis.audit",
    "idp_bridge.models",
    "vault.models",
    "acts.models",
    "succession.models",
)
TEMPLATE_PACKAGES = ("idp_bridge", "vault", "acts", "succession")


def tune_malloc() -> None:
    """Let glibc keep and reuse the 0.5-1 MiB buffers every chunk of an upload needs.

    By default glibc maps each such buffer afresh and unmaps it again; the page faults cost
    about a third of a CPU-second per 256 MiB upload (docs/benchmarks.md). These are the
    `MALLOC_*_` tunables, set from inside so `kluis serve` needs no special environment.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 32 * 1024**2)
    libc.mallopt(m_trim_threshold, 256 * 1024**2)
    libc.mallopt(m_top_pad, 64 * 1024**2)


def import_all_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)


@dataclass
class Platform:
    """Every long-lived service, built once from the settings."""

    settings: Settings
    keys: KeyProvider
    engine: AsyncEngine
    session_maker: async_sessionmaker[AsyncSession]
    hooks: Hooks
    tasks: Tasks
    identity: Identity
    histories: Histories
    documents: Documents
    notifications: Notifications
    contacts: Contacts
    shares: Shares
    register: NotaryRegister
    seals: Seals
    office_vault: OfficeVault
    deeds: Deeds
    questionnaires: Questionnaires
    dossiers: DossierServices
    office_clients: OfficeClients
    succession: Succession
    dev_idp: DevIdentityProvider | None
    # The Redis every server process shares (rate limits, session cache); None without one.
    redis: Redis | None = None

    async def aclose(self) -> None:
        """Release what it holds: the locations' connections, the database pool, Redis,
        the identity providers' key files."""
        self.identity.close()
        await self.documents.engine.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


def build_platform(settings: Settings) -> Platform:
    import_all_models()
    keys = key_provider_from(settings)
    engine = database.create_engine(settings)
    register = NotaryRegister(keys, test_domains=settings.env != "production")
    seals = Seals(keys)
    hooks = Hooks(
        role_sources=[register.roles],
        seal_checker=seals.check,
        office_lookup=register.office_name,
    )
    tasks = Tasks(settings)
    redis = redis_from(settings)
    identity = build_identity(settings, keys, hooks, tasks=tasks, redis=redis)
    dev_idp = (
        DevIdentityProvider(settings, load_demo(settings.path(settings.demo_file)))
        if settings.dev_idp
        else None
    )
    session_maker = database.session_maker(engine, audit.anchoring_key(keys))
    documents = build_documents(settings, keys, hooks)
    notifications = Notifications(settings, tasks)
    contacts = Contacts(notifications)
    office_access = OfficeAccess(register)
    dossier_access = DossierAccess(office_access)
    shares = Shares(documents, contacts, notifications)
    return Platform(
        settings=settings,
        keys=keys,
        engine=engine,
        session_maker=session_maker,
        hooks=hooks,
        tasks=tasks,
        identity=identity,
        histories=Histories(session_maker),
        documents=documents,
        contacts=contacts,
        notifications=notifications,
        shares=shares,
        register=register,
        seals=seals,
        office_vault=OfficeVault(
            documents, register, seals, identity.people, notifications, office_access
        ),
        deeds=Deeds(documents, seals, notifications, keys, office_access),
        # -- questionnaires (issue 5, part 6) --
        questionnaires=Questionnaires(keys, documents, notifications, dossier_access),
        dossiers=build_dossiers(keys, dossier_access, documents, seals, notifications),
        office_clients=OfficeClients(),
        succession=build_succession(
            settings, keys, hooks, identity, documents, shares, notifications
        ),
        dev_idp=dev_idp,
        redis=redis,
    )


def _template_dirs() -> list[Any]:
    from importlib.resources import files

    return [files(package) / "templates" for package in TEMPLATE_PACKAGES]


def freeze_startup_objects() -> None:
    """Keep what start-up made (modules, routes, templates, mappers: some 300,000 objects)
    out of the garbage collector's full collections, which otherwise walk them all again
    and again: at 400 requests a second that was a 200 ms pause several times a second,
    every request waiting (bench/scale.py). They live as long as the process anyway."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    tune_malloc()
    configure_logging(settings)
    platform = build_platform(settings)

    async def ensure_relying_party_keys() -> None:
        async with platform.session_maker() as db:
            await platform.identity.rp_keys.ensure(db)

    csrf = csrf_config(settings, platform.keys)
    rate_limiter = RateLimiter.from_settings(settings.rate_limits, platform.redis)

    handlers: list[Any] = [
        AuthController,
        SamlController,
        MeController,
        PagesController,
        HistoryApi,
        HistoryPages,
        DocumentController,
        ContactController,
        ShareController,
        VaultPages,
        SharingPages,
        NotificationController,
        NotificationPages,
        OfficeController,
        OfficeVaultController,
        seal_keys,
        OfficePages,
        # the deed registry
        OfficeDeedController,
        DeedController,
        DeedPages,
        QuestionnaireController,
        QuestionnairePages,
        DossierController,
        DossierPages,
        CompanyController,
        CompanyPages,
        # The offices' own software: its token endpoint; the office's administration page.
        token_endpoint,
        OfficeAdminPages,
        SuccessionController,
        ChoicePages,
        InheritancePages,
        DeskPages,
        EstatePages,
        jwks,
        static_files(),
        # Operations: liveness, readiness, Prometheus.
        *health_handlers,
        metrics_endpoint,
    ]
    if platform.dev_idp is not None:
        handlers.append(DevIdentityProviderController)
    outbox = DevelopmentOutbox(outbox_path(settings)) if settings.mail.mailer == "outbox" else None
    if outbox is not None:
        handlers.append(DevOutboxController)

    def constant(value: Any) -> Provide:
        return Provide(lambda: value, sync_to_thread=False)

    db_config = database.sqlalchemy_config(platform.engine, audit.anchoring_key(platform.keys))
    app = Litestar(
        route_handlers=handlers,
        plugins=[SQLAlchemyPlugin(config=db_config)],
        dependencies={
            "settings": constant(settings),
            "broker": constant(platform.identity.broker),
            "sessions": constant(platform.identity.sessions),
            "people": constant(platform.identity.people),
            "emails": constant(platform.identity.emails),
            "histories": constant(platform.histories),
            "documents": constant(platform.documents),
            # Not "notifications": a body field of that name (PATCH /api/v1/me) would then be
            # taken for the dependency by Litestar, and its refusal become a 500.
            "inbox": constant(platform.notifications),
            "contacts": constant(platform.contacts),
            "shares": constant(platform.shares),
            "register": constant(platform.register),
            "seals": constant(platform.seals),
            "office_vault": constant(platform.office_vault),
            "deeds": constant(platform.deeds),
            "questionnaires": constant(platform.questionnaires),
            "dossiers": constant(platform.dossiers.dossiers),
            "dossier_files": constant(platform.dossiers.files),
            "dossier_messages": constant(platform.dossiers.messages),
            "companies": constant(platform.dossiers.companies),
            "succession": constant(platform.succession),
            "dev_idp": constant(platform.dev_idp),
            "outbox": constant(outbox),
        },
        middleware=[
            DefineMiddleware(language_middleware(settings.languages, settings.default_language)),
            # Logins per address, before any session is read.
            DefineMiddleware(rate_limiter.login_middleware),
            DefineMiddleware(identity_middleware),
            # An office's software: a bearer token instead of a session cookie.
            DefineMiddleware(office_software_middleware),
            # The API per session or client (found by the two above).
            DefineMiddleware(rate_limiter.api_middleware),
            # Innermost: CSRF for cookie-authenticated requests (not for bearer-token ones).
            csrf_middleware(settings, csrf),
        ],
        template_config=template_config(settings, _template_dirs()),
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        before_request=refuse_nul,
        openapi_config=openapi_config(),
        logging_config=None,  # configure_logging did it: no second root handler
        on_startup=[ensure_relying_party_keys, freeze_startup_objects],
        on_shutdown=[platform.aclose],
        state=State(
            {
                "settings": settings,
                "platform": platform,
                "identity": platform.identity,
                "notifications": platform.notifications,
                "db_config": db_config,
                "rate_limiter": rate_limiter,
                "trusted_networks": rate_limiter.networks,
                "csrf_config": csrf,
            }
        ),
        debug=False,
    )
    # Around Litestar's routing and its last-resort error pages, so every answer has them:
    # the security headers (and the request's script nonce); outermost, request ids, the
    # access log and HTTP metrics.
    app.asgi_handler = observed(security_headers(settings)(app.asgi_handler))
    document_refusals(app.openapi_schema)
    return app
