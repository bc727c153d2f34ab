"""`digest mail` through the installed command against a real SMTP server on loopback
(aiosmtpd, with STARTTLS and AUTH on a self-signed certificate): the message's parts, a day
sent once, an empty day, and each failing step (login, a refused recipient, a connection
dropped in the middle of the message) named."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests import corpus
from tests.conftest import Site

USER, PASSWORD = "digest-bot", "s3cret-Passw0rd"
TO = "reader@example.org"


@dataclass
class Mailbox:
    """What the server received, and how it behaves."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    drop_in_data: bool = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_in_data:
            server.transport.close()  # the relay goes away with the message half taken
            return "421 closing"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK: queued"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def mail_site(site: Site, port: int, cert: Path, **llm: Any) -> None:
    site.write_config(
        triage={"enabled": True},
        llm=llm,
        mail={"to": [TO], "from_address": "digest@example.org", "host": "127.0.0.1",
              "port": port, "security": "starttls", "ca_file": str(cert)},
    )  # fmt: skip
    (site.root / "_config.yml").write_text(
        "title: 音频速递\nurl: https://example.org\nbaseurl: /digest\n", encoding="utf-8"
    )
    site.digest_ok("build", "--date", corpus.DAY)


LOGIN = {"DIGEST_SMTP_USERNAME": USER, "DIGEST_SMTP_PASSWORD": PASSWORD}


def test_a_day_is_mailed_once_with_an_html_and_a_text_part(
    site: Site, smtp: tuple[Mailbox, int], certificate: tuple[Path, Path]
) -> None:
    mailbox, port = smtp
    mail_site(site, port, certificate[1])
    sent = site.digest("mail", "--date", corpus.DAY, env=LOGIN)
    assert sent.status == 0, sent.stderr
    assert sent.stderr.strip() == f"Mail for {corpus.DAY}: 4 papers sent to {TO}"
    assert PASSWORD not in sent.stdout + sent.stderr
    (message,) = mailbox.messages
    assert message["Subject"] == f"音频速递 · {corpus.DAY} 周五 · 4 篇" and message["To"] == TO
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "论文 2602.20005v1 的中文标题" in text and "本文提出一种音频方法并验证了效果。" in text
    assert "https://example.org/digest/papers/2602.20005/" in text
    # The stylesheet is in each element (mail readers drop <style>), the text as text.
    assert "<style" not in html and 'style="' in html
    assert 'href="https://example.org/digest/papers/2602.20003/"' in html
    assert "<script" not in html

    again = site.digest("mail", "--date", corpus.DAY, env=LOGIN)
    assert again.status == 0 and "not sent: already sent on" in again.stderr
    assert len(mailbox.messages) == 1
    forced = site.digest("mail", "--date", corpus.DAY, "--force", env=LOGIN)
    assert forced.status == 0 and len(mailbox.messages) == 2


def test_a_day_waiting_on_its_batch_goes_once_a_build_collects_it(
    site: Site, smtp: tuple[Mailbox, int], certificate: tuple[Path, Path]
) -> None:
    """Batch mode's nights: the first sends a batch, the second collects it and mails."""
    mailbox, port = smtp
    first_night = {**LOGIN, "DIGEST_NOW": "2026-02-13T01:30:00+00:00"}
    mail_site(site, port, certificate[1], mode="batch")
    waiting = site.digest("mail", env=first_night)
    assert waiting.status == 0, waiting.stderr
    assert waiting.stderr.strip() == (
        f"Mail for {corpus.DAY}: not sent: the answers of 4 of its papers wait in a provider's"
        " batch; it goes once a build collects them (--force sends it now)"
    )
    assert mailbox.messages == []

    second_night = {**LOGIN, "DIGEST_NOW": "2026-02-14T01:30:00+00:00"}
    site.model.batch_api.advance()
    site.digest_ok("build", "--refresh", "--date", "2026-02-14", env=second_night)
    caught_up = site.digest("mail", env=second_night)

    assert caught_up.status == 0, caught_up.stderr
    assert f"Mail for {corpus.DAY}: 4 papers sent to {TO}" in caught_up.stderr
    (message,) = mailbox.messages
    assert "论文 2602.20005v1 的中文标题" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    again = site.digest("mail", env=second_night)
    assert f"Mail for {corpus.DAY}" not in again.stderr and len(mailbox.messages) == 1


def test_an_empty_day_is_sent_only_when_asked(
    site: Site, smtp: tuple[Mailbox, int], certificate: tuple[Path, Path]
) -> None:
    mailbox, port = smtp
    mail_site(site, port, certificate[1])
    site.digest_ok("build", "--date", "2026-02-15")
    quiet = site.digest("mail", "--date", "2026-02-15", env=LOGIN)
    assert quiet.status == 0 and "not sent: no papers that day" in quiet.stderr
    assert mailbox.messages == []
    asked = site.digest("mail", "--date", "2026-02-15", "--send-empty", env=LOGIN)
    assert asked.status == 0 and len(mailbox.messages) == 1
    assert "这一天没有新论文。" in mailbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "login",
            "refused the login of 'digest-bot' (535); check DIGEST_SMTP_USERNAME and DIGEST_SMTP_PASSWORD",
        ),
        ("recipient", f"refused every recipient: {TO}; check mail.to"),
        ("dropped", "closed the connection during sending; try again"),
        ("untrusted", "STARTTLS with 127.0.0.1:"),
    ],
)
def test_each_failing_step_is_named_and_nothing_is_remembered(
    site: Site, smtp: tuple[Mailbox, int], certificate: tuple[Path, Path], case: str, expected: str
) -> None:
    mailbox, port = smtp
    mail_site(site, port, certificate[1])
    login = dict(LOGIN)
    if case == "login":
        login["DIGEST_SMTP_PASSWORD"] = "wrong"
    elif case == "recipient":
        mailbox.refuse.add(TO)
    elif case == "dropped":
        mailbox.drop_in_data = True
    else:  # the relay's certificate is not one the client trusts
        site.write_config(
            triage={"enabled": True},
            mail={"to": [TO], "from_address": "digest@example.org", "host": "127.0.0.1",
                  "port": port, "security": "starttls"},
        )  # fmt: skip
    failed = site.digest("mail", "--date", corpus.DAY, env=login)
    assert failed.status == 1, failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: mail: ") and expected in last, last
    assert "wrong" not in failed.stderr and PASSWORD not in failed.stderr
    assert mailbox.messages == [] and not (site.root / ".digest-mail.json").exists()


def test_the_hostile_corpus_reaches_no_mail_reader(tmp_path: Path) -> None:
    """The mail is an output of the day's view too: the hostile triage answers and titles
    are text in it, with no element or attribute off its template."""
    from html.parser import HTMLParser

    from arxiv_digest.mail import compose
    from arxiv_digest.views.day import ViewSettings, day_view
    from arxiv_digest.views.jekyll import SiteIdentity
    from tests import hostile
    from tests.inprocess import Bench

    bench = Bench.of(tmp_path, hostile.PAPERS)
    bench.model.answers = hostile.answers()
    bench.configure(
        llm={"max_attempts": 1, "require_chinese": False},
        triage={"enabled": True, "max_summary_chars": 200},
        mail={"to": [TO], "from_address": "digest@example.org", "host": "127.0.0.1"},
    )
    bench.build(hostile.DAY)
    view = day_view(bench.record(hostile.DAY), ViewSettings.of(bench.config))
    identity = SiteIdentity(title="速递", url="https://example.org", base_path="/d")
    message = compose(view, bench.config, identity, None)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    class Elements(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: set[str] = set()
            self.attributes: set[str] = set()
            self.hrefs: list[str] = []
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.add(tag)
            self.attributes.update(f"{tag}@{name}" for name, _ in attrs)
            self.hrefs += [value or "" for name, value in attrs if name == "href"]

        def handle_data(self, data: str) -> None:
            self.text += data

    found = Elements()
    found.feed(html)
    assert found.tags <= {"html", "head", "meta", "title", "body", "h1", "h2", "p", "a", "div"}
    assert found.attributes <= {"html@lang", "meta@charset", "a@href", "a@class", "a@style",
                                "div@class", "div@lang", "div@style", "p@class", "p@style",
                                "h1@style", "h2@style", "body@style"}  # fmt: skip
    assert all(href.startswith("https://example.org/d/") for href in found.hrefs), found.hrefs
    assert hostile.IFRAME in found.text and hostile.IFRAME in text  # shown, as text
