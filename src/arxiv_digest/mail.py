"""`digest mail`: a day's digest by email, a thin writer of the day's view.

The message has an HTML part (a Jinja template, its stylesheet inlined into each element
by css-inline, since mail readers drop `<style>`) and a plain-text part; the top picks come
first when the site ranks papers (`interests`), then every paper with its Chinese title,
one-line summary and a link to its page on the site. It goes by SMTP with STARTTLS or TLS,
the login from the environment, to `mail.to`; a failure names the step that failed. A day
is sent once: the state file (`mail.state_file`, committed by the nightly job) remembers
it. An empty day is sent only when asked; a day whose answers wait in a provider's batch
only once a build has collected them, so that a reader never gets half a digest. Without a
date, the days of the past week that were never sent go too (a night whose mail failed, a
day that waited on its batch).
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from arxiv_digest.config import Config, MailSettings
from arxiv_digest.errors import BadInputError, DigestError
from arxiv_digest.record import Records
from arxiv_digest.templating import template_environment
from arxiv_digest.views import urls
from arxiv_digest.views.day import ViewSettings, day_view, weekday
from arxiv_digest.views.jekyll import SiteIdentity
from arxiv_digest.views.ranking import Ranker, ranker_for, top_picks
from arxiv_digest.write import write_atomically

LOGIN_VARIABLES = ("DIGEST_SMTP_USERNAME", "DIGEST_SMTP_PASSWORD")
"""Where the SMTP login is read: the environment (the nightly job's repository secrets)."""


class MailError(DigestError):
    """The message could not be sent; the message names the step (connect, TLS, login, a
    refused recipient, the sending)."""


@dataclass(frozen=True)
class Sent:
    day: date
    recipients: tuple[str, ...]
    papers: int
    skipped: str = ""
    """Why nothing was sent ("" when it was)."""


def mail_day(
    day: date,
    config: Config,
    identity: SiteIdentity,
    environment: Mapping[str, str],
    *,
    force: bool = False,
    send_empty: bool = False,
) -> Sent:
    """Send `day`'s digest as `config.mail` says, once."""
    settings = config.mail
    _check(settings)
    if not identity.url:
        raise BadInputError(
            "mail links each paper to its page on the site: set url (and baseurl) in"
            " _config.yml, e.g. url: https://someone.github.io"
        )
    state = _read_state(settings.state_file)
    if day.isoformat() in state and not force:
        return Sent(day, (), 0, skipped=f"already sent on {state[day.isoformat()]['at']}")
    records = Records(config.output.records_dir)
    record = records.get(day)
    if record is None:
        raise BadInputError(f"{day}: no record; run `digest build --date {day}` first")
    view = day_view(record, ViewSettings.of(config))
    if not view.papers and not send_empty:
        return Sent(day, (), 0, skipped="no papers that day (--send-empty sends it anyway)")
    waiting = sum(1 for paper in view.papers if paper.pending)
    if waiting and not force:
        return Sent(
            day, (), 0,
            skipped=f"the answers of {waiting} of its papers wait in a provider's batch; it"
            " goes once a build collects them (--force sends it now)",
        )  # fmt: skip
    message = compose(view, config, identity, ranker_for(records, config.interests))
    _send(message, settings, environment)
    state[day.isoformat()] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "message_id": message["Message-ID"],
        "to": list(settings.to),
    }
    write_atomically(settings.state_file, json.dumps(state, ensure_ascii=False, indent=2) + "\n")
    return Sent(day, tuple(settings.to), len(view.papers))


CATCH_UP_DAYS = 6
"""How far back a mail without a date looks for days never sent (with today, a week)."""


def days_to_send(today: date, config: Config) -> list[date]:
    """Today, and the days of the past week with papers that were never sent, oldest
    first. A site that has never sent a mail looks back one day only (the day a first
    night in batch mode left waiting), not a week."""
    state = _read_state(config.mail.state_file)
    back_days = CATCH_UP_DAYS if state else 1
    records = Records(config.output.records_dir)
    earlier = [
        day
        for day in records.days()
        if 0 < (today - day).days <= back_days and day.isoformat() not in state
        for record in [records.get(day)]
        if record is not None and record.papers
    ]
    return [*earlier, today]


def compose(
    view: Any, config: Config, identity: SiteIdentity, ranker: Ranker | None
) -> EmailMessage:
    """The day's message: subject, HTML part with inlined styles, and a plain-text part."""
    import css_inline

    site_root = identity.absolute_base
    scores = ranker.relevance([paper.paper for paper in view.papers]) if ranker else []
    papers = []
    for index, paper in enumerate(view.papers):
        relevance = scores[index] if scores else None
        papers.append(
            {
                "title": " ".join(paper.paper.title.split()),
                "title_zh": paper.title_zh,
                "summary_zh": paper.summary_zh,
                "url": site_root + urls.paper_page(paper.paper.arxiv_id),
                "score": relevance.score if relevance else -1,
                "why": relevance.terms if relevance else (),
            }
        )
    picks = top_picks(papers, lambda paper: int(paper["score"]), config.interests.picks)
    subject = f"{identity.title} · {view.day.isoformat()} {weekday(view.day)} · {len(papers)} 篇"
    context = {
        "site": identity,
        "subject": subject,
        "day": view.day.isoformat(),
        "weekday": weekday(view.day),
        "day_url": site_root + urls.day(view.day),
        "in_window": view.in_window,
        "papers": papers,
        "picks": picks,
        "empty": "这一天没有新论文。",
    }
    templates = template_environment(config.output.templates_dir)
    text = templates.get_template("mail/day.txt.j2").render(context)
    html = css_inline.inline(templates.get_template("mail/day.html.j2").render(context))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((identity.title, config.mail.from_address))
    message["To"] = ", ".join(config.mail.to)
    message["Message-ID"] = make_msgid(domain=config.mail.from_address.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _check(settings: MailSettings) -> None:
    problems = [
        message
        for wanted, message in (
            (settings.to, "mail.to: no recipients; list at least one address"),
            (settings.from_address, "mail.from_address: set the sender's address"),
            (settings.host, "mail.host: set the SMTP server (e.g. smtp.example.org)"),
        )
        if not wanted
    ]
    if problems:
        raise BadInputError("; ".join(problems))


def _send(message: EmailMessage, settings: MailSettings, environment: Mapping[str, str]) -> None:
    """`message` by SMTP; MailError names the step that failed."""
    where = f"{settings.host}:{settings.port}"
    username, password = (environment.get(name, "") for name in LOGIN_VARIABLES)
    context = ssl.create_default_context(cafile=settings.ca_file)
    step = "connect"
    try:
        if settings.security == "tls":
            step = "connect (TLS)"
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=context
            )
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with server:
            if settings.security == "starttls":
                step = "STARTTLS"
                server.starttls(context=context)
            if username:
                step = "login"
                server.login(username, password)
            step = "sending"
            refused = server.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            f"mail: {where} refused the login of {username!r} ({error.smtp_code});"
            f" check {' and '.join(LOGIN_VARIABLES)}"
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        names = ", ".join(sorted(error.recipients))
        raise MailError(f"mail: {where} refused every recipient: {names}; check mail.to") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(
            f"mail: {where} does not offer STARTTLS; use mail.security: tls (port 465)"
        ) from None
    except ssl.SSLError as error:
        raise MailError(f"mail: {step} with {where} failed: {error.reason or error}") from None
    except smtplib.SMTPServerDisconnected:
        advice = (
            f"a refused login often ends so; check {' and '.join(LOGIN_VARIABLES)}"
            if step == "login"
            else "try again"
        )
        raise MailError(f"mail: {where} closed the connection during {step}; {advice}") from None
    except (smtplib.SMTPException, OSError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise MailError(f"mail: {step} with {where} failed: {reason}") from None
    if refused:
        raise MailError(
            f"mail: sent, but {where} refused {', '.join(sorted(refused))}; check mail.to"
        )


def _read_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise BadInputError(f"{path}: cannot be read ({error}); fix or remove it") from None
    if not isinstance(state, dict):
        raise BadInputError(f"{path}: not a mail state file; fix or remove it")
    return state
