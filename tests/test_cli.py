"""``cnis-crawler``: its commands listed with a line each, its version, plain help texts."""

from __future__ import annotations

import pytest

from cnis_crawler.tools.cli import COMMANDS, main


def test_help_lists_each_command_with_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    width = max(map(len, COMMANDS))
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name:{width}} {summary}" in shown
    assert "scrapy crawl cnis" in shown


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("cnis-crawler 0.")


def test_an_unknown_command_is_named_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exprot"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("cnis-crawler: unknown command 'exprot'\nusage: cnis-crawler <command>")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_texts_carry_no_rest_markup(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert "``" not in shown
    assert ":mod:" not in shown
    assert ":func:" not in shown
