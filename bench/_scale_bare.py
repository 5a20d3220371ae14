"""The scale benchmark's floor: a bare Litestar app on granian, answering the benchmark's
paths with the JSON the platform gave for them (captured by bench/scale.py into the file
`BENCH_BARE_ANSWERS` names), serialized per request as the platform does, with no session,
database or keys behind it.

    BENCH_BARE_ANSWERS=answers.json KLUIS_PORT=8001 python bench/_scale_bare.py WORKERS
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, get, post
from litestar.response import Redirect

ANSWERS: dict[str, Any] = json.loads(Path(os.environ["BENCH_BARE_ANSWERS"]).read_text())


@get(["/api/v1/documents", "/api/v1/me", "/api/v1/usage", "/api/v1/history"])
async def answer(request: Request[Any, Any, Any]) -> Any:
    return ANSWERS[request.url.path]


@post("/api/v1/estates/lookup", status_code=200)
async def lookup(data: dict[str, str]) -> Any:
    return ANSWERS["/api/v1/estates/lookup"]


@get("/auth/callback/itsme")
async def callback() -> Redirect:
    return Redirect("/")


app = Litestar([answer, lookup, callback])


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    # The port as `kluis serve` takes it, so bench/scale.py starts both the same way.
    port, workers = int(os.environ["KLUIS_PORT"]), int(sys.argv[1])
    # The options `kluis serve` gives granian.
    Granian(
        "_scale_bare:app",
        interface=Interfaces.ASGI,
        address="127.0.0.1",
        port=port,
        workers=workers,
        log_access=False,
        working_dir=Path(__file__).parent,
    ).serve()


if __name__ == "__main__":
    main()
