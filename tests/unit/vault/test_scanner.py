"""The scanner against a real clamd loaded with the project's test signatures."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.conftest import TEST_MAX_UPLOAD
from tests.support import files
from tests.support.net import free_port
from vault.scanner import (
    ClamdScanner,
    DevelopmentScanner,
    MeasuredScanner,
    ScannerUnavailable,
    scan_bytes,
    scanner_from,
)


@pytest.fixture
def scanner(clamd) -> ClamdScanner:
    return ClamdScanner(clamd.url, timeout=30)


async def test_clean_file_is_clean(scanner):
    verdict = await scanner_verdict(scanner, files.pdf())
    assert verdict.clean


async def scanner_verdict(scanner, data: bytes):
    return await scan_bytes(scanner, data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(files.EICAR, id="bare"),
        pytest.param(files.zipped({"a.txt": files.EICAR}), id="zip"),
        pytest.param(files.tar_gz({"a.txt": files.EICAR}), id="tar.gz"),
        pytest.param(files.pdf(files.EICAR), id="pdf"),
        pytest.param(files.testfile("clam.7z"), id="7z"),
        pytest.param(files.testfile("clam.pdf"), id="clamav pdf"),
        pytest.param(files.testfile("clam.zip"), id="clamav zip"),
        # Unpacked, the member is larger than the upload cap: scanned whole all the same.
        pytest.param(files.padded_zip(2 * TEST_MAX_UPLOAD), id="zip, padded past the cap"),
    ],
)
async def test_test_signatures_are_found(scanner, data):
    verdict = await scan_bytes(scanner, data)
    assert not verdict.clean
    assert verdict.signature.startswith("Kluis.Test.")
    assert not verdict.unscannable


@pytest.mark.parametrize(
    ("data", "heuristic"),
    [
        pytest.param(files.nested_zip(24), "Heuristics.Limits.Exceeded", id="nested zip bomb"),
        pytest.param(files.crowded_zip(10_050), "Heuristics.Limits.Exceeded", id="too many"),
        pytest.param(files.encrypted_zip(), "Heuristics.Encrypted", id="encrypted zip"),
        pytest.param(
            files.padded_zip(8 * TEST_MAX_UPLOAD),
            "Heuristics.Limits.Exceeded.MaxScanSize",
            id="zip, padded past the scan limit",
        ),
    ],
)
async def test_what_clamd_cannot_look_into_is_refused(scanner, data, heuristic):
    verdict = await scan_bytes(scanner, data)
    assert not verdict.clean
    assert verdict.signature.startswith(heuristic)
    assert verdict.unscannable


async def test_unreachable_clamd_fails_closed(tmp_path):
    scanner = ClamdScanner(f"unix://{tmp_path}/nobody.sock", timeout=2)
    with pytest.raises(ScannerUnavailable) as refused:
        await scanner.open()
    assert refused.value.status == 503
    assert refused.value.type == "scanner-unavailable"


async def test_a_pool_passes_over_a_clamd_that_is_down(clamd, tmp_path):
    pool = ClamdScanner(f"unix://{tmp_path}/down.sock, {clamd.url}", timeout=30)
    assert pool.name == "clamd pool (2)"
    for _ in range(4):  # each member's turn comes, the one that is down included
        assert not (await scan_bytes(pool, files.EICAR)).clean
        assert (await scan_bytes(pool, files.pdf())).clean
    assert await pool.ping()


async def test_a_pool_with_no_clamd_up_fails_closed(tmp_path):
    pool = ClamdScanner(f"unix://{tmp_path}/a.sock,tcp://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ScannerUnavailable):
        await pool.open()
    assert not await pool.ping()


async def test_development_scanner_knows_the_test_signatures():
    scanner = DevelopmentScanner()
    assert not (await scan_bytes(scanner, b"x" * 5 + files.EICAR)).clean
    assert not (await scan_bytes(scanner, files.testfile("clam.exe"))).clean
    assert (await scan_bytes(scanner, files.pdf())).clean


async def test_development_scanner_finds_a_signature_across_chunks():
    data = b"a" * 100 + files.EICAR + b"b" * 100
    assert not (await scan_bytes(DevelopmentScanner(), data, chunk=120)).clean


async def test_ping_answers_for_a_running_clamd_and_the_development_scanner(scanner, tmp_path):
    assert await scanner.ping()
    assert await DevelopmentScanner().ping()
    assert not await ClamdScanner(f"unix://{tmp_path}/none.sock", timeout=2).ping()
    assert not await ClamdScanner("tcp://127.0.0.1", timeout=2).ping()  # no port: no clamd


def scans(verdict: str) -> tuple[float, float]:
    count = REGISTRY.get_sample_value("kluis_scans_total", {"verdict": verdict}) or 0.0
    timed = REGISTRY.get_sample_value("kluis_scan_duration_seconds_count", {"verdict": verdict})
    return count, timed or 0.0


async def test_measured_scans_are_counted_by_verdict_and_timed(scanner, tmp_path):
    measured = MeasuredScanner(scanner)
    assert measured.name == "clamd" and not measured.development and await measured.ping()
    cases = [
        (files.pdf(), "clean"),
        (files.EICAR, "infected"),
        (files.nested_zip(24), "unscannable"),
    ]
    for data, verdict in cases:
        before = scans(verdict)
        await scan_bytes(measured, data)
        assert scans(verdict) == (before[0] + 1, before[1] + 1), verdict
    before = scans("error")
    with pytest.raises(ScannerUnavailable):
        await MeasuredScanner(ClamdScanner(f"unix://{tmp_path}/none.sock", timeout=2)).open()
    assert scans("error") == (before[0] + 1, before[1] + 1)


def test_the_configured_scanner_is_measured(settings):
    assert isinstance(scanner_from(settings), MeasuredScanner)
