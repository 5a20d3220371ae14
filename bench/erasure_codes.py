"""Erasure coding throughput: zfec against pyeclib (ISA-L), on the vault's 1 MiB chunks.

    .venv/bin/python bench/erasure_codes.py [--runs 5] [--iterations 200]

For each library and each k-of-n (2-of-3, 4-of-6): encode one encrypted chunk (1 MiB + the
16-byte GCM tag) into n shares, then decode it back from k shares, both from the k data
shares (nothing lost) and from the worst case (n - k data shares lost, parity used).
zfec is called as `vault.storage.fragments` calls it (pad, split into k pieces,
`Encoder(k, n).encode`); pyeclib's `ECDriver.encode` splits by itself and prefixes each
fragment with its own header. Reported: MiB of chunk per second, median of `--runs`.
Every decode is checked against the original once.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import _common as c

CHUNK = c.MiB + 16
SCHEMES = ((2, 3), (4, 6))
PYECLIB_TYPES = ("isa_l_rs_cauchy", "isa_l_rs_vand")


class Zfec:
    name = "zfec"

    def __init__(self, k: int, n: int) -> None:
        import zfec

        self.k, self.n, self.zfec = k, n, zfec

    def encode(self, data: bytes) -> list[bytes]:
        size = -(-len(data) // self.k)
        padded = data.ljust(size * self.k, b"\0")
        pieces = [padded[i * size : (i + 1) * size] for i in range(self.k)]
        return self.zfec.Encoder(self.k, self.n).encode(pieces)

    def decode(self, shares: dict[int, bytes], length: int) -> bytes:
        indexes = sorted(shares)[: self.k]
        pieces = self.zfec.Decoder(self.k, self.n).decode([shares[i] for i in indexes], indexes)
        return b"".join(pieces)[:length]


class Pyeclib:
    def __init__(self, k: int, n: int, ec_type: str) -> None:
        from pyeclib.ec_iface import ECDriver

        self.name = f"pyeclib {ec_type}"
        self.driver = ECDriver(k=k, m=n - k, ec_type=ec_type)

    def encode(self, data: bytes) -> list[bytes]:
        return self.driver.encode(data)

    def decode(self, shares: dict[int, bytes], length: int) -> bytes:
        return self.driver.decode([shares[i] for i in sorted(shares)])


def rate(work: Callable[[], object], iterations: int, runs: int) -> float:
    """Median MiB of chunk per second over `runs` timings of `iterations` calls."""
    speeds = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(iterations):
            work()
        speeds.append(iterations * CHUNK / c.MiB / (time.perf_counter() - started))
    return c.median(speeds)


def codecs(k: int, n: int) -> tuple[list[object], list[str]]:
    found: list[object] = [Zfec(k, n)]
    problems = []
    for ec_type in PYECLIB_TYPES:
        try:
            found.append(Pyeclib(k, n, ec_type))
        except Exception as exc:  # ImportError, or liberasurecode without that backend
            problems.append(f"pyeclib {ec_type}: {type(exc).__name__}: {exc}")
    return found, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    c.print_header("erasure coding of 1 MiB chunks: zfec vs pyeclib", "pyeclib")
    data = os.urandom(CHUNK)
    print(f"chunk: {CHUNK} bytes; MiB/s of chunk, median of {args.runs} x {args.iterations}")
    print()
    print(
        "| k-of-n | library | encode | decode (no loss) | decode (n-k data shares lost) "
        "| encode + decode (loss) |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for k, n in SCHEMES:
        found, problems = codecs(k, n)
        for problem in problems:
            print(f"| {k}-of-{n} | {problem} | | | | |")
        for codec in found:
            shares = dict(enumerate(codec.encode(data)))  # type: ignore[attr-defined]
            intact = {i: shares[i] for i in range(k)}
            lost = {i: shares[i] for i in range(n - k, n)}  # first n-k data shares gone
            for subset in (intact, lost):
                if codec.decode(subset, CHUNK) != data:  # type: ignore[attr-defined]
                    raise RuntimeError(f"{codec.name} {k}-of-{n} decoded other bytes")  # type: ignore[attr-defined]
            enc = rate(lambda codec=codec: codec.encode(data), args.iterations, args.runs)  # type: ignore[attr-defined]
            dec = rate(
                lambda codec=codec, s=intact: codec.decode(s, CHUNK),  # type: ignore[attr-defined]
                args.iterations,
                args.runs,
            )
            dec_lost = rate(
                lambda codec=codec, s=lost: codec.decode(s, CHUNK),  # type: ignore[attr-defined]
                args.iterations,
                args.runs,
            )
            both = 1 / (1 / enc + 1 / dec_lost)
            print(
                f"| {k}-of-{n} | {codec.name} | {enc:.0f} | {dec:.0f} | {dec_lost:.0f} "  # type: ignore[attr-defined]
                f"| {both:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
