"""The key provider on a PKCS#11 token: an HSM in production, SoftHSM2 on a test machine.

The keys are made inside the token and never leave it (sensitive, not extractable); the
platform only asks the token to use them. They are found by label:

- `{prefix}-master-k1`, `-k2`, … AES-256 master keys: `seal` and `open` with CKM_AES_GCM
  (a random 12-byte nonce, the caller's associated data, a 128-bit tag). The highest number
  is current; older ones stay on the token to open what they sealed.
- `{prefix}-index`: a generic secret, CKM_SHA256_HMAC of `purpose:value` for blind indexes.
- `{prefix}-root`: a generic secret, CKM_SHA256_HMAC of the purpose for `derive_secret`.

Sealed values have the same layout as the local key file's (`base.py`).

One process logs in to the token once and keeps one session; threads take turns on it (see
`_calls`). A process forked after the login (a Celery pool) initializes the library again
before its first call. A session the token lost (an HSM restart, a dropped network HSM) is
replaced once.

The PIN comes from `KLUIS_PKCS11__PIN` and is never logged or shown; neither is any key.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pkcs11
from cryptography.exceptions import InvalidTag
from pkcs11 import Attribute, GCMParams, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from kluis.errors import ConfigurationError
from kluis.keys.base import (
    CURRENT_KEY_RECHECK_SECONDS,
    MASTER_KEY_ID,
    NONCE_BYTES,
    KeyInfo,
    join_sealed,
    split_sealed,
)

T = TypeVar("T")

# Errors after which a session (or the login) is gone: open a new one and try once more.
_LOST = (
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.UserNotLoggedIn,
    p11.DeviceRemoved,
    p11.TokenNotPresent,
    p11.KeyHandleInvalid,
    p11.ObjectHandleInvalid,
)
# What tokens answer to a ciphertext, tag or associated data that is not what was sealed
# (SoftHSM2 says CKR_GENERAL_ERROR, others CKR_ENCRYPTED_DATA_INVALID): the same
# `InvalidTag` the local key file raises.
_NOT_AUTHENTIC = (
    p11.EncryptedDataInvalid,
    p11.EncryptedDataLenRange,
    p11.GeneralError,
    p11.FunctionFailed,
)
_PIN_REFUSED = (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinExpired, p11.PinLocked)


def _template(**capabilities: bool) -> dict[Attribute, Any]:
    """A key that lives on the token, can be used only after login, and cannot be read out."""
    template = {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.ENCRYPT: False,
        Attribute.DECRYPT: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
        Attribute.DERIVE: False,
    }
    template.update({getattr(Attribute, name.upper()): on for name, on in capabilities.items()})
    return template


# -- the process's connection to a token ------------------------------------------------

# python-pkcs11 initializes the library without locking arguments (C_Initialize(NULL)),
# which tells it the application will not call it from several threads at once; SoftHSM2
# then turns its own mutexes off. So every call into a library holds this lock. The calls are
# short (one AES-GCM or HMAC of a small value), and a process never holds it across an await.
_calls = threading.RLock()


def _new_lock_after_fork() -> None:
    global _calls
    _calls = threading.RLock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_new_lock_after_fork)

_libraries: dict[str, tuple[Any, int]] = {}  # module path -> (library, pid that initialized it)


def _library(module: str) -> Any:
    loaded = _libraries.get(module)
    if loaded is not None and loaded[1] != os.getpid():
        # Forked after the library was initialized: PKCS#11 wants C_Initialize again in the
        # child. Finalizing the parent's state fails in a library that resets itself on a
        # fork (SoftHSM2 with `library.reset_on_fork = true`): it is not initialized then.
        library = loaded[0]
        try:
            library.finalize()
        except p11.PKCS11Error:
            pass
        library.initialize()
        _libraries[module] = (library, os.getpid())
    elif loaded is None:
        if not os.path.isfile(module):
            raise ConfigurationError(f"pkcs11: no PKCS#11 module at {module}")
        try:
            _libraries[module] = (pkcs11.lib(module), os.getpid())
        except p11.PKCS11Error as exc:
            raise ConfigurationError(f"pkcs11: cannot load {module}: {exc!r}") from exc
    return _libraries[module][0]


class _Session:
    """One token session and the key handles it found (handles belong to their session)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._keys: dict[str, Any] = {}

    def key(self, label: str) -> Any:
        key = self._keys.get(label)
        if key is None:
            try:
                key = self.session.get_key(object_class=ObjectClass.SECRET_KEY, label=label)
            except p11.NoSuchKey:
                raise ConfigurationError(f"pkcs11: the token has no key {label!r}") from None
            except p11.MultipleObjectsReturned:
                raise ConfigurationError(f"pkcs11: several keys are labelled {label!r}") from None
            self._keys[label] = key
        return key

    def has_key(self, label: str) -> bool:
        """Whether the token holds a key so labelled: a search the token filters."""
        template = {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}
        return label in self._keys or bool(list(self.session.get_objects(template)))

    def labels(self) -> list[str]:
        return [
            str(found[Attribute.LABEL])
            for found in self.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        ]


class _Connection:
    """This process's login to one token: one session, used under `_calls`."""

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        self.pid = os.getpid()
        library = _library(module)
        try:
            self.token = library.get_token(token_label=token_label)
        except p11.NoSuchToken:
            raise ConfigurationError(
                f"pkcs11: no token labelled {token_label!r} in {module}"
            ) from None
        except p11.MultipleTokensReturned:
            raise ConfigurationError(
                f"pkcs11: several tokens are labelled {token_label!r} in {module}"
            ) from None
        try:
            # Kept open for the life of the process: closing it would log the process out.
            self.session = _Session(self.token.open(user_pin=pin))
        except p11.UserAlreadyLoggedIn:
            self.session = _Session(self.token.open())  # a new session after a lost one
        except _PIN_REFUSED as exc:
            raise ConfigurationError(
                f"pkcs11: token {token_label!r} refused the PIN ({type(exc).__name__})"
            ) from None

    def writer(self) -> _Session:
        """A read-write session for making keys; the caller closes it."""
        return _Session(self.token.open(rw=True))


_connections: dict[tuple[str, str], _Connection] = {}


def _connection(module: str, token_label: str, pin: str, *, lost: Any = None) -> _Connection:
    """This process's connection to the token; a new one after a fork, or if `lost` is the
    current one. Called holding `_calls`."""
    found = _connections.get((module, token_label))
    if found is None or found.pid != os.getpid() or found is lost:
        found = _Connection(module, token_label, pin)
        _connections[module, token_label] = found
    return found


# -- the key provider --------------------------------------------------------------------


class Pkcs11Keys:
    """The kernel's key provider on a PKCS#11 token.

    With `require_keys` (the platform) the token must hold every key (`kluis keys init`);
    without it (the operator's commands) the keys may still have to be made.
    """

    def __init__(
        self,
        module: str,
        token_label: str,
        pin: str,
        *,
        prefix: str = "kluis",
        require_keys: bool = True,
    ) -> None:
        self.module = module
        self.token_label = token_label
        self.prefix = prefix
        self._pin = pin
        self._secrets: dict[str, bytes] = {}
        self._current: str | None = None
        self._described_at = 0.0
        keys = self.describe()
        if require_keys:
            missing = self._missing(keys)
            if missing:
                raise ConfigurationError(
                    f"pkcs11: token {token_label!r} has no {', '.join(missing)}: "
                    "run `kluis keys init`"
                )

    def __repr__(self) -> str:
        return f"Pkcs11Keys({self.module!r}, token {self.token_label!r}, prefix {self.prefix!r})"

    def _label(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def _missing(self, keys: list[KeyInfo]) -> list[str]:
        kinds = {key.kind for key in keys}
        return [
            self._label(name)
            for kind, name in (("master", "master-k1"), ("index", "index"), ("root", "root"))
            if kind not in kinds
        ]

    def _call(self, work: Callable[[_Session], T]) -> T:
        """Run `work` on this process's session; once more on a new one if the token lost it."""
        with _calls:
            connection = _connection(self.module, self.token_label, self._pin)
            try:
                return work(connection.session)
            except _LOST:
                connection = _connection(self.module, self.token_label, self._pin, lost=connection)
                return work(connection.session)

    # -- the kernel's Protocol ----------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        if time.monotonic() - self._described_at > CURRENT_KEY_RECHECK_SECONDS:
            self._find_newer_master()
        key_id = self.current_key_id
        label = self._label(f"master-{key_id}")
        nonce = secrets.token_bytes(NONCE_BYTES)
        params = GCMParams(nonce, aad or None)
        ciphertext = self._call(
            lambda s: s.key(label).encrypt(
                plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=params
            )
        )
        return join_sealed(key_id, nonce, bytes(ciphertext))

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        key_id, nonce, ciphertext = split_sealed(sealed)
        label = self._label(f"master-{key_id}")
        params = GCMParams(nonce, aad or None)

        def decrypt(session: _Session) -> bytes:
            key = session.key(label)
            try:
                return bytes(
                    key.decrypt(ciphertext, mechanism=Mechanism.AES_GCM, mechanism_param=params)
                )
            except _NOT_AUTHENTIC as exc:
                raise InvalidTag from exc

        return self._call(decrypt)

    def blind_index(self, purpose: str, value: str) -> str:
        label = self._label("index")
        message = f"{purpose}:{value}".encode()
        digest = self._call(lambda s: s.key(label).sign(message, mechanism=Mechanism.SHA256_HMAC))
        return bytes(digest).hex()

    def derive_secret(self, purpose: str) -> bytes:
        secret = self._secrets.get(purpose)
        if secret is None:
            label = self._label("root")
            secret = bytes(
                self._call(
                    lambda s: s.key(label).sign(purpose.encode(), mechanism=Mechanism.SHA256_HMAC)
                )
            )
            self._secrets[purpose] = secret
        return secret

    def _find_newer_master(self) -> None:
        """A newer master key, made by `kluis keys rotate` in another process since: the
        next numbers are looked up by label, without listing every object on the token."""
        number = int(self.current_key_id[1:])

        def exists(n: int) -> bool:
            return self._call(lambda s: s.has_key(self._label(f"master-k{n}")))

        while exists(number + 1):
            number += 1
        self._current = f"k{number}"
        self._described_at = time.monotonic()

    # -- the operator's commands --------------------------------------------------------

    @property
    def current_key_id(self) -> str:
        if self._current is None:
            raise ConfigurationError(
                f"pkcs11: token {self.token_label!r} has no master key: run `kluis keys init`"
            )
        return self._current

    def describe(self) -> list[KeyInfo]:
        """The platform's keys on the token (labels with this provider's prefix)."""
        masters: list[tuple[int, str]] = []
        others: list[KeyInfo] = []
        for label in self._call(lambda s: s.labels()):
            mine = label.startswith(f"{self.prefix}-")
            name = label.removeprefix(f"{self.prefix}-") if mine else ""
            if name.startswith("master-") and MASTER_KEY_ID.fullmatch(name.removeprefix("master-")):
                key_id = name.removeprefix("master-")
                masters.append((int(key_id[1:]), key_id))
            elif name in ("index", "root"):
                others.append(KeyInfo(name, label, ""))  # type: ignore[arg-type]
        masters.sort()
        self._current = masters[-1][1] if masters else None
        self._described_at = time.monotonic()
        described = [
            KeyInfo("master", self._label(f"master-{key_id}"), key_id, key_id == self._current)
            for _, key_id in masters
        ]
        return described + sorted(others, key=lambda k: k.kind)

    def _generate(self, session: _Session, name: str) -> None:
        label = self._label(name)
        if name.startswith("master-"):
            session.session.generate_key(
                KeyType.AES,
                256,
                label=label,
                id=name.removeprefix("master-").encode(),
                store=True,
                template=_template(encrypt=True, decrypt=True),
            )
        else:
            session.session.generate_key(
                KeyType.GENERIC_SECRET,
                256,
                label=label,
                id=name.encode(),
                store=True,
                template=_template(sign=True, verify=True),
            )

    def _write(self, names: list[str]) -> None:
        with _calls:
            writer = _connection(self.module, self.token_label, self._pin).writer()
            try:
                for name in names:
                    self._generate(writer, name)
            finally:
                writer.session.close()

    def create_missing(self) -> list[KeyInfo]:
        missing = self._missing(self.describe())
        self._write([label.removeprefix(f"{self.prefix}-") for label in missing])
        return [key for key in self.describe() if key.label in missing]

    def rotate(self) -> KeyInfo:
        keys = self.describe()
        if self._current is None:
            raise ConfigurationError(
                f"pkcs11: token {self.token_label!r} has no master key: run `kluis keys init`"
            )
        number = max(int(key.key_id[1:]) for key in keys if key.kind == "master") + 1
        self._write([f"master-k{number}"])
        self.describe()
        return KeyInfo("master", self._label(f"master-k{number}"), f"k{number}", True)
