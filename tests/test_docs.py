"""The README documents every command, option, setting and exit status."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml
from pydantic import BaseModel

from arxiv_digest import errors
from arxiv_digest.cli import main
from arxiv_digest.config import Config
from tests.test_init import schema_defaults

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def setting_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += setting_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("key", setting_keys(Config))
def test_every_setting_is_in_the_configuration_reference(key: str) -> None:
    assert f"| `{key}` |" in README


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_is_documented(name: str) -> None:
    command = main.commands[name]
    assert f"`digest {name}" in README
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.name != "help":
            assert any(flag in README for flag in parameter.opts), parameter.opts


@pytest.mark.parametrize(
    "status", [errors.EXIT_OK, errors.EXIT_FAILURE, errors.EXIT_BAD_INPUT, errors.EXIT_INCOMPLETE]
)
def test_every_exit_status_is_documented(status: int) -> None:
    assert f"\n| {status} | " in README


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "\n    bash .ci/run\n" in README
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().endswith("pytest")


# Defaults the reference describes in words rather than as a value.
DESCRIBED = {"llm.base_url": "unset", "llm.temperature": "unset",
             "llm.input_price_per_million": "unset", "llm.output_price_per_million": "unset",
             "triage.topics": "audio and speech, 13 topics"}  # fmt: skip


@pytest.mark.parametrize("key", setting_keys(Config))
def test_the_configuration_reference_gives_the_schemas_default(key: str) -> None:
    row = re.search(rf"^\| `{re.escape(key)}` \| (.+?) \|", README, re.MULTILINE)
    assert row is not None, key
    written = row.group(1)
    default = schema_defaults()[key]
    if key in DESCRIBED:
        assert written == DESCRIBED[key]
        assert default is None or len(default) == 13  # type: ignore[arg-type]
    else:
        assert written.startswith("`") and written.endswith("`"), written
        assert yaml.safe_load(written.strip("`")) == default, key


def test_the_architecture_map_names_every_module_as_the_tree_has_it() -> None:
    section = README[README.index("## Architecture") : README.index("## How it works")]
    src = Path(__file__).parents[1] / "src" / "arxiv_digest"
    mapped, folder = set(), ""
    for line in section.splitlines():
        if not line.startswith("    "):
            continue
        if found := re.fullmatch(r" {4}(\w+)/\s.*", line):
            folder = found.group(1) + "/"
        elif not line.startswith("      "):
            folder = ""
        mapped |= {folder + name for name in re.findall(r"\b(\w+\.py)\b", line)}
    modules = {
        path.relative_to(src).as_posix()
        for path in src.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert mapped == modules
