"""The two messages of a model request, rendered from a task's prompt template."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TypedDict

import jinja2

from arxiv_digest.errors import DigestError
from arxiv_digest.models import Paper
from arxiv_digest.templating import get_template


class Prompt(TypedDict):
    system: str
    user: str


def render_prompt(
    environment: jinja2.Environment,
    name: str,
    paper: Paper,
    text: str | None = None,
    values: Mapping[str, object] | None = None,
) -> Prompt:
    """The two messages of a model request, from the prompt template `name`."""
    template = get_template(environment, name)
    missing = [block for block in ("system", "user") if block not in template.blocks]
    if missing:
        raise DigestError(f"template {name}: add the missing {{% block {missing[0]} %}}")
    context = {**(values or {}), "paper": paper, "text": text}
    try:
        parts = {
            block: "".join(template.blocks[block](template.new_context(context))).strip()
            for block in ("system", "user")
        }
    except jinja2.TemplateError as error:
        raise DigestError(f"template {name}: {error}") from None
    return Prompt(system=parts["system"], user=parts["user"])


def prompt_sha256(prompt: Prompt, model: str) -> str:
    payload = json.dumps([model, prompt["system"], prompt["user"]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
