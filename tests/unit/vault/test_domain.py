from __future__ import annotations

import pytest

from kluis.errors import Invalid
from tests.support import files
from vault.domain import (
    FileTypeNotAllowed,
    UnscannableContent,
    check_content,
    check_extension,
    check_tags,
    clean_name,
)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "document-name-invalid"),
        ("..", "document-name-invalid"),
        ("../../etc/passwd.txt", "document-name-invalid"),
        ("a\\b.txt", "document-name-invalid"),
        ("bad\x00name.txt", "document-name-invalid"),
        ("line\nbreak.txt", "document-name-invalid"),
        ("rtl\u202etxt.exe", "document-name-invalid"),
        ("x" * 300 + ".pdf", "document-name-too-long"),
    ],
)
def test_bad_names_are_refused(name, reason):
    with pytest.raises(Invalid) as refused:
        clean_name(name)
    assert refused.value.type == reason


def test_names_keep_accents_and_spaces():
    assert clean_name("  Akte notaris Délégation 2024.pdf ") == "Akte notaris Délégation 2024.pdf"


@pytest.mark.parametrize("name", ["setup.exe", "script.sh", "noextension", ".pdf"])
def test_types_outside_the_allow_list_are_refused(name):
    with pytest.raises(FileTypeNotAllowed):
        check_extension(name)


@pytest.mark.parametrize(
    ("ext", "data", "media_type"),
    [
        ("pdf", files.pdf(), "application/pdf"),
        ("png", files.png(), "image/png"),
        (
            "docx",
            files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("zip", files.zipped({"a.txt": b"a"}), "application/zip"),
        ("txt", "Brief aan de notaris — één".encode(), "text/plain"),
        ("csv", b"a;b\n1;2\n", "text/csv"),
    ],
)
def test_extension_and_content_that_agree_are_accepted(ext, data, media_type):
    assert check_content(ext, data) == media_type


@pytest.mark.parametrize(
    ("ext", "data"),
    [
        ("docx", files.pdf()),  # a PDF renamed .docx
        ("pdf", files.png()),
        ("txt", b"MZ\x90\x00\x03\x00\x00\x00"),  # a binary renamed .txt
        ("png", b"not a picture at all"),
    ],
)
def test_extension_and_content_that_disagree_are_refused(ext, data):
    with pytest.raises(FileTypeNotAllowed) as refused:
        check_content(ext, data)
    assert refused.value.status == 415


def test_password_protected_office_file_is_unscannable():
    with pytest.raises(UnscannableContent) as refused:
        check_content("xlsx", files.password_protected_xlsx())
    assert refused.value.status == 422


def test_tags_are_checked_and_normalised():
    assert check_tags(["health", "family", "health"], [" huis ", "huis", ""]) == (
        ["family", "health"],
        ["huis"],
    )
    with pytest.raises(Invalid):
        check_tags(["garden"], [])
    with pytest.raises(Invalid):
        check_tags([], ["x" * 51])
